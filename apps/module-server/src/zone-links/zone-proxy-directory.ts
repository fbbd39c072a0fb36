// What zone links need from settings and the CA, declared beside their use (STYLE), with the
// gRPC implementations over dc.settings.v1 ZoneProxyService and dc.ca.v1.
import { promisify } from 'node:util';
import { type ChannelCredentials, type ChannelOptions, Metadata } from '@grpc/grpc-js';
import { caV1, commonV1, settingsV1 } from '@dc/proto';

/** A zone proxy record as settings holds it (SPEC 1.4.6), without the secret. */
export interface ZoneProxyRecord {
  readonly id: string;
  readonly name: string;
  readonly endpointTargetHostname: string;
  readonly endpointInboundIpAddress: string;
  readonly endpointInboundPort: number;
  readonly moduleServerTargetHostname: string;
  readonly moduleServerInboundIpAddress: string;
  readonly moduleServerInboundPort: number;
  /** SHA-256 of the payload certificate DER, lowercase hex. */
  readonly payloadCertificateFingerprintSha256: string;
}

export interface ZoneProxyProvisioningMaterial {
  readonly record: ZoneProxyRecord;
  /** The decoded provision secret (HMAC key). Never logged. */
  readonly provisionSecret: Buffer;
  readonly payloadCertificatePem: string;
}

export type ZoneLinkStatus = 'PROVISIONING' | 'CONNECTED' | 'DISCONNECTED' | 'ERROR';

/** SPEC 1.4.6 activity. */
export interface ZoneProxyActivity {
  readonly endpointsConnected: number;
  readonly sessions: number;
  readonly bytesToModuleServer: number;
  readonly bytesToEndpoints: number;
  readonly lastError: string;
  readonly lastErrorTime?: Date;
  readonly connectedSince?: Date;
  readonly observedTime?: Date;
}

/** Settings, as zone links use it. */
export interface ZoneProxySettings {
  /** Every zone proxy record (the ones to link; a missing one was deleted). */
  list(): Promise<ZoneProxyRecord[]>;
  /** The provision secret and the certificate to pin; NotFound once deleted. */
  provisioning(zoneProxyId: string): Promise<ZoneProxyProvisioningMaterial>;
  reportStatus(zoneProxyId: string, status: ZoneLinkStatus, detail: string, activity: ZoneProxyActivity | undefined): Promise<void>;
}

/** The CA, as zone links use it. */
export interface ZoneCertificateAuthority {
  /** Issues a zone proxy certificate for the proxy's CSR (purpose endpoint- or link-facing). */
  issueZoneProxyCertificate(req: { facing: 'endpoint' | 'link'; zoneProxyName: string; csrPem: string; dnsNames: string[]; ipAddresses: string[] }): Promise<{ certificateChainPem: string; trustBundlePem: string }>;
  trustBundle(): Promise<string>;
  revocationList(): Promise<{ version: number; serials: string[] }>;
}

export function recordFromProto(z: settingsV1.ZoneProxy): ZoneProxyRecord {
  return {
    id: z.zoneProxyId,
    name: z.name,
    endpointTargetHostname: z.endpointTargetHostname,
    endpointInboundIpAddress: z.endpointInboundIpAddress,
    endpointInboundPort: z.endpointInboundPort || 17486, // SPEC 1.2
    moduleServerTargetHostname: z.moduleServerTargetHostname,
    moduleServerInboundIpAddress: z.moduleServerInboundIpAddress,
    moduleServerInboundPort: z.moduleServerInboundPort || 17487, // SPEC 1.2
    payloadCertificateFingerprintSha256: z.payloadCertificateFingerprintSha256,
  };
}

const STATUS: Record<ZoneLinkStatus, commonV1.ZoneProxyStatus> = {
  PROVISIONING: commonV1.ZoneProxyStatus.ZONE_PROXY_STATUS_PROVISIONING,
  CONNECTED: commonV1.ZoneProxyStatus.ZONE_PROXY_STATUS_CONNECTED,
  DISCONNECTED: commonV1.ZoneProxyStatus.ZONE_PROXY_STATUS_DISCONNECTED,
  ERROR: commonV1.ZoneProxyStatus.ZONE_PROXY_STATUS_ERROR,
};

/** The service account token, when calls authenticate by token rather than by the service certificate (mutual TLS). */
function bearer(token: string): Metadata {
  const md = new Metadata();
  if (token) md.set('authorization', `Bearer ${token}`);
  return md;
}

type Unary<Req, Res> = (req: Req, md: Metadata) => Promise<Res>;
function unary<Req, Res>(client: object, name: string): Unary<Req, Res> {
  const fn = (client as Record<string, (...a: unknown[]) => unknown>)[name]!.bind(client);
  return promisify((req: Req, md: Metadata, cb: (err: Error | null, res: Res) => void) => fn(req, md, cb)) as Unary<Req, Res>;
}

/** Settings over gRPC with the service account token (CRON_EXEC). */
export class GrpcZoneProxySettings implements ZoneProxySettings {
  private readonly client: settingsV1.ZoneProxyServiceClient;
  constructor(
    address: string,
    credentials: ChannelCredentials,
    private readonly serviceToken: () => string = () => '',
    options: ChannelOptions = {},
  ) {
    this.client = new settingsV1.ZoneProxyServiceClient(address, credentials, options);
  }

  async list(): Promise<ZoneProxyRecord[]> {
    const out: ZoneProxyRecord[] = [];
    let pageToken = '';
    do {
      const res = await unary<settingsV1.ListZoneProxiesRequest, settingsV1.ListZoneProxiesResponse>(this.client, 'listZoneProxies')({ pageSize: 100, pageToken }, bearer(this.serviceToken()));
      out.push(...res.zoneProxies.map(recordFromProto));
      pageToken = res.nextPageToken;
    } while (pageToken);
    return out;
  }

  async provisioning(zoneProxyId: string): Promise<ZoneProxyProvisioningMaterial> {
    const res = await unary<settingsV1.GetZoneProxyProvisioningRequest, settingsV1.GetZoneProxyProvisioningResponse>(this.client, 'getZoneProxyProvisioning')({ zoneProxyId }, bearer(this.serviceToken()));
    if (!res.zoneProxy) throw new Error(`settings returned no record for zone proxy ${zoneProxyId}`);
    return { record: recordFromProto(res.zoneProxy), provisionSecret: Buffer.from(res.provisionSecret), payloadCertificatePem: res.payloadCertificatePem };
  }

  async reportStatus(zoneProxyId: string, status: ZoneLinkStatus, statusDetail: string, activity: ZoneProxyActivity | undefined): Promise<void> {
    await unary<settingsV1.ReportZoneProxyStatusRequest, settingsV1.ReportZoneProxyStatusResponse>(this.client, 'reportZoneProxyStatus')(
      { zoneProxyId, status: STATUS[status], statusDetail, activity },
      bearer(this.serviceToken()),
    );
  }

  close(): void {
    this.client.close();
  }
}

/** The CA over gRPC with the service account token (CRON_EXEC); trust and revocation are public. */
export class GrpcZoneCertificateAuthority implements ZoneCertificateAuthority {
  private readonly client: caV1.CertificateAuthorityServiceClient;
  constructor(
    address: string,
    credentials: ChannelCredentials,
    private readonly serviceToken: () => string = () => '',
    options: ChannelOptions = {},
  ) {
    this.client = new caV1.CertificateAuthorityServiceClient(address, credentials, options);
  }

  async issueZoneProxyCertificate(req: { facing: 'endpoint' | 'link'; zoneProxyName: string; csrPem: string; dnsNames: string[]; ipAddresses: string[] }) {
    const res = await unary<caV1.IssueCertificateRequest, caV1.IssueCertificateResponse>(this.client, 'issueCertificate')(
      {
        purpose: req.facing === 'endpoint' ? caV1.CertificatePurpose.CERTIFICATE_PURPOSE_ZONE_PROXY_ENDPOINT_FACING : caV1.CertificatePurpose.CERTIFICATE_PURPOSE_ZONE_PROXY_LINK_FACING,
        commonName: req.dnsNames[0] ?? req.ipAddresses[0] ?? req.zoneProxyName,
        dnsNames: req.dnsNames,
        ipAddresses: req.ipAddresses,
        csrPem: req.csrPem,
        label: req.zoneProxyName,
      },
      bearer(this.serviceToken()),
    );
    return { certificateChainPem: res.certificateChainPem, trustBundlePem: res.trustBundlePem };
  }

  async trustBundle(): Promise<string> {
    const res = await unary<caV1.GetTrustBundleRequest, caV1.GetTrustBundleResponse>(this.client, 'getTrustBundle')({}, new Metadata());
    return res.trustBundlePem;
  }

  async revocationList(): Promise<{ version: number; serials: string[] }> {
    const res = await unary<caV1.GetRevocationListRequest, caV1.GetRevocationListResponse>(this.client, 'getRevocationList')({ knownVersion: 0 }, new Metadata());
    return { version: res.version, serials: res.entries.map((e) => e.serial) };
  }

  close(): void {
    this.client.close();
  }
}
