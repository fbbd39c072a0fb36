// How to start each server app for a test: its entry point, temp-dir config and the ports it serves.
import { join } from 'node:path';
import { distEntry } from '@dc/service-kit/testing';

/** A running certificate authority that apps needing one are pointed at. */
export interface CaRef {
  readonly port: number;
  readonly dir: string;
}

export interface GrpcPort {
  /** Name of the port in the app's `service started` line. */
  readonly name: string;
  /** The app's own gRPC services on this port (health and reflection must know them). */
  readonly services: readonly string[];
  /** For a TLS port: the grpc_interop.py arguments that make the client trust it. */
  tlsArgs?(dir: string, ca?: CaRef): string[];
}

export interface ServerApp {
  readonly name: string;
  readonly entry: string;
  /** Whether the app needs a running cert-authority (it gets one in `ca`). */
  readonly needsCa?: boolean;
  /** Environment that puts every port on 0 (ephemeral) and the data under dir. */
  env(dir: string, ca?: CaRef): Record<string, string>;
  readonly grpcPorts: readonly GrpcPort[];
  /** An environment variable holding a port, for the malformed-config test. */
  readonly portEnv: string;
}

const trustBundle = (caDir: string) => ['--ca', join(caDir, 'trust-bundle.pem')];

export const CERT_AUTHORITY: ServerApp = {
  name: 'cert-authority',
  entry: distEntry('apps/cert-authority'),
  env: (dir) => ({ DC_CA_DATA_DIR: dir, DC_CA_GRPC__PORT: '0', DC_CA_METRICS__PORT: '0' }),
  // The CA serves TLS with a certificate it issued itself for localhost / 127.0.0.1.
  grpcPorts: [{ name: 'grpc', services: ['dc.ca.v1.CertificateAuthorityService'], tlsArgs: (dir) => trustBundle(dir) }],
  portEnv: 'DC_CA_GRPC__PORT',
};

export const SERVER_APPS: readonly ServerApp[] = [
  CERT_AUTHORITY,
  {
    name: 'settings',
    entry: distEntry('apps/settings'),
    env: (dir) => ({ DC_SETTINGS_DATA_DIR: dir, DC_SETTINGS_GRPC__PORT: '0', DC_SETTINGS_METRICS__PORT: '0' }),
    grpcPorts: [
      {
        name: 'grpc',
        services: ['Setup', 'ConnectionSettings', 'ActionGroup', 'Policy', 'ZoneProxy', 'Rbac', 'RecorderConfig', 'AuditLog', 'Watch'].map((s) => `dc.settings.v1.${s}Service`),
      },
    ],
    portEnv: 'DC_SETTINGS_GRPC__PORT',
  },
  {
    name: 'module-server',
    entry: distEntry('apps/module-server'),
    needsCa: true,
    env: (dir, ca) => ({
      DC_MODULE_SERVER_DATA_DIR: dir,
      DC_MODULE_SERVER_API__PORT: '0',
      DC_MODULE_SERVER_GATEWAY__PORT: '0',
      DC_MODULE_SERVER_METRICS__PORT: '0',
      DC_MODULE_SERVER_CA__ADDRESS: `127.0.0.1:${ca!.port}`,
      DC_MODULE_SERVER_CA__CA_FILE: join(ca!.dir, 'trust-bundle.pem'),
      DC_MODULE_SERVER_CA__CERT_FILE: join(ca!.dir, 'credentials', 'module-server.cert.pem'),
      DC_MODULE_SERVER_CA__KEY_FILE: join(ca!.dir, 'credentials', 'module-server.key.pem'),
    }),
    grpcPorts: [
      { name: 'api', services: ['Endpoint', 'Session', 'Event', 'Admin'].map((s) => `dc.moduleserver.v1.${s}Service`) },
      // The gateway is TLS with a certificate the CA issued; client certificates are checked per call.
      { name: 'gateway', services: ['dc.gateway.v1.EndpointGatewayService'], tlsArgs: (_dir, ca) => trustBundle(ca!.dir) },
    ],
    portEnv: 'DC_MODULE_SERVER_API__PORT',
  },
  {
    name: 'zone-proxy',
    entry: distEntry('apps/zone-proxy'),
    env: (dir) => ({
      DC_ZONE_PROXY_INSTALL_DIR: dir,
      DC_ZONE_PROXY_ENDPOINT_INBOUND__HOST: '127.0.0.1',
      DC_ZONE_PROXY_ENDPOINT_INBOUND__PORT: '0',
      DC_ZONE_PROXY_MODULE_SERVER_INBOUND__HOST: '127.0.0.1',
      DC_ZONE_PROXY_MODULE_SERVER_INBOUND__PORT: '0',
      DC_ZONE_PROXY_PROVISIONING__HOST: '127.0.0.1',
      DC_ZONE_PROXY_PROVISIONING__PORT: '0',
      DC_ZONE_PROXY_METRICS__PORT: '0',
    }),
    // Before provisioning the endpoint and link ports answer health only (apps/zone-proxy README).
    grpcPorts: [
      { name: 'endpointInbound', services: [] },
      { name: 'moduleServerInbound', services: [] },
    ],
    portEnv: 'DC_ZONE_PROXY_ENDPOINT_INBOUND__PORT',
  },
];
