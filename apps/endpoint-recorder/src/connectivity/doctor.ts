// `endpoint-recorder doctor` (SPEC 3.5, issue #6 §5): the endpoint's side of a connection, step
// by step — agent running, FQDN resolves, TCP reachable, certificate valid, TLS handshake and
// which side refused it, the broker accepting our certificate, clock skew.
import { lookup } from 'node:dns/promises';
import { X509Certificate } from 'node:crypto';
import { isIP, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { commonV1 as common, gatewayV1 as gateway } from '@dc/proto';
import { classifyConnectError } from './connect-failure';
import type { EndpointIdentity, IdentityStore } from './identity-store';

export type StepOutcome = 'passed' | 'failed' | 'skipped' | 'warning';

export interface DoctorStep {
  readonly name: string;
  readonly outcome: StepOutcome;
  readonly detail: string;
}

export interface DoctorOptions {
  readonly brokerAddress: string;
  readonly serverName?: string;
  readonly identity: IdentityStore;
  /** Trust bundle from the package (used when no identity is stored yet). */
  readonly caPem: string;
  /** Whether the agent (recorder process) is running, as the recorder knows it. */
  readonly agentRunning?: () => { running: boolean; detail: string };
  readonly now?: () => number;
  readonly timeoutMs?: number;
  /** Clock skew beyond this is reported as a failure (TLS validity needs both clocks right). */
  readonly clockSkewToleranceMs?: number;
}

function splitAddress(address: string): { host: string; port: number } {
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(address);
  if (v6) return { host: v6[1]!, port: Number(v6[2]) };
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

export async function runDoctor(opts: DoctorOptions): Promise<DoctorStep[]> {
  const steps: DoctorStep[] = [];
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const step = (name: string, outcome: StepOutcome, detail: string) => steps.push({ name, outcome, detail });
  const { host, port } = splitAddress(opts.brokerAddress);

  // 1. agent running
  if (opts.agentRunning) {
    const a = opts.agentRunning();
    step('agent running', a.running ? 'passed' : 'failed', a.detail);
  } else step('agent running', 'skipped', 'not known to this command');

  // 2. name resolution
  let address = host;
  if (isIP(host)) step('FQDN resolves', 'skipped', `${host} is an IP address`);
  else {
    try {
      const all = await lookup(host, { all: true });
      address = all[0]!.address;
      step('FQDN resolves', 'passed', `${host} → ${all.map((a) => a.address).join(', ')}`);
    } catch (err) {
      step('FQDN resolves', 'failed', `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check DNS, or the FQDN in the connection settings`);
      return steps;
    }
  }

  // 3. TCP reach (agent → broker port)
  const tcp = await new Promise<string | undefined>((resolve) => {
    const s = new Socket();
    const t = setTimeout(() => {
      s.destroy();
      resolve(`no answer within ${timeoutMs} ms (a firewall dropping packets?)`);
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.destroy();
      resolve(undefined);
    });
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(t);
      resolve(`${err.code ?? err.message}${err.code === 'ECONNREFUSED' ? ': nothing listens there, or a firewall rejects it' : ''}`);
    });
    s.connect(port, address);
  });
  if (tcp) {
    step('TCP reachable', 'failed', `${address}:${port}: ${tcp}`);
    return steps;
  }
  step('TCP reachable', 'passed', `${address}:${port} accepts connections`);

  // 4. our certificate
  let identity: EndpointIdentity | undefined;
  try {
    identity = opts.identity.load();
  } catch (err) {
    step('certificate valid', 'failed', (err as Error).message);
  }
  if (!identity) {
    if (!steps.some((s) => s.name === 'certificate valid')) step('certificate valid', 'failed', `no certificate in ${opts.identity.dir}: the endpoint has not enrolled (is the enrolment token in its package valid?)`);
  } else {
    const x = new X509Certificate(identity.certPem);
    const from = Date.parse(x.validFrom);
    const to = Date.parse(x.validTo);
    if (now() > to) step('certificate valid', 'failed', `client certificate expired at ${new Date(to).toISOString()}: renew it or re-enrol`);
    else if (now() < from) step('certificate valid', 'failed', `client certificate not valid before ${new Date(from).toISOString()}: this endpoint's clock is probably behind`);
    else step('certificate valid', 'passed', `client ${identity.clientId}, valid until ${new Date(to).toISOString()}`);
  }

  // 5. TLS handshake, and which side refused it
  const caPem = identity?.caPem || opts.caPem;
  const tls = await new Promise<{ ok: true; detail: string } | { ok: false; detail: string }>((resolve) => {
    const socket = tlsConnect({
      host: address, port, ca: caPem, cert: identity?.certPem, key: identity?.keyPem, servername: opts.serverName ?? (isIP(host) ? undefined : host),
      ALPNProtocols: ['h2'], rejectUnauthorized: true, timeout: timeoutMs,
      checkServerIdentity: opts.serverName || !isIP(host) ? undefined : () => undefined,
    });
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      socket.destroy();
      resolve({ ok: true, detail: `broker certificate "${peer.subject?.CN ?? '?'}" valid until ${peer.valid_to}` });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      const c = classifyConnectError(`${err.code ?? ''} ${err.message}`);
      resolve({ ok: false, detail: `${c.refusedBy === 'broker' ? 'the broker refused the handshake' : "this endpoint refused the broker's certificate"}: ${err.message}` });
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve({ ok: false, detail: `no TLS answer within ${timeoutMs} ms` });
    });
  });
  step('TLS handshake', tls.ok ? 'passed' : 'failed', tls.detail);
  if (!tls.ok || !identity) return steps;

  // 6. the broker accepts our certificate (a probe the gateway authenticates, then refuses as unknown)
  // 7. clock skew, from the broker's HTTP/2 date header
  const client = new gateway.EndpointGatewayServiceClient(opts.brokerAddress, credentials.createSsl(Buffer.from(caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem)), opts.serverName ? { 'grpc.ssl_target_name_override': opts.serverName, 'grpc.default_authority': opts.serverName } : {});
  try {
    const probe = await new Promise<{ err: ServiceError | undefined; date: string | undefined }>((resolve) => {
      let date: string | undefined;
      const call = client.sessionStream(new Metadata(), { deadline: Date.now() + timeoutMs });
      call.on('metadata', (md: Metadata) => {
        const d = md.get('dc-server-time')[0] ?? md.get('date')[0];
        if (d) date = String(d);
      });
      call.on('status', (s: { metadata: Metadata }) => {
        const d = s.metadata.get('date')[0];
        if (d && !date) date = String(d);
      });
      call.on('data', () => {});
      call.on('error', (err: ServiceError) => resolve({ err, date }));
      call.on('end', () => resolve({ err: undefined, date }));
      call.write({ message: { $case: 'attach', value: { sessionId: '', actionId: '' } } });
    });
    if (probe.err?.code === 16) {
      const c = classifyConnectError(probe.err.details, 16);
      step('broker accepts our certificate', 'failed', `the broker refused this endpoint's certificate (${common.tlsFailureCauseToJSON(c.tlsCause).replace(/^TLS_FAILURE_CAUSE_/, '').toLowerCase()}): ${probe.err.details}`);
    } else step('broker accepts our certificate', 'passed', 'the gateway authenticated this endpoint');
    if (probe.date) {
      const skew = now() - Date.parse(probe.date);
      const tolerance = opts.clockSkewToleranceMs ?? 60_000;
      const detail = `this endpoint's clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew >= 0 ? 'ahead of' : 'behind'} the broker `;
      step('clock skew', Math.abs(skew) > tolerance ? 'failed' : 'passed', detail);
    } else step('clock skew', 'skipped', 'the broker did not tell its time');
  } finally {
    client.close();
  }
  return steps;
}
