// Every zone proxy link of this module server (SPEC 1.4.6): one ZoneLink per settings record,
// created when a record appears and torn down when it is deleted; trust updates pushed to all;
// status and activity reported to settings.
import type { zoneProxyV1 as zp } from '@dc/proto';
import type { Logger } from 'pino';
import type { BackoffPolicy } from './backoff';
import { RelayServer } from './relay-server';
import type { RelayedGateway } from './relayed-peer';
import { type LinkIdentity, ZoneLink, type ZoneLinkStatusView } from './zone-link';
import type { ZoneCertificateAuthority, ZoneProxyRecord, ZoneProxySettings } from './zone-proxy-directory';

export interface ZoneLinksOptions {
  readonly settings: ZoneProxySettings;
  readonly ca: ZoneCertificateAuthority;
  /** The module server's client certificate for links (renewals are picked up at the next dial). */
  readonly identity: () => LinkIdentity;
  /** The gateway handlers relayed endpoint connections are served with (the same as :17475's). */
  readonly gateway: RelayedGateway;
  readonly log: Logger;
  readonly moduleServerVersion: string;
  readonly clock?: { now(): number };
  readonly random?: () => number;
  readonly backoff?: BackoffPolicy;
  readonly keepaliveIntervalMs?: number;
  /** How often settings is asked for the records (when not driven by a watch) and the CA for revocations. Default 10 s. */
  readonly pollIntervalMs?: number;
  /** Activity is reported to settings at most this often (status changes go at once). Default 30 s. */
  readonly reportIntervalMs?: number;
  /** Dial overrides per zone proxy name (tests). */
  readonly addresses?: (record: ZoneProxyRecord) => { provisioning?: string; link?: string } | undefined;
}

export class ZoneLinks {
  private readonly links = new Map<string, ZoneLink>();
  private trust: zp.TrustUpdate | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly lastReported = new Map<string, { status: string; at: number }>();
  private readonly clock: { now(): number };
  private readonly relay: RelayServer;

  constructor(private readonly o: ZoneLinksOptions) {
    this.clock = o.clock ?? { now: () => Date.now() };
    this.relay = new RelayServer(o.gateway);
  }

  /** Polls settings and the CA until close(); call reconcile() directly when a watch drives it. */
  start(): void {
    const tick = async () => {
      try {
        await this.refreshTrust();
        this.reconcile(await this.o.settings.list());
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'zone proxy records or trust could not be refreshed');
      }
    };
    void tick();
    this.pollTimer = setInterval(() => void tick(), this.o.pollIntervalMs ?? 10_000);
  }

  /** Makes the links match the records: new ones start, deleted ones are torn down. Records are immutable (SPEC 1.4.6). */
  reconcile(records: readonly ZoneProxyRecord[]): void {
    const wanted = new Map(records.map((r) => [r.id, r]));
    for (const [id, link] of this.links) {
      if (!wanted.has(id)) {
        link.stop(`zone proxy "${link.record.name}" was deleted`);
        this.links.delete(id);
        this.lastReported.delete(id);
        this.o.log.info({ zoneProxy: link.record.name }, 'zone proxy deleted: link torn down');
      }
    }
    for (const r of wanted.values()) {
      if (this.links.has(r.id)) continue;
      const link = new ZoneLink(r, {
        settings: this.o.settings,
        ca: this.o.ca,
        identity: this.o.identity,
        relay: this.relay,
        log: this.o.log,
        clock: this.clock,
        random: this.o.random ?? Math.random,
        moduleServerVersion: this.o.moduleServerVersion,
        backoff: this.o.backoff,
        keepaliveIntervalMs: this.o.keepaliveIntervalMs,
        trust: () => this.trust,
        onChange: (v) => this.report(v),
        addresses: this.o.addresses?.(r),
      });
      this.links.set(r.id, link);
      link.start();
    }
  }

  /** Status and activity of every zone proxy (SPEC 1.4.6). */
  statuses(): ZoneLinkStatusView[] {
    return [...this.links.values()].map((l) => l.view());
  }

  status(zoneProxyId: string): ZoneLinkStatusView | undefined {
    return this.links.get(zoneProxyId)?.view();
  }

  /** Fetches the CA's trust bundle and revocation list and pushes a newer one to every link. */
  async refreshTrust(): Promise<void> {
    const [bundle, rl] = await Promise.all([this.o.ca.trustBundle(), this.o.ca.revocationList()]);
    const previous = this.trust;
    if (previous && previous.trustBundlePem === bundle && (previous.revocationList?.version ?? 0) >= rl.version) return;
    this.trust = { trustBundlePem: bundle, revocationList: { version: rl.version, serials: rl.serials } };
    if (previous) for (const link of this.links.values()) link.pushTrust(this.trust);
  }

  close(): void {
    clearInterval(this.pollTimer);
    for (const link of this.links.values()) link.stop('the module server is shutting down');
    this.links.clear();
    this.relay.close();
  }

  private report(v: ZoneLinkStatusView): void {
    const last = this.lastReported.get(v.zoneProxyId);
    const now = this.clock.now();
    const key = `${v.status}|${v.detail}`;
    if (last && last.status === key && now - last.at < (this.o.reportIntervalMs ?? 30_000)) return;
    this.lastReported.set(v.zoneProxyId, { status: key, at: now });
    this.o.settings.reportStatus(v.zoneProxyId, v.status, v.detail, v.activity).catch((err: unknown) => {
      this.o.log.warn({ zoneProxy: v.name, err: (err as Error).message }, 'zone proxy status could not be reported to settings');
    });
  }
}
