// The endpoint side of Direct Connect (DESIGN flow 3–4): enrol once, then keep one control
// channel to the broker — hello, heartbeats, actions — reconnecting with jittered backoff; attach
// a session stream for each Open Session action and answer its requests.
import { type ClientDuplexStream, credentials, type ServiceError } from '@grpc/grpc-js';
import { commonV1 as common, gatewayV1 as gateway, type sessionV1 } from '@dc/proto';
import { Backoff, type BackoffOptions, goawayDelay } from './backoff';
import { classifyConnectError } from './connect-failure';
import { certificateNotAfter, type EndpointIdentity, type IdentityStore, newKeyAndCsr } from './identity-store';
import { answerRequest, type ResponsePayload, type SessionRequestContext, type SessionRequestHandlers } from './session-requests';
import { type Route, RouteSelector } from './routes';
import { type ConfigurationApplied, ConfigurationRejected } from './configure-extension';

/** SPEC 1.4.4: what this endpoint accepts while its action lock is on. */
export type ActionLockMode = 'BLOCK_ALL' | 'ALLOW_NEW_CONNECTIONS' | 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION';

export interface EndpointFacts {
  readonly hostName: string;
  readonly fqdn?: string;
  readonly ipAddresses: readonly string[];
  readonly os: common.OperatingSystem;
  readonly osVersion: string;
  readonly architecture: string;
  readonly toolsVersion: string;
  readonly recorderVersion: string;
  readonly actionLock: boolean;
  readonly recorderStatus?: common.RecorderStatus;
}

export interface AgentLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface EndpointAgentOptions {
  /** "host:port" of the broker (FQDN from the package, port 17475) or a zone proxy. */
  readonly brokerAddress: string;
  /** The name the broker's certificate must carry, when dialling by IP. */
  readonly serverName?: string;
  /**
   * Every route of the package, tried in order with fallback (issue #7 §5); when given,
   * brokerAddress/serverName are not used.
   */
  readonly routes?: readonly Route[];
  /** On a fallback route, try the preferred one again after this long. Default 5 minutes. */
  readonly returnToPreferredMs?: number;
  readonly identity: IdentityStore;
  /** Trust bundle from the package, used until enrolment returns the CA's own. */
  readonly caPem: string;
  /** From the package; needed only before the first enrolment. Never logged. */
  readonly enrolmentToken?: string;
  readonly facts: () => EndpointFacts;
  readonly actionLockMode?: () => ActionLockMode;
  readonly handlers: SessionRequestHandlers;
  readonly log: AgentLog;
  readonly backoff?: BackoffOptions;
  readonly random?: () => number;
  readonly now?: () => number;
  /** Heartbeat interval until the broker's HelloAck says otherwise. */
  readonly defaultHeartbeatMs?: number;
  /**
   * Remove Tools (SPEC 1.7.4): deletes what the agent owns (and the recorder's data when asked);
   * returns a one-line summary, throws an error naming the file it could not remove.
   */
  readonly removeTools?: (removeRecorderData: boolean) => string | Promise<string>;
  /** Called once the agent stopped itself after Remove Tools; it does not reconnect. */
  readonly onToolsRemoved?: (detail: string) => void;
  /**
   * Configure Extension (SPEC 1.4.4): the content revision in force (reported in the hello) and
   * how a new configuration is applied; throws ConfigurationRejected for an invalid one.
   */
  readonly configuration?: {
    revision(): number;
    apply(configuration: common.EndpointConfiguration, opts: { enrolled: boolean }): ConfigurationApplied;
  };
}

/** What the agent tells the broker when it closes its control channel on purpose. */
export interface Goodbye {
  readonly reason: gateway.GoodbyeReason;
  readonly detail: string;
}

export type AgentState = 'idle' | 'enrolling' | 'connecting' | 'connected' | 'waiting' | 'stopped';

const CHANNEL_OPTIONS = { 'grpc.enable_channelz': 0, 'grpc.keepalive_time_ms': 60_000, 'grpc.keepalive_timeout_ms': 20_000, 'grpc.max_reconnect_backoff_ms': 5000, 'grpc.initial_reconnect_backoff_ms': 500 };
const MAX_REMEMBERED_FAILURES = 20; // gateway contract: at most 20 in a Hello

export class EndpointAgent {
  state: AgentState = 'idle';
  helloAck?: gateway.HelloAck;
  /** Failures since the last successful channel, reported in the next Hello. */
  readonly connectFailures: gateway.ConnectFailure[] = [];
  /** Counts for status and tests. */
  readonly stats = { connects: 0, heartbeats: 0, sessionsAttached: 0, requestsAnswered: 0, renewals: 0 };
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private readonly now: () => number;
  private stopped = false;
  private wake?: () => void;
  private client?: gateway.EndpointGatewayServiceClient;
  private control?: ClientDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>;
  private readonly sessions = new Map<string, ClientDuplexStream<gateway.SessionStreamRequest, gateway.SessionStreamResponse>>();
  private loop?: Promise<void>;
  private routes: RouteSelector;
  /** Changes the heartbeat interval of the open channel (a new heartbeat policy applies live). */
  private retimeHeartbeat?: (everyMs: number) => void;

  constructor(private readonly opts: EndpointAgentOptions) {
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.backoff = new Backoff({ random: this.random, ...opts.backoff });
    this.routes = new RouteSelector(opts.routes ?? [{ name: 'direct', address: opts.brokerAddress, serverName: opts.serverName }], {
      returnAfterMs: opts.returnToPreferredMs,
      now: this.now,
    });
  }

  /** The route in use (or to be tried next). */
  get route(): Route {
    return this.routes.current();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Closes sessions and the control channel cleanly and stops reconnecting. */
  async stop(graceMs = 2000, goodbye: Goodbye = { reason: gateway.GoodbyeReason.GOODBYE_REASON_AGENT_STOPPED, detail: 'the agent was stopped' }): Promise<void> {
    const wasConnected = this.state === 'connected';
    this.stopped = true;
    this.state = 'stopped';
    for (const s of this.sessions.values()) s.end();
    // Say why before closing, so the broker tells a stopped machine from a lost one (SPEC §3.2).
    if (wasConnected) this.control?.write({ message: { $case: 'goodbye', value: { reason: goodbye.reason, detail: goodbye.detail } } });
    this.control?.end();
    this.wake?.();
    // A clean close needs the broker to end its side too; through a zone proxy that can lag, so
    // after the grace the calls are cancelled and the stop goes on.
    const grace = setTimeout(() => {
      for (const s of this.sessions.values()) s.cancel();
      this.control?.cancel();
    }, graceMs);
    await this.loop;
    clearTimeout(grace);
    this.client?.close();
  }

  get clientId(): string | undefined {
    return this.opts.identity.load()?.clientId;
  }

  /** Enrols with the package's token: new key, CSR, certificate (DESIGN flow 2). */
  async enrol(): Promise<EndpointIdentity> {
    if (!this.opts.enrolmentToken) throw new Error('not enrolled and no enrolment token in the package: reinstall the Direct Connect package');
    this.state = 'enrolling';
    const facts = this.opts.facts();
    const pending = newKeyAndCsr();
    const client = new gateway.EndpointGatewayServiceClient(this.route.address, credentials.createSsl(Buffer.from(this.opts.caPem)), this.channelOptions());
    try {
      const res = await new Promise<gateway.EnrolResponse>((resolve, reject) =>
        client.enrol({ csrPem: pending.csrPem, enrolmentToken: this.opts.enrolmentToken!, hostName: facts.hostName, os: facts.os }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      const identity: EndpointIdentity = {
        clientId: res.clientId, keyPem: pending.keyPem, certPem: res.certificateChainPem, caPem: res.trustBundlePem || this.opts.caPem,
        notAfter: res.notAfter ? res.notAfter.getTime() : certificateNotAfter(res.certificateChainPem),
      };
      this.opts.identity.save(identity);
      this.opts.log.info({ clientId: identity.clientId, notAfter: new Date(identity.notAfter).toISOString() }, 'endpoint enrolled');
      return identity;
    } finally {
      client.close();
    }
  }

  private channelOptions() {
    const serverName = this.route.serverName;
    return serverName ? { ...CHANNEL_OPTIONS, 'grpc.ssl_target_name_override': serverName, 'grpc.default_authority': serverName } : CHANNEL_OPTIONS;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delay: number;
      try {
        if (!this.opts.identity.exists()) await this.enrol();
        const goaway = await this.channel();
        if (this.stopped) break;
        // A channel that ended (goaway, or leaving a fallback) starts again from the preferred route.
        this.routes.reset();
        delay = goaway?.reconnectAfter ? goawayDelay(goaway.reconnectAfter.seconds * 1000 + goaway.reconnectAfter.nanos / 1e6, this.random) : this.backoff.next();
        this.opts.log.info({ delayMs: delay, goaway: goaway ? gateway.goawayReasonToJSON(goaway.reason) : undefined }, 'control channel ended; reconnecting');
      } catch (err) {
        if (this.stopped) break;
        this.remember(err as ServiceError);
        const from = this.route.name;
        this.routes.failed();
        if (this.route.name !== from) this.opts.log.info({ from, to: this.route.name }, 'route down; trying the next route');
        delay = this.backoff.next();
        this.opts.log.warn({ err: (err as Error).message, delayMs: delay, attempts: this.backoff.attempts }, 'cannot reach the broker; retrying');
      }
      this.state = 'waiting';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  private remember(err: ServiceError): void {
    const c = classifyConnectError(err.details ?? err.message, err.code);
    const prev = this.connectFailures[this.connectFailures.length - 1];
    if (prev && prev.step === c.step && prev.tlsCause === c.tlsCause) {
      this.connectFailures[this.connectFailures.length - 1] = { ...prev, attempts: prev.attempts + 1, time: new Date(this.now()), detail: c.detail };
      return;
    }
    this.connectFailures.push({ step: c.step, target: this.route.address, time: new Date(this.now()), tlsCause: c.tlsCause, detail: c.detail, attempts: 1 });
    if (this.connectFailures.length > MAX_REMEMBERED_FAILURES) this.connectFailures.shift();
  }

  /** One control channel, from Hello to its end; resolves with the broker's Goaway, if any. */
  private channel(): Promise<gateway.Goaway | undefined> {
    const identity = this.opts.identity.load()!;
    this.state = 'connecting';
    this.client?.close();
    this.client = new gateway.EndpointGatewayServiceClient(
      this.route.address,
      credentials.createSsl(Buffer.from(identity.caPem || this.opts.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem)),
      this.channelOptions(),
    );
    const call = this.client.controlChannel();
    this.control = call;
    let goaway: gateway.Goaway | undefined;
    let heartbeat: NodeJS.Timeout | undefined;
    let lastAck = performance.now();
    let sequence = 0;
    return new Promise((resolve, reject) => {
      let acked = false;
      const finish = (err?: ServiceError) => {
        clearInterval(heartbeat);
        if (this.control === call) {
          this.control = undefined;
          this.retimeHeartbeat = undefined;
        }
        if (err && !acked) reject(err);
        else resolve(goaway);
      };
      call.on('data', (m: gateway.ControlChannelResponse) => {
        const msg = m.message;
        if (!msg) return;
        switch (msg.$case) {
          case 'helloAck': {
            acked = true;
            this.helloAck = msg.value;
            this.state = 'connected';
            this.stats.connects++;
            this.backoff.reset();
            this.connectFailures.length = 0;
            this.routes.connected();
            this.opts.log.info({ route: this.route.name, address: this.route.address }, 'control channel up');
            const iv = msg.value.heartbeatPolicy?.interval;
            let everyMs = iv ? iv.seconds * 1000 + iv.nanos / 1e6 : this.opts.defaultHeartbeatMs ?? 30_000;
            lastAck = performance.now();
            const beat = () => {
              // A broker that stopped answering for three intervals is dead to us: reconnect.
              if (performance.now() - lastAck > 3 * everyMs) {
                this.opts.log.warn({ silentMs: Math.round(performance.now() - lastAck) }, 'broker stopped acknowledging heartbeats');
                call.cancel();
                return;
              }
              if (this.routes.shouldReturn()) {
                // End this channel; run() starts again from the preferred route, falling back if it is still down.
                this.opts.log.info({ route: this.route.name }, 'trying the preferred route again');
                call.cancel();
                return;
              }
              this.stats.heartbeats++;
              call.write({ message: { $case: 'heartbeat', value: { sequence: ++sequence, endpointTime: new Date(this.now()), activeSessions: this.sessions.size } } });
            };
            heartbeat = setInterval(beat, everyMs);
            heartbeat.unref?.();
            this.retimeHeartbeat = (ms) => {
              everyMs = ms;
              clearInterval(heartbeat);
              heartbeat = setInterval(beat, ms);
              heartbeat.unref?.();
            };
            const skew = msg.value.serverTime ? this.now() - msg.value.serverTime.getTime() : 0;
            if (Math.abs(skew) > 5 * 60_000) this.opts.log.warn({ skewMs: skew }, 'this endpoint\'s clock differs from the broker\'s by more than 5 minutes; TLS may fail');
            this.opts.log.info({ clientId: msg.value.clientId }, 'control channel open');
            break;
          }
          case 'heartbeatAck':
            lastAck = performance.now();
            break;
          case 'ping':
            lastAck = performance.now();
            call.write({ message: { $case: 'pong', value: { pingId: msg.value.pingId, endpointTime: new Date(this.now()) } } });
            break;
          case 'action':
            void this.onAction(call, msg.value);
            break;
          case 'goaway':
            goaway = msg.value;
            break;
        }
      });
      call.on('error', (err: ServiceError) => finish(err));
      call.on('end', () => finish());
      const f = this.opts.facts();
      call.write({
        message: {
          $case: 'hello',
          value: gateway.Hello.fromPartial({
            clientId: identity.clientId, hostName: f.hostName, fqdn: f.fqdn ?? '', ipAddresses: [...f.ipAddresses], os: f.os, osVersion: f.osVersion, architecture: f.architecture,
            toolsVersion: f.toolsVersion, recorderVersion: f.recorderVersion, actionLock: f.actionLock, recorderStatus: f.recorderStatus,
            endpointTime: new Date(this.now()), connectFailures: [...this.connectFailures], configurationRevision: this.opts.configuration?.revision() ?? 0,
          }),
        },
      });
    });
  }

  private status(call: ClientDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>, actionId: string, status: common.ActionStatus, detail = '', reason = gateway.ActionFailureReason.ACTION_FAILURE_REASON_UNSPECIFIED): void {
    call.write({ message: { $case: 'actionStatus', value: { actionId, status, detail, failureReason: reason, time: new Date(this.now()) } } });
  }

  /** SPEC 1.4.4 on the endpoint side: with action lock on, what the lock mode allows. */
  private lockRefusal(kind: NonNullable<gateway.Action['kind']>['$case']): string | undefined {
    if (!this.opts.facts().actionLock) return undefined;
    const mode = this.opts.actionLockMode?.() ?? 'BLOCK_ALL';
    if (mode === 'BLOCK_ALL') return 'action lock is on and blocks all Direct Connect actions';
    if (kind === 'openSession' || kind === 'cancel') return undefined;
    if (mode === 'ALLOW_NEW_CONNECTIONS_AND_CONFIGURATION' && kind === 'configureExtension') return undefined;
    return `action lock is on and allows only ${mode === 'ALLOW_NEW_CONNECTIONS' ? 'new connections' : 'new connections and configuration changes'}`;
  }

  private async onAction(call: ClientDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>, action: gateway.Action): Promise<void> {
    const kind = action.kind;
    if (!kind) return;
    const S = common.ActionStatus;
    if (action.expireTime && action.expireTime.getTime() < this.now()) {
      this.status(call, action.actionId, S.ACTION_STATUS_NOT_SUCCEEDED, 'the action expired before it could run', gateway.ActionFailureReason.ACTION_FAILURE_REASON_EXPIRED);
      return;
    }
    const refusal = this.lockRefusal(kind.$case);
    if (refusal) {
      this.status(call, action.actionId, S.ACTION_STATUS_NOT_SUCCEEDED, refusal, gateway.ActionFailureReason.ACTION_FAILURE_REASON_ACTION_LOCKED);
      return;
    }
    try {
      switch (kind.$case) {
        case 'openSession':
          this.status(call, action.actionId, S.ACTION_STATUS_RUNNING, 'attaching the session stream');
          this.attach(kind.value.sessionId, action.actionId, kind.value.moduleName);
          return;
        case 'renewCertificate':
          this.status(call, action.actionId, S.ACTION_STATUS_RUNNING);
          await this.renew();
          this.status(call, action.actionId, S.ACTION_STATUS_SUCCEEDED, 'certificate renewed; used from the next connection');
          return;
        case 'startRecorder':
        case 'stopRecorder': {
          const control = this.opts.handlers.controlRecorder;
          if (!control) throw new Error('this endpoint cannot control its recorder');
          control(kind.$case === 'startRecorder' ? 'start' : 'stop', kind.$case === 'stopRecorder' ? kind.value.reason : 'Enable Recorder action');
          this.status(call, action.actionId, S.ACTION_STATUS_SUCCEEDED);
          return;
        }
        case 'recreateDatabase':
          if (!this.opts.handlers.recreateDatabase) throw new Error('this endpoint cannot recreate its database');
          this.opts.handlers.recreateDatabase();
          this.status(call, action.actionId, S.ACTION_STATUS_SUCCEEDED);
          return;
        case 'cancel': {
          this.sessions.get(kind.value.actionId)?.end();
          return;
        }
        case 'removeTools': {
          const remove = this.opts.removeTools;
          if (!remove) {
            this.status(call, action.actionId, S.ACTION_STATUS_NOT_SUCCEEDED, 'this agent cannot remove its tools', gateway.ActionFailureReason.ACTION_FAILURE_REASON_NOT_SUPPORTED);
            return;
          }
          this.status(call, action.actionId, S.ACTION_STATUS_RUNNING, 'removing the Direct Connect tools');
          const detail = await remove(kind.value.removeRecorderData);
          this.status(call, action.actionId, S.ACTION_STATUS_SUCCEEDED, detail);
          this.opts.log.info({ detail }, 'tools removed; leaving for good');
          // Goodbye TOOLS_REMOVED, then no reconnect: the identity is gone.
          await this.stop(2000, { reason: gateway.GoodbyeReason.GOODBYE_REASON_TOOLS_REMOVED, detail });
          this.opts.onToolsRemoved?.(detail);
          return;
        }
        case 'configureExtension':
          this.configure(call, action.actionId, kind.value.configuration);
          return;
      }
    } catch (err) {
      this.status(call, action.actionId, S.ACTION_STATUS_ERROR, (err as Error).message, gateway.ActionFailureReason.ACTION_FAILURE_REASON_FAILED);
    }
  }

  /**
   * Configure Extension: apply the new content, answer, then apply live what can be — the
   * heartbeat interval now, new routes by reconnecting over them (the next hello reports the
   * new revision). An invalid configuration is NOT_SUCCEEDED naming the field; nothing changed.
   */
  private configure(call: ClientDuplexStream<gateway.ControlChannelRequest, gateway.ControlChannelResponse>, actionId: string, next: common.EndpointConfiguration | undefined): void {
    const S = common.ActionStatus;
    const configuration = this.opts.configuration;
    if (!configuration) {
      this.status(call, actionId, S.ACTION_STATUS_NOT_SUCCEEDED, 'this agent cannot apply a configuration', gateway.ActionFailureReason.ACTION_FAILURE_REASON_NOT_SUPPORTED);
      return;
    }
    if (!next) {
      this.status(call, actionId, S.ACTION_STATUS_NOT_SUCCEEDED, 'configure_extension.configuration: is required (got none)', gateway.ActionFailureReason.ACTION_FAILURE_REASON_FAILED);
      return;
    }
    this.status(call, actionId, S.ACTION_STATUS_RUNNING, `applying content revision ${next.revision}`);
    let applied: ConfigurationApplied;
    try {
      applied = configuration.apply(next, { enrolled: this.opts.identity.exists() });
    } catch (err) {
      if (!(err instanceof ConfigurationRejected)) throw err;
      this.opts.log.warn({ revision: next.revision, err: err.message }, 'configuration refused; nothing changed');
      this.status(call, actionId, S.ACTION_STATUS_NOT_SUCCEEDED, err.message, gateway.ActionFailureReason.ACTION_FAILURE_REASON_FAILED);
      return;
    }
    this.status(call, actionId, S.ACTION_STATUS_SUCCEEDED, applied.detail);
    this.opts.log.info({ revision: applied.revision, recorderFiles: applied.recorderFiles }, 'configuration applied');
    if (applied.heartbeatIntervalMs) this.retimeHeartbeat?.(applied.heartbeatIntervalMs);
    if (applied.routesChanged) {
      this.routes = new RouteSelector(applied.routes, { returnAfterMs: this.opts.returnToPreferredMs, now: this.now });
      this.opts.log.info({ routes: applied.routes.map((r) => `${r.name} ${r.address}`) }, 'routes changed; reconnecting over the new ones');
      call.end();
      // A clean close needs the broker's side too; through a zone proxy that can lag.
      setTimeout(() => {
        if (this.control === call) call.cancel();
      }, 5000).unref();
    }
  }

  /** Renews the client certificate with a new key; the open channel and sessions stay up. */
  async renew(): Promise<void> {
    const current = this.opts.identity.load();
    if (!current || !this.client) throw new Error('not enrolled');
    const pending = newKeyAndCsr();
    const res = await new Promise<gateway.RenewCertificateResponse>((resolve, reject) =>
      this.client!.renewCertificate({ csrPem: pending.csrPem }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    this.opts.identity.save({
      ...current, keyPem: pending.keyPem, certPem: res.certificateChainPem, caPem: res.trustBundlePem || current.caPem,
      notAfter: res.notAfter ? res.notAfter.getTime() : certificateNotAfter(res.certificateChainPem),
    });
    this.stats.renewals++;
    this.opts.log.info({ notAfter: res.notAfter?.toISOString() }, 'endpoint certificate renewed');
  }

  private attach(sessionId: string, actionId: string, moduleName: string): void {
    const stream = this.client!.sessionStream();
    this.sessions.set(sessionId, stream);
    const inFlight = new Map<string, { cancelled: boolean }>();
    stream.on('data', (m: { message?: gateway.SessionStreamResponse['message'] }) => {
      const msg = m.message;
      if (msg?.$case === 'attached') this.stats.sessionsAttached++;
      else if (msg?.$case === 'request') {
        const flag = { cancelled: false };
        inFlight.set(msg.value.requestId, flag);
        void this.answer(stream, msg.value, flag, { sessionId, moduleName }).finally(() => inFlight.delete(msg.value.requestId));
      } else if (msg?.$case === 'cancel') {
        const f = inFlight.get(msg.value.requestId);
        if (f) f.cancelled = true;
      }
    });
    const done = () => {
      this.sessions.delete(sessionId);
      for (const f of inFlight.values()) f.cancelled = true;
    };
    stream.on('error', done);
    stream.on('end', () => {
      done();
      stream.end();
    });
    stream.write({ message: { $case: 'attach', value: { sessionId, actionId } } });
  }

  /** Streams the answer, marking the final chunk `last` (one chunk of lookahead). */
  private async answer(
    stream: ClientDuplexStream<gateway.SessionStreamRequest, gateway.SessionStreamResponse>,
    req: sessionV1.SessionRequest,
    flag: { cancelled: boolean },
    from: Omit<SessionRequestContext, 'requestId'>,
  ): Promise<void> {
    let index = 0;
    let pending: ResponsePayload | undefined;
    const write = (payload: ResponsePayload, last: boolean) =>
      new Promise<void>((resolve) => {
        if (!stream.write({ message: { $case: 'response', value: { requestId: req.requestId, chunkIndex: index++, last, payload } } })) stream.once('drain', resolve);
        else resolve();
      });
    for await (const payload of answerRequest(req, { now: this.now, ...this.opts.handlers }, from)) {
      if (flag.cancelled) {
        await write({ $case: 'error', value: { code: 8, message: 'the request was cancelled', field: '' } }, true);
        return;
      }
      if (pending) await write(pending, false);
      pending = payload;
    }
    if (pending) await write(pending, true);
    this.stats.requestsAnswered++;
  }
}
