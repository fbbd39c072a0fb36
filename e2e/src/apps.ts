// How to start each server app for a test: its entry point, temp-dir config and the ports it serves.
import { join } from 'node:path';
import { distEntry } from '@dc/service-kit/testing';

export interface ServerApp {
  readonly name: string;
  readonly entry: string;
  /** Environment that puts every port on 0 (ephemeral) and the data under dir. */
  env(dir: string): Record<string, string>;
  /** Names of the gRPC ports in the app's `service started` line. */
  readonly grpcPorts: readonly string[];
  /** The app's own gRPC services (reflection must list them). */
  readonly services: readonly string[];
  /** An environment variable holding a port, for the malformed-config test. */
  readonly portEnv: string;
  /** For a TLS server: the grpc_interop.py arguments that make the client trust it. */
  tlsArgs?(dir: string): string[];
}

export const SERVER_APPS: readonly ServerApp[] = [
  {
    name: 'cert-authority',
    entry: distEntry('apps/cert-authority'),
    env: (dir) => ({ DC_CA_DATA_DIR: dir, DC_CA_GRPC__PORT: '0', DC_CA_METRICS__PORT: '0' }),
    grpcPorts: ['grpc'],
    services: ['dc.ca.v1.CertificateAuthorityService'],
    portEnv: 'DC_CA_GRPC__PORT',
    // The CA serves TLS with a certificate it issued itself for localhost / 127.0.0.1.
    tlsArgs: (dir) => ['--ca', join(dir, 'trust-bundle.pem')],
  },
  {
    name: 'settings',
    entry: distEntry('apps/settings'),
    env: (dir) => ({ DC_SETTINGS_DATA_DIR: dir, DC_SETTINGS_GRPC__PORT: '0', DC_SETTINGS_METRICS__PORT: '0' }),
    grpcPorts: ['grpc'],
    services: ['Setup', 'ConnectionSettings', 'ActionGroup', 'Policy', 'ZoneProxy', 'Rbac', 'RecorderConfig', 'AuditLog', 'Watch'].map(
      (s) => `dc.settings.v1.${s}Service`,
    ),
    portEnv: 'DC_SETTINGS_GRPC__PORT',
  },
  {
    name: 'module-server',
    entry: distEntry('apps/module-server'),
    env: (dir) => ({
      DC_MODULE_SERVER_DATA_DIR: dir,
      DC_MODULE_SERVER_API__PORT: '0',
      DC_MODULE_SERVER_GATEWAY__PORT: '0',
      DC_MODULE_SERVER_METRICS__PORT: '0',
    }),
    grpcPorts: ['api', 'gateway'],
    services: [],
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
    grpcPorts: ['endpointInbound', 'moduleServerInbound', 'provisioning'],
    services: [],
    portEnv: 'DC_ZONE_PROXY_ENDPOINT_INBOUND__PORT',
  },
];
