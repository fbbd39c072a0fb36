// Test fixtures for zone links: settings records held in memory (settings is not the part
// under test), a gateway that answers like the broker's, and a real zone proxy process.
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type ChannelOptions, credentials, Metadata, status } from '@grpc/grpc-js';
import { gatewayV1 as gateway, type sessionV1 } from '@dc/proto';
import { NotFound } from '@dc/service-kit';
import { distEntry, spawnService, type SpawnedService, workspaceRoot } from '@dc/service-kit/testing';
import { relayedPeerOf, type RelayedGateway } from '../relayed-peer';
import type { ZoneLinkStatus, ZoneProxyActivity, ZoneProxyProvisioningMaterial, ZoneProxyRecord, ZoneProxySettings } from '../zone-proxy-directory';

export class MemoryZoneProxySettings implements ZoneProxySettings {
  readonly records = new Map<string, ZoneProxyProvisioningMaterial>();
  readonly reports: Array<{ id: string; status: ZoneLinkStatus; detail: string; activity?: ZoneProxyActivity }> = [];
  async list(): Promise<ZoneProxyRecord[]> {
    return [...this.records.values()].map((m) => m.record);
  }
  async provisioning(id: string): Promise<ZoneProxyProvisioningMaterial> {
    const m = this.records.get(id);
    if (!m) throw new NotFound(`zone proxy ${id} not found`);
    return m;
  }
  async reportStatus(id: string, s: ZoneLinkStatus, detail: string, activity: ZoneProxyActivity | undefined): Promise<void> {
    this.reports.push({ id, status: s, detail, activity });
  }
}

/**
 * The built zone proxy, rebuilt (esbuild, about a second) only when a source file of it or of a
 * lib is newer than the bundle: test files running at once must not rewrite it under each other.
 */
export function buildZoneProxy(): string {
  const entry = distEntry('apps/zone-proxy');
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  const sources = [join(workspaceRoot, 'apps/zone-proxy/src'), join(workspaceRoot, 'libs')];
  if (built === 0 || sources.some((dir) => newerThan(dir, built))) {
    execFileSync(process.execPath, [join(workspaceRoot, 'tools/build/build.mjs'), 'apps/zone-proxy'], { cwd: workspaceRoot, stdio: 'pipe' });
  }
  return entry;
}

function newerThan(dir: string, ms: number): boolean {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'dist') continue;
    const p = join(dir, e.name);
    if (e.isDirectory() ? newerThan(p, ms) : e.name.endsWith('.ts') && statSync(p).mtimeMs > ms) return true;
  }
  return false;
}

/** `zone-proxy install --json` as the operator runs it; returns the payload text and its parts. */
export function runInstaller(entry: string, installDir: string): { text: string; secret: Buffer; certificatePem: string; fingerprintSha256: string } {
  const r = spawnSync(process.execPath, [entry, 'install', '--install-dir', installDir, '--name', 'zone-test', '--json'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`zone-proxy install failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { payload: string; fingerprintSha256: string };
  const b64 = (label: string) => Buffer.from(new RegExp(`-----BEGIN ${label}-----\\n([^-]+)-----END`).exec(out.payload)![1]!.replace(/\n/g, ''), 'base64');
  const certificatePem = new X509Certificate(b64('CERTIFICATE')).toString();
  return { text: out.payload, secret: b64('PROVISION SECRET'), certificatePem, fingerprintSha256: out.fingerprintSha256 };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function spawnZoneProxy(entry: string, installDir: string, logLevel = 'debug'): Promise<SpawnedService> {
  return spawnService({
    entry,
    env: {
      DC_ZONE_PROXY_INSTALL_DIR: installDir,
      DC_ZONE_PROXY_ENDPOINT_INBOUND__HOST: '127.0.0.1',
      DC_ZONE_PROXY_ENDPOINT_INBOUND__PORT: '0',
      DC_ZONE_PROXY_MODULE_SERVER_INBOUND__HOST: '127.0.0.1',
      DC_ZONE_PROXY_MODULE_SERVER_INBOUND__PORT: '0',
      DC_ZONE_PROXY_PROVISIONING__HOST: '127.0.0.1',
      DC_ZONE_PROXY_PROVISIONING__PORT: '0',
      DC_ZONE_PROXY_METRICS__PORT: '0',
      DC_ZONE_PROXY_ACTIVITY_INTERVAL_MS: '500',
      DC_ZONE_PROXY_LOG_LEVEL: logLevel,
    },
  });
}

/**
 * A gateway that answers like the broker's for what these tests check: HelloAck naming the
 * verified client id and route, heartbeat acks, session streams that echo, Enrol/Renew answers.
 */
export class EchoGateway implements RelayedGateway {
  /** Each Hello's verified client id and route, the call's peer address and the endpoint's address as the zone proxy saw it. */
  readonly hellos: Array<{ clientId: string; route: string; peer: string; remoteAddress: string }> = [];
  readonly enrolments: string[] = [];
  readonly openChannels = new Set<object>();
  /** Response chunks received on session streams: request id and body size, in arrival order. */
  readonly sessionChunks: Array<{ requestId: string; bytes: number }> = [];

  enrol: RelayedGateway['enrol'] = (call, cb) => {
    const peer = relayedPeerOf(call);
    this.enrolments.push(call.request.hostName);
    cb(null, { clientId: `enrolled-${call.request.hostName}`, certificateChainPem: `route=${peer?.route ?? 'direct'}`, trustBundlePem: '', notAfter: new Date(0) });
  };

  renewCertificate: RelayedGateway['renewCertificate'] = (_call, cb) => cb({ code: status.FAILED_PRECONDITION, details: 'renewal refused by the test gateway' } as never, null);

  controlChannel: RelayedGateway['controlChannel'] = (call) => {
    const peer = relayedPeerOf(call);
    if (!peer?.clientId) {
      call.emit('error', { code: status.UNAUTHENTICATED, details: 'no verified client certificate' });
      return;
    }
    this.openChannels.add(call);
    call.on('data', (m: gateway.ControlChannelRequest) => {
      if (m.message?.$case === 'hello') {
        this.hellos.push({ clientId: peer.clientId, route: peer.route, peer: call.getPeer(), remoteAddress: peer.remoteAddress });
        call.write({ message: { $case: 'helloAck', value: { clientId: peer.clientId, brokerVersion: `route=${peer.route}`, serverTime: new Date(), latestConfigurationRevision: 0 } } });
      } else if (m.message?.$case === 'heartbeat') {
        call.write({ message: { $case: 'heartbeatAck', value: { sequence: m.message.value.sequence, serverTime: new Date() } } });
      }
    });
    const gone = () => this.openChannels.delete(call);
    call.on('end', () => {
      gone();
      call.end();
    });
    call.on('cancelled', gone);
  };

  sessionStream: RelayedGateway['sessionStream'] = (call) => {
    call.on('data', (m: gateway.SessionStreamRequest) => {
      if (m.message?.$case === 'attach') call.write({ message: { $case: 'attached', value: { sessionId: m.message.value.sessionId, moduleName: 'test', maxConcurrentRequests: 4 } } });
      else if (m.message?.$case === 'response') {
        const r = m.message.value;
        this.sessionChunks.push({ requestId: r.requestId, bytes: r.payload?.$case === 'generic' ? r.payload.value.body.length : 0 });
        call.write({ message: { $case: 'request', value: { requestId: `echo-${r.requestId}` } as sessionV1.SessionRequest } });
      }
    });
    call.on('end', () => call.end());
  };
}

/** An endpoint's gateway client on the zone proxy's :17486 (mutual TLS when a certificate is given). */
export function endpointClient(address: string, trustPem: string, cert?: { certPem: string; keyPem: string }, options: ChannelOptions = {}): gateway.EndpointGatewayServiceClient {
  const creds = credentials.createSsl(Buffer.from(trustPem), cert ? Buffer.from(cert.keyPem) : null, cert ? Buffer.from(cert.certPem) : null);
  return new gateway.EndpointGatewayServiceClient(address, creds, { 'grpc.ssl_target_name_override': 'localhost', 'grpc.default_authority': 'localhost', ...options });
}

export function noMetadata(): Metadata {
  return new Metadata();
}
