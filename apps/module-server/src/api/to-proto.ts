// Domain records → contract messages for the module API.
import type { Duration } from '@dc/proto';
import { common, moduleserver as ms } from '../contracts';
import type { Diagnosis, DiagnosisVerdict } from '../diagnosis/diagnose';
import type { Alert, BrokerEvent } from '../events/event-log';
import type { EndpointRecord } from '../registry/endpoint-registry';
import { actionStatusValue } from '../sessions/session-broker';
import type { SessionRecord } from '../sessions/session-store';

export function duration(ms: number): Duration {
  const s = Math.floor(ms / 1000);
  return { seconds: s, nanos: Math.round((ms - s * 1000) * 1e6) };
}

export function durationMs(d: Duration | undefined, fallback: number): number {
  return d ? d.seconds * 1000 + Math.round(d.nanos / 1e6) : fallback;
}

const date = (ms: number | null | undefined) => (ms === null || ms === undefined ? undefined : new Date(ms));

const STATUS: Record<EndpointRecord['status'], ms.EndpointStatus> = {
  NEVER_CONNECTED: ms.EndpointStatus.ENDPOINT_STATUS_NEVER_CONNECTED,
  ONLINE: ms.EndpointStatus.ENDPOINT_STATUS_ONLINE,
  OFFLINE: ms.EndpointStatus.ENDPOINT_STATUS_OFFLINE,
  STOPPED: ms.EndpointStatus.ENDPOINT_STATUS_STOPPED,
  REMOVED: ms.EndpointStatus.ENDPOINT_STATUS_REMOVED,
};

export function route(e: EndpointRecord): ms.Route {
  const direct = e.route === 'direct';
  return { kind: direct ? ms.RouteKind.ROUTE_KIND_DIRECT : ms.RouteKind.ROUTE_KIND_ZONE_PROXY, zoneProxyId: direct ? '' : e.route, zoneProxyName: direct ? '' : e.route, remoteAddress: e.ips[0] ?? '' };
}

export function disconnectInfo(e: EndpointRecord): ms.DisconnectInfo | undefined {
  if (!e.lastDisconnectReason) return undefined;
  return {
    reason: common.disconnectReasonFromJSON(`DISCONNECT_REASON_${e.lastDisconnectReason === 'REPLACED' ? 'CLEAN_CLOSE' : e.lastDisconnectReason}`),
    tlsCause: e.lastTlsFailureCause ? tlsCause(e.lastTlsFailureCause) : common.TlsFailureCause.TLS_FAILURE_CAUSE_UNSPECIFIED,
    time: date(e.lastDisconnectAt),
    detail: e.lastDisconnectDetail ?? '',
  };
}

export function tlsCause(c: NonNullable<EndpointRecord['lastTlsFailureCause']>): common.TlsFailureCause {
  const map: Record<typeof c, common.TlsFailureCause> = {
    EXPIRED: common.TlsFailureCause.TLS_FAILURE_CAUSE_CERTIFICATE_EXPIRED,
    NOT_YET_VALID: common.TlsFailureCause.TLS_FAILURE_CAUSE_CLOCK_SKEW,
    REVOKED: common.TlsFailureCause.TLS_FAILURE_CAUSE_CERTIFICATE_REVOKED,
    UNKNOWN_CA: common.TlsFailureCause.TLS_FAILURE_CAUSE_UNKNOWN_CA,
    CLOCK_SKEW: common.TlsFailureCause.TLS_FAILURE_CAUSE_CLOCK_SKEW,
    NO_CERTIFICATE: common.TlsFailureCause.TLS_FAILURE_CAUSE_NO_CLIENT_CERTIFICATE,
    OTHER: common.TlsFailureCause.TLS_FAILURE_CAUSE_OTHER,
  };
  return map[c];
}

export function endpoint(e: EndpointRecord, extra: { inActionGroup: boolean; missedHeartbeats: number; openSessions: number }): ms.Endpoint {
  return {
    clientId: e.clientId,
    hostName: e.hostname,
    fqdn: e.hostname.includes('.') ? e.hostname : '',
    ipAddresses: [...e.ips],
    os: common.operatingSystemFromJSON(`OPERATING_SYSTEM_${e.os.toUpperCase()}`),
    osVersion: '',
    architecture: '',
    toolsVersion: e.toolsVersion,
    recorderVersion: e.agentVersion,
    status: STATUS[e.status],
    lastSeenTime: date(e.lastHeartbeatAt),
    firstConnectedTime: date(e.firstConnectedAt),
    statusSinceTime: date(e.statusSince),
    route: route(e),
    recorderStatus: e.recorderStatus ? { ...common.RecorderStatus.fromPartial({}), state: common.recorderStateFromJSON(`RECORDER_STATE_${e.recorderStatus}`) } : undefined,
    actionLock: e.actionLock,
    inActionGroup: extra.inActionGroup,
    missedHeartbeats: extra.missedHeartbeats,
    lastDisconnect: disconnectInfo(e),
    clockSkew: e.clockSkewMs === null ? undefined : duration(e.clockSkewMs),
    certificateSerial: e.certSerial ?? '',
    certificateNotAfter: date(e.certNotAfter),
    configurationRevision: e.configurationRevision ?? 0,
    deployments: configureDeployment(e),
    tags: [],
    openSessions: extra.openSessions,
  };
}

/** SPEC 1.7.3: the "Configure Extension" deployment, once one was sent. */
function configureDeployment(e: EndpointRecord): ms.Deployment[] {
  if (!e.configureStatus) return [];
  return [{ name: 'configure-extension', version: '', revision: e.configureRevision ?? 0, status: actionStatusValue(e.configureStatus), updatedTime: date(e.configureUpdatedAt) }];
}

const SESSION_STATUS: Record<SessionRecord['sessionStatus'], ms.SessionStatus> = {
  PENDING: ms.SessionStatus.SESSION_STATUS_PENDING,
  OPEN: ms.SessionStatus.SESSION_STATUS_OPEN,
  CLOSED: ms.SessionStatus.SESSION_STATUS_CLOSED,
  FAILED: ms.SessionStatus.SESSION_STATUS_FAILED,
};

/** SPEC 1.5 columns: host name, client id, IP, action status, session status, duration, last message. */
export function session(s: SessionRecord, e: EndpointRecord | undefined, now: number, requestsInFlight: number): ms.Session {
  const first = e?.firstConnectedAt ?? null;
  return {
    sessionId: s.sessionId,
    hostName: e?.hostname ?? '',
    clientId: s.clientId,
    ipAddress: e?.ips[0] ?? '',
    actionStatus: actionStatusValue(s.actionStatus),
    sessionStatus: SESSION_STATUS[s.sessionStatus],
    duration: first === null ? undefined : duration(Math.max(0, now - first)),
    lastMessageTime: date(s.lastMessageAt ?? s.attachedAt ?? undefined),
    moduleName: s.module,
    actionId: s.actionId,
    actionDetail: s.statusDetail,
    createTime: date(s.createdAt),
    openTime: date(s.attachedAt),
    closeTime: date(s.closedAt),
    closeReason: s.closedAt !== null ? s.statusDetail : '',
    route: e ? route(e) : undefined,
    openedBy: s.requestedBy,
    endpointFirstConnectedTime: date(first),
    requestsCompleted: s.requestsCompleted,
    requestsInFlight,
    idleTimeout: duration(s.idleTimeoutMs),
  };
}

const STEP: Record<DiagnosisVerdict, ms.DiagnosisStep> = {
  UNKNOWN_ENDPOINT: ms.DiagnosisStep.DIAGNOSIS_STEP_UNKNOWN_ENDPOINT,
  NEVER_ENROLLED: ms.DiagnosisStep.DIAGNOSIS_STEP_NEVER_ENROLLED,
  CERTIFICATE_REVOKED: ms.DiagnosisStep.DIAGNOSIS_STEP_CERTIFICATE_REVOKED,
  CERTIFICATE_EXPIRED: ms.DiagnosisStep.DIAGNOSIS_STEP_CERTIFICATE_EXPIRED,
  FQDN_UNRESOLVABLE: ms.DiagnosisStep.DIAGNOSIS_STEP_FQDN_UNRESOLVABLE,
  TLS_REFUSED: ms.DiagnosisStep.DIAGNOSIS_STEP_UNKNOWN_CA,
  CLOCK_SKEW: ms.DiagnosisStep.DIAGNOSIS_STEP_CLOCK_SKEW,
  NEVER_CONNECTED: ms.DiagnosisStep.DIAGNOSIS_STEP_NEVER_CONNECTED,
  OFFLINE: ms.DiagnosisStep.DIAGNOSIS_STEP_OFFLINE,
  STOPPED: ms.DiagnosisStep.DIAGNOSIS_STEP_STOPPED,
  REMOVED: ms.DiagnosisStep.DIAGNOSIS_STEP_REMOVED,
  NOT_CONNECTED: ms.DiagnosisStep.DIAGNOSIS_STEP_OFFLINE,
  TIMEOUT: ms.DiagnosisStep.DIAGNOSIS_STEP_TIMEOUT,
  AMBIGUOUS_TARGET: ms.DiagnosisStep.DIAGNOSIS_STEP_AMBIGUOUS_TARGET,
  REACHABLE: ms.DiagnosisStep.DIAGNOSIS_STEP_UNSPECIFIED,
};

export function diagnosis(d: Diagnosis, e: EndpointRecord | undefined, candidates: string[] = []): ms.Diagnosis {
  let step = STEP[d.verdict];
  if (d.verdict === 'TLS_REFUSED' && e?.lastTlsFailureCause === 'EXPIRED') step = ms.DiagnosisStep.DIAGNOSIS_STEP_CERTIFICATE_EXPIRED;
  if (d.verdict === 'TLS_REFUSED' && e?.lastTlsFailureCause === 'REVOKED') step = ms.DiagnosisStep.DIAGNOSIS_STEP_CERTIFICATE_REVOKED;
  return {
    step,
    clientId: e?.clientId ?? '',
    hostName: e?.hostname ?? '',
    offlineSinceTime: e?.status === 'OFFLINE' || e?.status === 'STOPPED' ? date(e.statusSince) : undefined,
    lastSeenTime: date(e?.lastHeartbeatAt),
    lastDisconnect: e ? disconnectInfo(e) : undefined,
    observedClockSkew: e?.clockSkewMs === null || e?.clockSkewMs === undefined ? undefined : duration(e.clockSkewMs),
    lastRoute: e ? route(e) : undefined,
    recentFailures: e?.lastTlsFailureCause ? [`${new Date(e.lastTlsFailureAt!).toISOString()} ${e.lastTlsFailureCause}: ${e.lastTlsFailureDetail ?? ''}`] : [],
    hints: [d.summary],
    checks: d.steps.map((s) => ({ name: s.name, outcome: s.ok ? ms.CheckOutcome.CHECK_OUTCOME_PASSED : ms.CheckOutcome.CHECK_OUTCOME_FAILED, detail: s.detail })),
    candidates,
  };
}

/** Every broker event kind has its contract kind (the compiler checks the table is complete). */
const EVENT_KIND: Record<BrokerEvent['kind'], ms.EventKind> = {
  ENDPOINT_ENROLLED: ms.EventKind.EVENT_KIND_ENDPOINT_ENROLLED,
  ENDPOINT_ENROLMENT_REFUSED: ms.EventKind.EVENT_KIND_ENDPOINT_ENROLMENT_REFUSED,
  ENDPOINT_ONLINE: ms.EventKind.EVENT_KIND_ENDPOINT_ONLINE,
  ENDPOINT_OFFLINE: ms.EventKind.EVENT_KIND_ENDPOINT_OFFLINE,
  ENDPOINT_CONNECTED: ms.EventKind.EVENT_KIND_ENDPOINT_CONNECTED,
  ENDPOINT_DISCONNECTED: ms.EventKind.EVENT_KIND_ENDPOINT_DISCONNECTED,
  ENDPOINT_STOPPED: ms.EventKind.EVENT_KIND_ENDPOINT_STOPPED,
  ENDPOINT_REMOVED: ms.EventKind.EVENT_KIND_ENDPOINT_REMOVED,
  ENDPOINT_CERTIFICATE_RENEWED: ms.EventKind.EVENT_KIND_CERTIFICATE_RENEWED,
  HANDSHAKE_REFUSED: ms.EventKind.EVENT_KIND_HANDSHAKE_FAILED,
  ALERT_RAISED: ms.EventKind.EVENT_KIND_ALERT_RAISED,
  ALERT_ACKNOWLEDGED: ms.EventKind.EVENT_KIND_ALERT_ACKNOWLEDGED,
  ALERT_CLEARED: ms.EventKind.EVENT_KIND_ALERT_CLEARED,
  SESSION_OPENED: ms.EventKind.EVENT_KIND_SESSION_OPENED,
  SESSION_CLOSED: ms.EventKind.EVENT_KIND_SESSION_CLOSED,
  KEY_RETRIEVED: ms.EventKind.EVENT_KIND_KEY_RETRIEVED,
  CONFIGURATION_DEPLOYED: ms.EventKind.EVENT_KIND_CONFIGURATION_DEPLOYED,
  CONFIGURATION_FAILED: ms.EventKind.EVENT_KIND_CONFIGURATION_FAILED,
  UNINSTALL_STARTED: ms.EventKind.EVENT_KIND_UNINSTALL_STARTED,
  UNINSTALL_FINISHED: ms.EventKind.EVENT_KIND_UNINSTALL_FINISHED,
  UNINSTALL_FAILED: ms.EventKind.EVENT_KIND_UNINSTALL_FAILED,
};

export function event(ev: BrokerEvent, hostName: string): ms.Event {
  const attributes: Record<string, string> = { broker_kind: ev.kind };
  for (const [k, v] of Object.entries(ev.data)) attributes[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return {
    eventId: String(ev.id),
    kind: EVENT_KIND[ev.kind],
    time: new Date(ev.at),
    clientId: ev.clientId ?? '',
    hostName,
    sessionId: typeof ev.data.sessionId === 'string' ? ev.data.sessionId : '',
    zoneProxyId: '',
    message: ev.message,
    attributes,
    cursor: ev.id,
  };
}

export function alert(a: Alert, hostName: string): ms.Alert {
  return {
    alertId: String(a.id),
    kind: ms.AlertKind.ALERT_KIND_ENDPOINT_OFFLINE,
    severity: ms.AlertSeverity.ALERT_SEVERITY_WARNING,
    state: a.clearedAt !== null ? ms.AlertState.ALERT_STATE_CLEARED : a.acknowledgedAt !== null ? ms.AlertState.ALERT_STATE_ACKNOWLEDGED : ms.AlertState.ALERT_STATE_ACTIVE,
    clientId: a.clientId,
    hostName,
    zoneProxyId: '',
    message: a.message,
    raiseTime: new Date(a.raisedAt),
    acknowledgeTime: date(a.acknowledgedAt),
    acknowledgedBy: a.acknowledgedBy,
    clearTime: date(a.clearedAt),
    clearedBy: a.clearedAt === null ? '' : a.clearedBy || 'system',
    note: a.note,
    attributes: {},
  };
}
