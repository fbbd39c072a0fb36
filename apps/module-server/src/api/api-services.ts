// The module API (dc.moduleserver.v1, :17480): endpoints, test connection, sessions and their
// typed requests, events and alerts, administration — each call gated by one SPEC 1.3 permission.
import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { status } from '@grpc/grpc-js';
import { DomainError, FailedPrecondition, type GrpcServiceBinding, InvalidArgument, NotFound, Unimplemented } from '@dc/service-kit';
import type { Logger } from 'pino';
import type { Clock } from '../clock';
import { common, moduleserver as ms, type session as sessionPb } from '../contracts';
import { diagnose } from '../diagnosis/diagnose';
import type { CertificateSummary, ServerCertificates } from '../certificates/server-certificate';
import type { RevocationList } from '../enrolment/certificate-issuer';
import type { EventLog } from '../events/event-log';
import type { ControlChannelHub } from '../gateway/control-channels';
import type { Presence } from '../heartbeats/presence';
import type { BrokerMetrics } from '../metrics/broker-metrics';
import type { EndpointRecord, EndpointRegistry } from '../registry/endpoint-registry';
import { AsyncQueue } from '../sessions/async-queue';
import type { SessionBroker } from '../sessions/session-broker';
import type { SessionStore } from '../sessions/session-store';
import type { SettingsSource } from '../settings-link/settings-source';
import type { PermissionChecker } from './permission-checker';
import { makeRpc } from './rpc';
import { buildSupportPackage, CHUNK_BYTES, sha256 } from '../support-package/support-package';
import * as pb from './to-proto';
import { type Uninstaller, uninstallStatusProto } from '../uninstall/uninstaller';

export interface ApiDeps {
  readonly registry: EndpointRegistry;
  readonly events: EventLog;
  readonly sessions: SessionBroker;
  readonly sessionStore: SessionStore;
  readonly hub: ControlChannelHub;
  readonly presence: Presence;
  readonly settings: SettingsSource;
  readonly permissions: PermissionChecker;
  readonly revocation: RevocationList;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics?: BrokerMetrics;
  readonly version: string;
  readonly dataDir: string;
  /** SPEC 1.7.2: the live log level of this process. */
  readonly logLevel?: { get(): string; set(level: string): void };
  /** For the support package (SPEC 1.7.1): the effective config (redacted there) and recent log lines. */
  readonly support?: { readonly config?: unknown; readonly recentLogLines?: () => readonly string[] };
  /** SPEC 1.4.5: the gateway certificate in use and its renewal. */
  readonly certificates?: ServerCertificates;
  /** Clock skew beyond this is reported (TLS validity needs both clocks right). */
  readonly clockSkewToleranceMs?: number;
  /** SPEC 1.7.4 uninstall. */
  readonly uninstall?: Uninstaller;
}

/** A SessionError chunk from the endpoint, as the gRPC status of the same name. */
export class SessionRequestFailed extends DomainError {
  readonly code: status;
  constructor(error: sessionPb.SessionError) {
    super(error.field ? `${error.field}: ${error.message}` : error.message);
    const name = Object.keys(SESSION_CODE).find((k) => SESSION_CODE[k] === error.code);
    this.code = name ? (status[name as keyof typeof status] as status) : status.UNKNOWN;
  }
}
const SESSION_CODE: Record<string, number> = {
  INVALID_ARGUMENT: 1, NOT_FOUND: 2, PERMISSION_DENIED: 3, RESOURCE_EXHAUSTED: 4, FAILED_PRECONDITION: 5, UNAVAILABLE: 6,
  DEADLINE_EXCEEDED: 7, CANCELLED: 8, UNIMPLEMENTED: 9, INTERNAL: 10,
};

export function apiServices(deps: ApiDeps): GrpcServiceBinding[] {
  const rpc = makeRpc(deps.permissions, deps.log);
  const { registry, sessions, sessionStore, events, hub, clock } = deps;
  const hostOf = (clientId: string | null) => (clientId ? registry.get(clientId)?.hostname ?? '' : '');

  function targetString(t: ms.EndpointTarget | undefined): string {
    const v = t?.target?.value?.trim();
    if (!v) throw new InvalidArgument('target', 'must name an endpoint by client_id, ip_address or computer_name');
    return v;
  }
  function findEndpoint(t: ms.EndpointTarget | undefined): EndpointRecord {
    const target = targetString(t);
    const e = registry.find(target);
    if (!e) throw new NotFound(`no endpoint has client id, IP or computer name "${target}"`);
    return e;
  }
  function missedHeartbeats(e: EndpointRecord): number {
    if (e.lastHeartbeatAt === null) return 0;
    return Math.max(0, Math.floor((clock.now() - e.lastHeartbeatAt) / (deps.settings.heartbeatPolicy().intervalSeconds * 1000)));
  }
  const toEndpoint = (e: EndpointRecord) =>
    pb.endpoint(e, { inActionGroup: deps.settings.actionGroupMembership(e).member, missedHeartbeats: missedHeartbeats(e), openSessions: sessions.openSessionsOf(e.clientId) });
  const toSession = (s: ReturnType<SessionStore['require']>) => pb.session(s, registry.get(s.clientId), clock.now(), sessions.requestsInFlight(s.sessionId));

  /** Sends one request and yields its chunks; an error chunk becomes the matching gRPC status. */
  async function* relay(sessionId: string, payload: sessionPb.SessionRequest['payload'], timeoutMs: number, kind: string): AsyncGenerator<sessionPb.SessionResponse> {
    if (!sessionId) throw new InvalidArgument('session_id', 'is required');
    let outcome = 'ok';
    try {
      for await (const chunk of sessions.request(sessionId, payload, timeoutMs)) {
        if (chunk.payload?.$case === 'error') {
          outcome = 'error';
          throw new SessionRequestFailed(chunk.payload.value);
        }
        yield chunk;
      }
    } catch (err) {
      outcome = 'error';
      throw err;
    } finally {
      deps.metrics?.requestsRelayed.inc({ kind, outcome });
    }
  }
  async function single(sessionId: string, payload: sessionPb.SessionRequest['payload'], kind: string, timeoutMs = 60_000): Promise<sessionPb.SessionResponse> {
    let last: sessionPb.SessionResponse | undefined;
    for await (const chunk of relay(sessionId, payload, timeoutMs, kind)) last = chunk;
    if (!last) throw new FailedPrecondition(`the endpoint answered ${kind} with no response`);
    return last;
  }
  function pick<C extends NonNullable<sessionPb.SessionResponse['payload']>['$case']>(r: sessionPb.SessionResponse, c: C) {
    if (r.payload?.$case !== c) throw new FailedPrecondition(`the endpoint answered with ${r.payload?.$case ?? 'nothing'} where ${c} was expected`);
    return r.payload.value as Extract<NonNullable<sessionPb.SessionResponse['payload']>, { $case: C }>['value'];
  }

  const endpointService: ms.EndpointServiceServer = {
    listEndpoints: rpc.unary('/dc.moduleserver.v1.EndpointService/ListEndpoints', 'SESSION_READ', (req: ms.ListEndpointsRequest) => {
      const size = req.pageSize <= 0 ? 100 : Math.min(req.pageSize, 1000);
      const offset = req.pageToken ? Number(Buffer.from(req.pageToken, 'base64url').toString()) : 0;
      if (!Number.isInteger(offset) || offset < 0) throw new InvalidArgument('page_token', 'is not a token this server issued', req.pageToken);
      const contains = req.hostNameContains.toLowerCase();
      const all = registry
        .list()
        .filter((e) => e.enrolment === 'ENROLLED')
        .filter((e) => !contains || e.hostname.toLowerCase().includes(contains))
        .map(toEndpoint)
        .filter((e) => req.statuses.length === 0 || req.statuses.includes(e.status))
        .sort((a, b) => a.hostName.localeCompare(b.hostName) || a.clientId.localeCompare(b.clientId));
      const page = all.slice(offset, offset + size);
      return { endpoints: page, totalSize: all.length, nextPageToken: offset + size < all.length ? Buffer.from(String(offset + size)).toString('base64url') : '' };
    }),
    getEndpoint: rpc.unary('/dc.moduleserver.v1.EndpointService/GetEndpoint', 'SESSION_READ', (req: ms.GetEndpointRequest) => ({ endpoint: toEndpoint(findEndpoint(req.target)) })),
    testConnection: rpc.unary('/dc.moduleserver.v1.EndpointService/TestConnection', 'SESSION_WRITE', async (req: ms.TestConnectionRequest) => {
      const target = targetString(req.target);
      const timeoutMs = Math.min(pb.durationMs(req.timeout, 5000), 60_000);
      let e: EndpointRecord | undefined;
      try {
        e = registry.find(target);
      } catch (err) {
        const candidates = registry.list().filter((x) => x.ips.includes(target) || x.hostname.toLowerCase().split('.')[0] === target.toLowerCase().split('.')[0]).map((x) => x.clientId);
        const d = { verdict: 'AMBIGUOUS_TARGET' as const, summary: (err as Error).message, steps: [{ name: 'known endpoint', ok: false, detail: (err as Error).message }] };
        return { result: { $case: 'diagnosis' as const, value: pb.diagnosis(d, undefined, candidates) } };
      }
      if (e && hub.isConnected(e.clientId)) {
        try {
          const t0 = clock.now();
          const pong = await hub.ping(e.clientId, timeoutMs);
          const warnings: string[] = [];
          if (e.certNotAfter !== null && e.certNotAfter - clock.now() < 14 * 86_400_000) warnings.push(`certificate expires ${new Date(e.certNotAfter).toISOString()}`);
          const membership = deps.settings.actionGroupMembership(e);
          if (!membership.member) warnings.push(`not in the action group: ${membership.why}`);
          const skew = pong.endpointTime === null ? undefined : pong.endpointTime - (t0 + pong.rttMs / 2);
          return {
            result: {
              $case: 'online' as const,
              value: { clientId: e.clientId, hostName: e.hostname, roundTripTime: pb.duration(pong.rttMs), route: pb.route(e), clockSkew: skew === undefined ? undefined : pb.duration(skew), warnings },
            },
          };
        } catch (err) {
          const d = { verdict: 'TIMEOUT' as const, summary: `endpoint ${e.clientId} has a control channel but did not answer the ping: ${(err as Error).message}`, steps: [{ name: 'ping', ok: false, detail: (err as Error).message }] };
          return { result: { $case: 'diagnosis' as const, value: pb.diagnosis(d, e) } };
        }
      }
      const fqdnName = deps.settings.brokerFqdn();
      let fqdn: { name: string; resolves: boolean; detail: string } | undefined;
      if (fqdnName) {
        try {
          const addrs = await lookup(fqdnName, { all: true });
          fqdn = { name: fqdnName, resolves: true, detail: addrs.map((a) => a.address).join(', ') };
        } catch (err) {
          fqdn = { name: fqdnName, resolves: false, detail: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
        }
      }
      const d = diagnose({
        target, endpoint: e, now: clock.now(), revoked: e?.certSerial ? deps.revocation.isRevoked(e.certSerial) : false, fqdn, connected: false,
        clockSkewToleranceMs: deps.clockSkewToleranceMs ?? 60_000,
      });
      return { result: { $case: 'diagnosis' as const, value: pb.diagnosis(d, e) } };
    }),
    renewEndpointCertificates: rpc.unary('/dc.moduleserver.v1.EndpointService/RenewEndpointCertificates', 'SETTINGS_WRITE', (req: ms.RenewEndpointCertificatesRequest) => {
      const within = req.allExpiringWithin ? pb.durationMs(req.allExpiringWithin, 0) : undefined;
      const ids = req.clientIds.length > 0 ? req.clientIds : within !== undefined ? registry.list().filter((e) => e.certNotAfter !== null && e.certNotAfter - clock.now() < within).map((e) => e.clientId) : [];
      if (ids.length === 0 && req.clientIds.length === 0 && within === undefined) throw new InvalidArgument('client_ids', 'name endpoints, or set all_expiring_within');
      const actionIds: Record<string, string> = {};
      for (const id of ids) {
        registry.require(id);
        const actionId = randomUUID();
        try {
          hub.sendAction(id, { actionId, issuedTime: new Date(clock.now()), kind: { $case: 'renewCertificate', value: { reason: 'renewal requested by an operator' } } });
          actionIds[id] = actionId;
        } catch (err) {
          deps.log.info({ clientId: id, err: (err as Error).message }, 'could not send a RenewCertificate action');
        }
      }
      return { actionIds };
    }),
  };

  const S = '/dc.moduleserver.v1.SessionService/';
  const sessionService: ms.SessionServiceServer = {
    openSession: rpc.unary(`${S}OpenSession`, 'SESSION_WRITE', async (req: ms.OpenSessionRequest, ctx) => {
      const t0 = performance.now();
      let s = await sessions.open({ target: targetString(req.target), module: req.moduleName, requestedBy: ctx.principal.name, idleTimeoutMs: req.idleTimeout ? pb.durationMs(req.idleTimeout, 0) : undefined });
      if (req.waitUntilOpen) {
        s = await sessions.waitUntilOpen(s.sessionId, 30_000);
        if (s.sessionStatus === 'OPEN') deps.metrics?.sessionOpenSeconds.observe((performance.now() - t0) / 1000);
      }
      return { session: toSession(s) };
    }),
    closeSession: rpc.unary(`${S}CloseSession`, 'SESSION_WRITE', (req: ms.CloseSessionRequest, ctx) => {
      const s = sessions.close(req.sessionId, req.reason ? `closed by ${ctx.principal.name}: ${req.reason}` : `closed by ${ctx.principal.name}`);
      return { session: toSession(s) };
    }),
    getSession: rpc.unary(`${S}GetSession`, 'SESSION_READ', (req: ms.GetSessionRequest) => ({ session: toSession(sessionStore.require(req.sessionId)) })),
    listSessions: rpc.unary(`${S}ListSessions`, 'SESSION_READ', (req: ms.ListSessionsRequest) => {
      const page = sessionStore.list({ pageSize: req.pageSize || 100, pageToken: req.pageToken || undefined, clientId: req.clientId || undefined, module: req.moduleName || undefined });
      const list = page.sessions.map(toSession).filter((s) => req.statuses.length === 0 || req.statuses.includes(s.sessionStatus));
      return { sessions: list, nextPageToken: page.nextPageToken };
    }),
    sendSessionRequest: rpc.stream(`${S}SendSessionRequest`, 'SESSION_WRITE', async function* (req: ms.SendSessionRequestRequest) {
      const payload = req.request?.payload;
      if (payload?.$case === 'retrieveKey') throw new InvalidArgument('request.retrieve_key', 'use RetrieveKey, which writes the audit log');
      const timeoutMs = pb.durationMs(req.request?.timeout, 60_000);
      for await (const chunk of relay(req.sessionId, payload, timeoutMs, payload?.$case ?? 'none')) yield { response: chunk };
    }),
    queryEvents: rpc.stream(`${S}QueryEvents`, 'SESSION_WRITE', async function* (req: ms.QueryEventsRequest) {
      if (!req.query) throw new InvalidArgument('query', 'is required');
      for await (const c of relay(req.sessionId, { $case: 'queryEvents', value: req.query }, pb.durationMs(req.timeout, 60_000), 'queryEvents')) yield { chunk: pick(c, 'events') };
    }),
    getProcessHistory: rpc.stream(`${S}GetProcessHistory`, 'SESSION_WRITE', async function* (req: ms.GetProcessHistoryRequest) {
      if (!req.query) throw new InvalidArgument('query', 'is required');
      for await (const c of relay(req.sessionId, { $case: 'processHistory', value: req.query }, pb.durationMs(req.timeout, 60_000), 'processHistory')) yield { chunk: pick(c, 'processHistory') };
    }),
    findFiles: rpc.stream(`${S}FindFiles`, 'SESSION_WRITE', async function* (req: ms.FindFilesRequest) {
      if (!req.search) throw new InvalidArgument('search', 'is required');
      for await (const c of relay(req.sessionId, { $case: 'findFiles', value: req.search }, pb.durationMs(req.timeout, 120_000), 'findFiles')) yield { chunk: pick(c, 'files') };
    }),
    validatePatterns: rpc.unary(`${S}ValidatePatterns`, 'SESSION_WRITE', async (req: ms.ValidatePatternsRequest) => {
      const r = await single(req.sessionId, { $case: 'validatePatterns', value: req.validation ?? { patterns: [] } }, 'validatePatterns');
      return { result: pick(r, 'patternValidation') };
    }),
    retrieveKey: rpc.unary(`${S}RetrieveKey`, 'SESSION_WRITE', async (req: ms.RetrieveKeyRequest, ctx) => {
      const s = sessionStore.get(req.sessionId);
      const audit = (outcome: string) =>
        events.record('KEY_RETRIEVED', s?.clientId ?? null, `key retrieval ${outcome}`, {
          principal: ctx.principal.name, sessionId: req.sessionId, keyId: req.retrieval?.keyId ?? '', justification: req.retrieval?.justification ?? '', outcome,
        });
      // Every access is audit-logged (SPEC 1.1.3 Protect), allowed or not; never the key itself.
      try {
        if (!req.retrieval?.keyId) throw new InvalidArgument('retrieval.key_id', 'is required');
        if (!req.retrieval.justification.trim()) throw new InvalidArgument('retrieval.justification', 'is required: it is written to the audit log');
        const r = await single(req.sessionId, { $case: 'retrieveKey', value: req.retrieval }, 'retrieveKey');
        const key = pick(r, 'key');
        const entry = audit('succeeded');
        return { key, auditEntryId: String(entry.id) };
      } catch (err) {
        audit(`refused: ${(err as Error).message}`);
        throw err;
      }
    }),
    getRecorderStatus: rpc.unary(`${S}GetRecorderStatus`, 'SESSION_WRITE', async (req: ms.GetRecorderStatusRequest) => ({
      status: pick(await single(req.sessionId, { $case: 'recorderStatus', value: {} }, 'recorderStatus'), 'recorderStatus'),
    })),
    startRecorder: rpc.unary(`${S}StartRecorder`, 'SESSION_WRITE', async (req: ms.StartRecorderRequest) => {
      checkConfigurationAllowed(req.sessionId, 'start the recorder');
      const r = await single(req.sessionId, { $case: 'controlRecorder', value: { command: 1, reason: req.reason } }, 'controlRecorder');
      return { status: pick(r, 'recorderControl').status };
    }),
    stopRecorder: rpc.unary(`${S}StopRecorder`, 'SESSION_WRITE', async (req: ms.StopRecorderRequest) => {
      checkConfigurationAllowed(req.sessionId, 'stop the recorder');
      const r = await single(req.sessionId, { $case: 'controlRecorder', value: { command: 2, reason: req.reason } }, 'controlRecorder');
      return { status: pick(r, 'recorderControl').status };
    }),
    recreateDatabase: rpc.unary(`${S}RecreateDatabase`, 'SESSION_WRITE', async (req: ms.RecreateDatabaseRequest) => {
      if (!req.confirm) throw new FailedPrecondition('confirm must be true: recreating monitor.db destroys the recorded history (SPEC 2.10.2)');
      checkConfigurationAllowed(req.sessionId, 'recreate the database');
      const r = await single(req.sessionId, { $case: 'recreateDatabase', value: { confirm: true } }, 'recreateDatabase');
      return { result: pick(r, 'databaseRecreation') };
    }),
    pingSession: rpc.unary(`${S}PingSession`, 'SESSION_WRITE', async (req: ms.PingSessionRequest) => {
      const t0 = performance.now();
      const r = await single(req.sessionId, { $case: 'ping', value: { payload: req.payload } }, 'ping');
      const pong = pick(r, 'pong');
      return { roundTripTime: pb.duration(performance.now() - t0), endpointTime: pong.endpointTime };
    }),
  };

  /** SPEC 1.4.4: with action lock on, only "allow new connections and configuration changes" lets these through. */
  function checkConfigurationAllowed(sessionId: string, what: string) {
    const s = sessionStore.require(sessionId);
    const e = registry.get(s.clientId);
    if (e?.actionLock && deps.settings.actionLockMode() !== 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION') {
      throw new FailedPrecondition(`endpoint ${e.hostname || e.clientId} has action lock on, and the action lock mode "${deps.settings.actionLockMode()}" does not allow changes: cannot ${what} (SPEC 1.4.4)`);
    }
  }

  /** An alert id as the API shows it (decimal); anything else names no alert. */
  function alertId(raw: string): number {
    if (!raw) throw new InvalidArgument('alert_id', 'is required');
    const n = /^[1-9][0-9]{0,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n)) throw new NotFound(`alert "${raw}" does not exist`);
    return n;
  }

  const E = '/dc.moduleserver.v1.EventService/';
  const eventService: ms.EventServiceServer = {
    listEvents: rpc.unary(`${E}ListEvents`, 'SESSION_READ', (req: ms.ListEventsRequest) => {
      const size = req.pageSize <= 0 ? 100 : Math.min(req.pageSize, 1000);
      const before = req.pageToken ? Number(Buffer.from(req.pageToken, 'base64url').toString()) : Number.MAX_SAFE_INTEGER;
      const all = events.list({ clientId: req.clientId || undefined, limit: 1_000_000 }).filter((ev) => ev.id < before).map((ev) => pb.event(ev, hostOf(ev.clientId)));
      const filtered = all.filter((ev) => req.kinds.length === 0 || req.kinds.includes(ev.kind)).reverse();
      const page = filtered.slice(0, size);
      return { events: page, nextPageToken: filtered.length > size ? Buffer.from(String(page[page.length - 1]!.cursor)).toString('base64url') : '' };
    }),
    watchEvents: rpc.stream(`${E}WatchEvents`, 'SESSION_READ', async function* (req: ms.WatchEventsRequest, ctx) {
      const match = (ev: ms.Event) => (req.kinds.length === 0 || req.kinds.includes(ev.kind)) && (!req.clientId || ev.clientId === req.clientId);
      const q = new AsyncQueue<ms.Event>();
      const unsubscribe = events.subscribe((ev) => {
        const e = pb.event(ev, hostOf(ev.clientId));
        if (match(e)) q.push(e);
      });
      void ctx.cancelled.then(() => q.end());
      try {
        if (req.afterCursor > 0) for (const ev of events.list({ afterId: req.afterCursor, limit: 100_000 })) {
          const e = pb.event(ev, hostOf(ev.clientId));
          if (match(e)) yield { event: e };
        }
        for await (const e of q) yield { event: e };
      } finally {
        unsubscribe();
      }
    }),
    listAlerts: rpc.unary(`${E}ListAlerts`, 'SESSION_READ', (req: ms.ListAlertsRequest) => {
      // The contract: no states = the open ones (ACTIVE and ACKNOWLEDGED).
      const states = req.states.length > 0 ? req.states : [ms.AlertState.ALERT_STATE_ACTIVE, ms.AlertState.ALERT_STATE_ACKNOWLEDGED];
      const openOnly = !states.includes(ms.AlertState.ALERT_STATE_CLEARED);
      const list = events.alerts({ openOnly, clientId: req.clientId || undefined, limit: req.pageSize <= 0 ? 100 : Math.min(req.pageSize, 1000) });
      const alerts = list.map((a) => pb.alert(a, hostOf(a.clientId))).filter((a) => states.includes(a.state) && (req.kinds.length === 0 || req.kinds.includes(a.kind)));
      return { alerts, nextPageToken: '' };
    }),
    watchAlerts: rpc.stream(`${E}WatchAlerts`, 'SESSION_READ', async function* (req: ms.WatchAlertsRequest, ctx) {
      const q = new AsyncQueue<ms.Alert>();
      const unsubscribe = events.subscribe((ev) => {
        if (ev.kind !== 'ALERT_RAISED' && ev.kind !== 'ALERT_ACKNOWLEDGED' && ev.kind !== 'ALERT_CLEARED') return;
        const a = typeof ev.data.alertId === 'number' ? events.alert(ev.data.alertId) : undefined;
        if (a) q.push(pb.alert(a, hostOf(a.clientId)));
      });
      void ctx.cancelled.then(() => q.end());
      try {
        if (req.includeCurrent) for (const a of events.alerts({ openOnly: true })) yield { alert: pb.alert(a, hostOf(a.clientId)) };
        for await (const a of q) yield { alert: a };
      } finally {
        unsubscribe();
      }
    }),
    acknowledgeAlert: rpc.unary(`${E}AcknowledgeAlert`, 'SESSION_WRITE', (req: ms.AcknowledgeAlertRequest, ctx) => {
      const r = events.acknowledgeAlert(alertId(req.alertId), ctx.principal.name, req.note);
      if (!r) throw new NotFound(`alert "${req.alertId}" does not exist`);
      if (!r.changed) throw new FailedPrecondition(`alert "${req.alertId}" is already cleared; only an active alert can be acknowledged`);
      return { alert: pb.alert(r.alert, hostOf(r.alert.clientId)) };
    }),
    clearAlert: rpc.unary(`${E}ClearAlert`, 'SESSION_WRITE', (req: ms.ClearAlertRequest, ctx) => {
      const a = events.alert(alertId(req.alertId));
      if (!a) throw new NotFound(`alert "${req.alertId}" does not exist`);
      const cleared = events.clearAlert(a.clientId, a.kind, `alert cleared by ${ctx.principal.name}${req.note ? `: ${req.note}` : ''}`, { clearedBy: ctx.principal.name, note: req.note }) ?? a;
      return { alert: pb.alert(cleared, hostOf(a.clientId)) };
    }),
  };

  const A = '/dc.moduleserver.v1.AdminService/';
  const notBuilt = (what: string) => () => {
    throw new Unimplemented(`${what} is not built in the module server yet`);
  };
  const requireCertificates = () => {
    if (!deps.certificates) throw new FailedPrecondition('this module server was started without its certificate overview');
    return deps.certificates;
  };
  const adminService: ms.AdminServiceServer = {
    getInfo: rpc.unary(`${A}GetInfo`, 'SHOW_DIRECT_CONNECT', () => {
      const list = registry.list().filter((e) => e.enrolment === 'ENROLLED');
      return {
        version: deps.version, gitCommit: '', fqdn: deps.settings.brokerFqdn() ?? '', gatewayPort: 17475, apiPort: 17480,
        endpointsOnline: list.filter((e) => e.status === 'ONLINE').length, endpointsOffline: list.filter((e) => e.status === 'OFFLINE').length,
        sessionsOpen: sessionStore.active().length, zoneProxiesConnected: 0, dependencies: [],
      };
    }),
    downloadSupportPackage: rpc.stream(`${A}DownloadSupportPackage`, 'LOGS_READ', async function* (req: ms.DownloadSupportPackageRequest) {
      const logWindowMs = pb.durationMs(req.logWindow, 86_400_000);
      if (logWindowMs <= 0 || logWindowMs > 30 * 86_400_000) throw new InvalidArgument('log_window', 'must be more than 0 and at most 30 days', `${logWindowMs} ms`);
      yield { part: { $case: 'progress' as const, value: { phase: 'collecting state', percent: 10 } } };
      const { fileName, zip } = await buildSupportPackage({
        registry, events, sessionStore, dataDir: deps.dataDir, version: deps.version, now: clock.now(), logWindowMs, config: deps.support?.config, recentLogLines: deps.support?.recentLogLines,
      });
      yield { part: { $case: 'progress' as const, value: { phase: 'package built', percent: 100 } } };
      yield { part: { $case: 'header' as const, value: { fileName, totalSizeBytes: zip.length, sha256: sha256(zip) } } };
      for (let offset = 0; offset < zip.length; offset += CHUNK_BYTES) {
        yield { part: { $case: 'chunk' as const, value: { offset, data: zip.subarray(offset, offset + CHUNK_BYTES) } } };
      }
    }),
    getLogLevel: rpc.unary(`${A}GetLogLevel`, 'SETTINGS_READ', (req: ms.GetLogLevelRequest) => ({
      component: req.component, level: common.logLevelFromJSON(`LOG_LEVEL_${(deps.logLevel?.get() ?? 'info').toUpperCase()}`),
    })),
    setLogLevel: rpc.unary(`${A}SetLogLevel`, 'SETTINGS_WRITE', (req: ms.SetLogLevelRequest) => {
      const name = common.logLevelToJSON(req.level).replace(/^LOG_LEVEL_/, '').toLowerCase();
      if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(name)) throw new InvalidArgument('level', 'must be one of trace, debug, info, warn, error, fatal (SPEC 1.7.2)', name);
      deps.logLevel?.set(name);
      return { component: req.component, level: req.level };
    }),
    getCertificates: rpc.unary(`${A}GetCertificates`, 'SETTINGS_READ', async () => {
      const o = await requireCertificates().overview(new Date(clock.now()));
      return { serverCertificate: o.server, linkClientCertificate: o.linkClient, roots: o.roots, endpointCertificatesExpiring: o.endpointCertificatesExpiring };
    }),
    renewServerCertificate: rpc.unary(`${A}RenewServerCertificate`, 'SETTINGS_WRITE', async (req: ms.RenewServerCertificateRequest, ctx) => {
      const s: CertificateSummary = await requireCertificates().renew(req.validity ? pb.durationMs(req.validity, 0) : undefined);
      deps.log.info({ by: ctx.principal.name, serial: s.serial }, 'server certificate renewed on request');
      return { serverCertificate: s };
    }),
    uninstall: rpc.unary(`${A}Uninstall`, 'SETTINGS_WRITE', (req: ms.UninstallRequest, ctx) => {
      if (!deps.uninstall) return notBuilt('Uninstall')();
      const view = deps.uninstall.request({
        confirmation: req.confirmation, dryRun: req.dryRun, removeRecorderData: req.removeRecorderData, by: ctx.principal.name,
        endpointTimeoutMs: req.endpointTimeout ? pb.durationMs(req.endpointTimeout, 0) : undefined,
      });
      return { status: uninstallStatusProto(view) };
    }),
    getUninstallStatus: rpc.unary(`${A}GetUninstallStatus`, 'SETTINGS_READ', () => {
      if (!deps.uninstall) return notBuilt('GetUninstallStatus')();
      return { status: uninstallStatusProto(deps.uninstall.status()) };
    }),
  };

  return [
    { definition: ms.EndpointServiceService, implementation: endpointService },
    { definition: ms.SessionServiceService, implementation: sessionService },
    { definition: ms.EventServiceService, implementation: eventService },
    { definition: ms.AdminServiceService, implementation: adminService },
  ];
}
