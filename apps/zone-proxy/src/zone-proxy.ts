// The zone proxy at run time: provisioning on :17488 until provisioned, then endpoint inbound
// (:17486) and the module server link (:17487) with the CA-issued certificates (DESIGN flow 7).
import { X509Certificate } from 'node:crypto';
import { DESCRIPTOR_SET_BASE64, type zoneProxyV1 as zp } from '@dc/proto';
import { type GrpcServerHandle, serverCredentials, startGrpcServer } from '@dc/service-kit';
import type { Logger } from 'pino';
import { type EndpointInbound, normaliseSerial, startEndpointInbound, type TrustState } from './endpoint-inbound/endpoint-inbound';
import { LinkHub } from './link/link-hub';
import { startLinkInbound } from './link/link-inbound';
import { readInstalledPayload } from './provision-payload/provision-payload';
import { type ProvisionedState, readProvisionedState, writeProvisionedState } from './provisioning/provisioned-state';
import { Provisioning, provisioningService } from './provisioning/provisioning-service';
import type { Listener } from './tls-inbound';

export interface Listen {
  readonly host: string;
  readonly port: number;
}

export interface ZoneProxyOptions {
  readonly installDir: string;
  readonly provisioning: Listen;
  /** Health-only listeners used until provisioning gives the record's bind addresses. */
  readonly unprovisionedEndpointInbound: Listen;
  readonly unprovisionedModuleServerInbound: Listen;
  readonly version: string;
  readonly log: Logger;
  readonly clock?: { now(): number };
  readonly activityIntervalMs?: number;
}

export class ZoneProxy {
  private state: ProvisionedState | undefined;
  private provisioningServer: GrpcServerHandle | undefined;
  /** Health-only gRPC servers until provisioned; then the TLS listeners relaying endpoints. */
  private endpointInbound: Listener | undefined;
  private moduleServerInbound: Listener | undefined;
  private hub: LinkHub | undefined;
  private trust: TrustState = { trustBundlePem: '', revocationVersion: 0, revoked: new Set() };
  private readonly clock: { now(): number };

  constructor(private readonly o: ZoneProxyOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
  }

  get ports() {
    return { endpointInbound: this.endpointInbound?.port, moduleServerInbound: this.moduleServerInbound?.port, provisioning: this.provisioningServer?.port };
  }

  async start(): Promise<void> {
    const payload = readInstalledPayload(this.o.installDir);
    this.state = readProvisionedState(this.o.installDir, payload?.fingerprintSha256);
    if (payload) {
      const provisioning = new Provisioning({
        payload: () => readInstalledPayload(this.o.installDir),
        servedFingerprintSha256: payload.fingerprintSha256,
        isProvisioned: () => this.state !== undefined,
        install: (s) => this.install(s),
        clock: this.clock,
        log: this.o.log.child({ component: 'provisioning' }),
        version: this.o.version,
      });
      this.provisioningServer = await startGrpcServer({
        name: 'provisioning',
        ...this.o.provisioning,
        credentials: serverCredentials({ caPem: payload.certificatePem, certPem: payload.certificatePem, keyPem: payload.privateKeyPem }, false),
        services: [provisioningService(provisioning, this.o.log)],
        descriptorSetBase64: DESCRIPTOR_SET_BASE64,
        log: this.o.log,
      });
    } else {
      this.o.log.warn({ installDir: this.o.installDir }, 'no provision payload: run "zone-proxy install"; serving health only');
      this.provisioningServer = await this.healthOnly('provisioning', this.o.provisioning);
    }
    if (this.state) await this.listen(this.state);
    else {
      this.endpointInbound = await this.healthOnly('endpoint-inbound', this.o.unprovisionedEndpointInbound);
      this.moduleServerInbound = await this.healthOnly('module-server-inbound', this.o.unprovisionedModuleServerInbound);
    }
  }

  status(): zp.GetStatusResponse {
    const notAfter = (pem: string | undefined) => (pem ? new Date(new X509Certificate(pem).validTo) : undefined);
    return {
      zoneProxyName: this.state?.zoneProxyName ?? '',
      version: this.o.version,
      provisioned: this.state !== undefined,
      linked: this.hub?.linked ?? false,
      activity: this.hub?.activity(),
      endpointFacingNotAfter: notAfter(this.state?.endpointFacing.certificateChainPem),
      linkFacingNotAfter: notAfter(this.state?.linkFacing.certificateChainPem),
      revocationListVersion: this.trust.revocationVersion,
    };
  }

  async stop(): Promise<void> {
    this.hub?.close();
    await Promise.all([this.provisioningServer?.shutdown(1000), this.endpointInbound?.shutdown(1000), this.moduleServerInbound?.shutdown(1000)]);
  }

  /** Provisioning completed: listen with the new material, then save it (a bind failure stores nothing). */
  private async install(state: ProvisionedState): Promise<void> {
    const previous = [this.endpointInbound, this.moduleServerInbound];
    this.endpointInbound = undefined;
    this.moduleServerInbound = undefined;
    await Promise.all(previous.map((s) => s?.shutdown(0)));
    try {
      await this.listen(state);
    } catch (err) {
      const partial: Array<Listener | undefined> = [this.endpointInbound, this.moduleServerInbound];
      await Promise.all(partial.map((s) => s?.shutdown(0)));
      this.endpointInbound = await this.healthOnly('endpoint-inbound', this.o.unprovisionedEndpointInbound);
      this.moduleServerInbound = await this.healthOnly('module-server-inbound', this.o.unprovisionedModuleServerInbound);
      throw err;
    }
    writeProvisionedState(this.o.installDir, state);
    this.state = state;
  }

  private async listen(state: ProvisionedState): Promise<void> {
    this.trust = { trustBundlePem: state.trustBundlePem, revocationVersion: state.revocation.version, revoked: new Set(state.revocation.serials.map(normaliseSerial)) };
    // The hub answers endpoint connections it cannot relay through the endpoint listener, started after it.
    const inbound: { current?: EndpointInbound } = {};
    const hub = new LinkHub({
      zoneProxyName: state.zoneProxyName,
      version: this.o.version,
      clock: this.clock,
      log: this.o.log.child({ component: 'link' }),
      activityIntervalMs: this.o.activityIntervalMs,
      onTrustUpdate: (u) => this.applyTrust(u),
      refuse: (endpoint, code, reason) => (inbound.current ? inbound.current.refuse(endpoint, code, reason) : endpoint.destroy()),
      onLinked: (linked) => inbound.current?.setServing(linked),
    });
    this.hub = hub;
    // Client certificates are requested on both; ZoneLinkService and relay connections refuse
    // a peer without a verified module server certificate, and health checks need none.
    this.moduleServerInbound = await startLinkInbound({
      ...state.moduleServerInbound,
      tls: { certificateChainPem: state.linkFacing.certificateChainPem, privateKeyPem: state.linkFacing.privateKeyPem, trustBundlePem: state.trustBundlePem },
      hub,
      status: () => this.status(),
      isRevoked: (s) => this.trust.revoked.has(s),
      log: this.o.log,
    });
    inbound.current = await startEndpointInbound({
      ...state.endpointInbound,
      tls: { certificateChainPem: state.endpointFacing.certificateChainPem, privateKeyPem: state.endpointFacing.privateKeyPem, trustBundlePem: state.trustBundlePem },
      hub: () => hub,
      trust: () => this.trust,
      log: this.o.log,
      clock: this.clock,
    });
    inbound.current.setServing(hub.linked);
    this.endpointInbound = inbound.current;
  }

  /** New revocation lists apply to the next handshake and end relayed connections now revoked; a new trust bundle applies at the next restart of the listener. */
  private applyTrust(u: zp.TrustUpdate): void {
    const rl = u.revocationList;
    if (rl && rl.version > this.trust.revocationVersion) {
      this.trust = { ...this.trust, revocationVersion: rl.version, revoked: new Set(rl.serials.map(normaliseSerial)) };
      if (this.state) {
        this.state = { ...this.state, revocation: { version: rl.version, serials: rl.serials } };
        writeProvisionedState(this.o.installDir, this.state);
      }
      const ended = this.hub?.endRevoked((serial) => this.trust.revoked.has(normaliseSerial(serial))) ?? 0;
      this.o.log.info({ version: rl.version, revoked: rl.serials.length, connectionsEnded: ended }, 'revocation list updated');
    }
  }

  private healthOnly(name: string, at: Listen): Promise<GrpcServerHandle> {
    return startGrpcServer({ name, ...at, services: [], descriptorSetBase64: DESCRIPTOR_SET_BASE64, log: this.o.log });
  }
}
