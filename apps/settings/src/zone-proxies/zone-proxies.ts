// Zone proxies (SPEC 1.4.6): add (with the parsed provision payload), list with status, delete; never modify.
import { createHash, randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { Clock } from '../clock';
import { validateHost } from '../connection-settings/fqdn';
import { AlreadyExists, alreadyExists, InvalidArgument, notFound, Unimplemented } from '../errors';
import type { SecretBox } from '../store/secret-box';
import type { Actor, SettingsStore } from '../store/settings-store';
import { parseProvisionPayload } from './provision-payload';

export const DEFAULT_ENDPOINT_INBOUND_PORT = 17486; // SPEC 1.2
export const DEFAULT_MODULE_SERVER_INBOUND_PORT = 17487; // SPEC 1.2
export const PROVISIONING_PORT = 17488; // SPEC 1.2: opened by the installer, not a bind port of ours

export const ZONE_PROXY_STATUSES = ['PROVISIONING', 'CONNECTED', 'DISCONNECTED', 'ERROR'] as const;
export type ZoneProxyStatus = (typeof ZONE_PROXY_STATUSES)[number];

export interface AddZoneProxyInput {
  name: string;
  provisionPayload: string;
  endpointTargetHostname: string;
  endpointInboundIp: string;
  endpointInboundPort?: number;
  moduleServerTargetHostname: string;
  moduleServerInboundIp: string;
  moduleServerInboundPort?: number;
}

/** What the module server observes of a zone proxy (dc.common.v1.ZoneProxyActivity, as JSON). */
export type ZoneProxyActivity = Record<string, unknown>;

/** A zone proxy as listed: everything but the provision secret. */
export interface ZoneProxy {
  id: string;
  name: string;
  endpointTargetHostname: string;
  endpointInboundIp: string;
  endpointInboundPort: number;
  moduleServerTargetHostname: string;
  moduleServerInboundIp: string;
  moduleServerInboundPort: number;
  certificatePem: string;
  certificateFingerprintSha256: string;
  certificateNotAfter: string;
  createdAt: string;
  createdBy: string;
  status: ZoneProxyStatus;
  statusDetail: string;
  statusUpdatedAt: string;
  /** Last activity the module server reported (endpoints, sessions, bytes, last error). */
  activity: ZoneProxyActivity;
}

interface StoredZoneProxy extends ZoneProxy {
  /** Sealed with the SecretBox; never returned by list or get. */
  provisionSecret: string;
}

export const ZONE_PROXY_KIND = 'zone_proxy';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export const IMMUTABLE_REASON =
  'a zone proxy configuration cannot be modified because it is bound to its provisioning; delete the zone proxy and add it again (SPEC 1.4.6)';

export class ZoneProxyService {
  constructor(private readonly deps: { store: SettingsStore; secrets: SecretBox; clock: Clock }) {}

  list(): ZoneProxy[] {
    return this.deps.store.list<StoredZoneProxy>(ZONE_PROXY_KIND).map((d) => publicView(d.value));
  }

  get(id: string): ZoneProxy {
    return publicView(this.stored(id));
  }

  /** Finds a zone proxy by name. */
  byName(name: string): ZoneProxy | undefined {
    return this.list().find((z) => z.name === name);
  }

  /** The clear provision secret, for the module server's provisioning handshake only. */
  provisionSecret(id: string): Buffer {
    return this.deps.secrets.open(this.stored(id).provisionSecret);
  }

  add(actor: Actor, input: AddZoneProxyInput): { zoneProxy: ZoneProxy; revision: number } {
    if (!NAME.test(input.name ?? '')) {
      throw new InvalidArgument('name', `a zone proxy name is 1–63 letters, digits, ".", "_" or "-", starting with a letter or digit`, input.name);
    }
    const now = this.deps.clock.now();
    const payload = parseProvisionPayload(input.provisionPayload ?? '', now);
    const endpointTarget = validateHost('endpointTargetHostname', input.endpointTargetHostname ?? '');
    const moduleServerTarget = validateHost('moduleServerTargetHostname', input.moduleServerTargetHostname ?? '');
    const endpointInboundIp = bindAddress('endpointInboundIp', input.endpointInboundIp);
    const moduleServerInboundIp = bindAddress('moduleServerInboundIp', input.moduleServerInboundIp);
    const endpointInboundPort = port('endpointInboundPort', input.endpointInboundPort, DEFAULT_ENDPOINT_INBOUND_PORT);
    const moduleServerInboundPort = port(
      'moduleServerInboundPort',
      input.moduleServerInboundPort,
      DEFAULT_MODULE_SERVER_INBOUND_PORT,
    );
    if (endpointInboundPort === moduleServerInboundPort && overlaps(endpointInboundIp, moduleServerInboundIp)) {
      throw new InvalidArgument('moduleServerInboundPort', `the same address and port as the endpoint inbound binding (${endpointInboundIp}:${endpointInboundPort}); use a different port or address`, moduleServerInboundPort);
    }
    const iso = now.toISOString();
    const record: StoredZoneProxy = {
      id: `zp_${randomBytes(6).toString('hex')}`,
      name: input.name,
      endpointTargetHostname: endpointTarget.host,
      endpointInboundIp,
      endpointInboundPort,
      moduleServerTargetHostname: moduleServerTarget.host,
      moduleServerInboundIp,
      moduleServerInboundPort,
      certificatePem: payload.certificatePem,
      certificateFingerprintSha256: createHash('sha256').update(payload.certificate.raw).digest('hex'),
      certificateNotAfter: new Date(payload.certificate.validTo).toISOString(),
      createdAt: iso,
      createdBy: typeof actor === 'string' ? actor : actor.name,
      status: 'PROVISIONING',
      statusDetail: 'waiting for the module server to provision the zone proxy',
      statusUpdatedAt: iso,
      activity: {},
      provisionSecret: this.deps.secrets.seal(payload.secret),
    };
    return this.deps.store.transaction(() => {
      const existing = this.list();
      if (existing.some((z) => z.name === input.name)) throw alreadyExists('zone proxy', input.name);
      const twin = existing.find((z) => z.certificateFingerprintSha256 === record.certificateFingerprintSha256);
      if (twin) {
        throw new AlreadyExists(
          `provisionPayload: this payload is already used by zone proxy "${twin.name}"; re-run the zone proxy installer for a new payload`,
        );
      }
      return { zoneProxy: publicView(record), revision: this.deps.store.put(actor, ZONE_PROXY_KIND, record.id, record) };
    });
  }

  /** Always refused: SPEC 1.4.6 makes a zone proxy immutable once added. */
  update(id: string): never {
    const { name } = this.stored(id);
    throw new Unimplemented(`zone proxy "${name}": ${IMMUTABLE_REASON}`);
  }

  delete(actor: Actor, id: string): number {
    return this.deps.store.transaction(() => {
      this.stored(id);
      return this.deps.store.remove(actor, ZONE_PROXY_KIND, id) as number;
    });
  }

  /** Records the status the module server observes (not a configuration change, so allowed). */
  reportStatus(
    actor: Actor,
    id: string,
    status: ZoneProxyStatus,
    detail: string,
    activity: ZoneProxyActivity = {},
  ): { zoneProxy: ZoneProxy; revision: number } {
    if (!ZONE_PROXY_STATUSES.includes(status)) {
      throw new InvalidArgument('status', `must be one of ${ZONE_PROXY_STATUSES.join(', ')}`, String(status));
    }
    return this.deps.store.transaction(() => {
      const current = this.stored(id);
      const iso = this.deps.clock.now().toISOString();
      const next: StoredZoneProxy = { ...current, status, statusDetail: detail, statusUpdatedAt: iso, activity };
      return { zoneProxy: publicView(next), revision: this.deps.store.put(actor, ZONE_PROXY_KIND, id, next) };
    });
  }

  private stored(id: string): StoredZoneProxy {
    const doc = this.deps.store.get<StoredZoneProxy>(ZONE_PROXY_KIND, id);
    if (!doc) throw notFound('zone proxy', id);
    return doc.value;
  }
}

function publicView(stored: StoredZoneProxy): ZoneProxy {
  const { provisionSecret: _secret, ...rest } = stored;
  return rest;
}

function bindAddress(field: string, value: string | undefined): string {
  const v = (value ?? '').trim();
  if (!isIPv4(v)) {
    throw new InvalidArgument(field, `must be an IPv4 address of an interface on the zone server`, value ?? '');
  }
  return v;
}

function port(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined || value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new InvalidArgument(field, `must be a port number from 1 to 65535`, value);
  }
  if (value === PROVISIONING_PORT) {
    throw new InvalidArgument(field, `reserved for zone proxy provisioning (SPEC 1.2)`, value);
  }
  return value;
}

function overlaps(a: string, b: string): boolean {
  return a === b || a === '0.0.0.0' || b === '0.0.0.0';
}
