// Checks the generated contracts against the embedded descriptor set: every service and rpc is
// present, the ts-proto service definitions agree with it, and messages survive the wire.
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer } from '@grpc/proto-loader';
import type { PackageDefinition, MethodDefinition } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import {
  DESCRIPTOR_SET_BASE64,
  caV1,
  commonV1,
  gatewayV1,
  moduleServerV1,
  sessionV1,
  settingsV1,
  zoneProxyV1,
} from './index';

const definition: PackageDefinition = loadFileDescriptorSetFromBuffer(
  Buffer.from(DESCRIPTOR_SET_BASE64, 'base64'),
  { longs: Number, enums: String, defaults: false, oneofs: true },
);

/** The services the SPEC needs, with the rpcs each must offer (more may be added). */
const REQUIRED: Record<string, string[]> = {
  'dc.moduleserver.v1.EndpointService': ['ListEndpoints', 'GetEndpoint', 'TestConnection', 'RenewEndpointCertificates'],
  'dc.moduleserver.v1.SessionService': [
    'OpenSession', 'CloseSession', 'GetSession', 'ListSessions', 'SendSessionRequest', 'QueryEvents',
    'GetProcessHistory', 'FindFiles', 'ValidatePatterns', 'RetrieveKey', 'GetRecorderStatus',
    'StartRecorder', 'StopRecorder', 'RecreateDatabase', 'PingSession',
  ],
  'dc.moduleserver.v1.EventService': [
    'ListEvents', 'WatchEvents', 'ListAlerts', 'WatchAlerts', 'AcknowledgeAlert', 'ClearAlert',
  ],
  'dc.moduleserver.v1.AdminService': [
    'GetInfo', 'DownloadSupportPackage', 'GetLogLevel', 'SetLogLevel', 'GetCertificates',
    'RenewServerCertificate', 'Uninstall', 'GetUninstallStatus',
  ],
  'dc.gateway.v1.EndpointGatewayService': ['Enrol', 'RenewCertificate', 'ControlChannel', 'SessionStream'],
  'dc.zoneproxy.v1.ProvisioningService': ['BeginProvisioning', 'CompleteProvisioning'],
  'dc.zoneproxy.v1.ZoneLinkService': ['Relay', 'GetStatus'],
  'dc.settings.v1.SetupService': ['GetSetupStatus', 'ApplySetup', 'GetServiceAccount', 'SetServiceAccount'],
  'dc.settings.v1.ConnectionSettingsService': [
    'GetConnectionSettings', 'UpdateConnectionSettings', 'GetContentBuild', 'ListContentBuilds',
    'StartContentBuild', 'GetEndpointPackage',
  ],
  'dc.settings.v1.ActionGroupService': [
    'GetActionGroup', 'SetActionGroup', 'CreateComputerGroup', 'GetComputerGroup', 'ListComputerGroups',
    'UpdateComputerGroup', 'DeleteComputerGroup', 'EvaluateMembership',
  ],
  'dc.settings.v1.PolicyService': ['GetHeartbeatPolicy', 'UpdateHeartbeatPolicy', 'GetLogLevels', 'SetLogLevel'],
  'dc.settings.v1.ZoneProxyService': [
    'AddZoneProxy', 'GetZoneProxy', 'ListZoneProxies', 'DeleteZoneProxy', 'GetZoneProxyProvisioning',
    'ReportZoneProxyStatus',
  ],
  'dc.settings.v1.RbacService': [
    'CheckPermission', 'WhoAmI', 'ListRoles', 'CreateUser', 'GetUser', 'ListUsers', 'UpdateUser',
    'DeleteUser', 'CreateApiToken', 'ListApiTokens', 'RevokeApiToken',
  ],
  'dc.settings.v1.RecorderConfigService': [
    'GetRecorderConfig', 'ListRecorderConfigs', 'PutRecorderConfig', 'DeleteRecorderConfig',
    'GetMergedRecorderConfig',
  ],
  'dc.settings.v1.AuditLogService': ['ListAuditEntries', 'RecordAuditEntry'],
  'dc.settings.v1.WatchService': ['Watch'],
  'dc.ca.v1.CertificateAuthorityService': [
    'IssueCertificate', 'SignCsr', 'CreateEnrolmentToken', 'ListEnrolmentTokens', 'RevokeEnrolmentToken',
    'RenewCertificate', 'RevokeCertificate', 'ListCertificates', 'GetCertificate', 'GetRevocationList',
    'GetTrustBundle', 'RotateRoot',
  ],
};

/** The ts-proto grpc-js service definitions, keyed by fully qualified service name. */
const GENERATED: Record<string, Record<string, { path: string; requestStream: boolean; responseStream: boolean }>> = {
  'dc.moduleserver.v1.EndpointService': moduleServerV1.EndpointServiceService,
  'dc.moduleserver.v1.SessionService': moduleServerV1.SessionServiceService,
  'dc.moduleserver.v1.EventService': moduleServerV1.EventServiceService,
  'dc.moduleserver.v1.AdminService': moduleServerV1.AdminServiceService,
  'dc.gateway.v1.EndpointGatewayService': gatewayV1.EndpointGatewayServiceService,
  'dc.zoneproxy.v1.ProvisioningService': zoneProxyV1.ProvisioningServiceService,
  'dc.zoneproxy.v1.ZoneLinkService': zoneProxyV1.ZoneLinkServiceService,
  'dc.settings.v1.SetupService': settingsV1.SetupServiceService,
  'dc.settings.v1.ConnectionSettingsService': settingsV1.ConnectionSettingsServiceService,
  'dc.settings.v1.ActionGroupService': settingsV1.ActionGroupServiceService,
  'dc.settings.v1.PolicyService': settingsV1.PolicyServiceService,
  'dc.settings.v1.ZoneProxyService': settingsV1.ZoneProxyServiceService,
  'dc.settings.v1.RbacService': settingsV1.RbacServiceService,
  'dc.settings.v1.RecorderConfigService': settingsV1.RecorderConfigServiceService,
  'dc.settings.v1.AuditLogService': settingsV1.AuditLogServiceService,
  'dc.settings.v1.WatchService': settingsV1.WatchServiceService,
  'dc.ca.v1.CertificateAuthorityService': caV1.CertificateAuthorityServiceService,
};

/** Services in the descriptor set: entries whose values are method maps, not message types. */
function descriptorServices(): Map<string, Record<string, MethodDefinition<object, object>>> {
  const services = new Map<string, Record<string, MethodDefinition<object, object>>>();
  for (const [name, entry] of Object.entries(definition)) {
    if (!('format' in entry)) services.set(name, entry as Record<string, MethodDefinition<object, object>>);
  }
  return services;
}

function method(service: string, rpc: string): MethodDefinition<object, object> {
  const methods = descriptorServices().get(service);
  if (!methods?.[rpc]) throw new Error(`descriptor set has no ${service}/${rpc}`);
  return methods[rpc];
}

describe('descriptor set', () => {
  it('contains every required service and rpc', () => {
    const services = descriptorServices();
    for (const [service, rpcs] of Object.entries(REQUIRED)) {
      expect(services.has(service), service).toBe(true);
      expect(Object.keys(services.get(service) ?? {})).toEqual(expect.arrayContaining(rpcs));
    }
  });

  it('has a generated grpc-js definition for every service, with matching paths and streaming', () => {
    const services = descriptorServices();
    expect([...services.keys()].sort()).toEqual(Object.keys(GENERATED).sort());
    for (const [service, methods] of services) {
      const generated = Object.values(GENERATED[service]);
      expect(generated.map((m) => m.path).sort()).toEqual(Object.values(methods).map((m) => m.path).sort());
      for (const m of generated) {
        const rpc = m.path.split('/').pop() ?? '';
        expect({ rpc, req: m.requestStream, res: m.responseStream }).toEqual({
          rpc,
          req: methods[rpc].requestStream,
          res: methods[rpc].responseStream,
        });
      }
    }
  });

  it('streams where the contracts say so', () => {
    const control = method('dc.gateway.v1.EndpointGatewayService', 'ControlChannel');
    expect([control.requestStream, control.responseStream]).toEqual([true, true]);
    const query = method('dc.moduleserver.v1.SessionService', 'QueryEvents');
    expect([query.requestStream, query.responseStream]).toEqual([false, true]);
    const relay = method('dc.zoneproxy.v1.ZoneLinkService', 'Relay');
    expect([relay.requestStream, relay.responseStream]).toEqual([true, true]);
  });
});

describe('wire round trips', () => {
  it('carries a control-channel hello (oneof, Timestamp, nested recorder status) to another decoder', () => {
    const endpointTime = new Date('2026-11-23T12:34:56.789Z');
    const request: gatewayV1.ControlChannelRequest = {
      message: {
        $case: 'hello',
        value: {
          ...gatewayV1.Hello.fromPartial({
            clientId: 'c0ffee00-0000-4000-8000-000000000001',
            hostName: 'web-01',
            ipAddresses: ['10.0.0.5', 'fd00::5'],
            os: commonV1.OperatingSystem.OPERATING_SYSTEM_LINUX,
            toolsVersion: '1.2.3',
            actionLock: true,
            recorderStatus: {
              state: commonV1.RecorderState.RECORDER_STATE_STOPPED,
              stopReason: commonV1.RecorderStopReason.RECORDER_STOP_REASON_CPU_KILL_SWITCH,
              databaseSizeBytes: 5 * 1024 ** 3,
              eventsPerFamily: [{ family: commonV1.EventFamily.EVENT_FAMILY_FILE, events: 42, enabled: true }],
            },
          }),
          endpointTime,
        },
      },
    };
    const bytes = Buffer.from(gatewayV1.ControlChannelRequest.encode(request).finish());

    const back = gatewayV1.ControlChannelRequest.decode(bytes);
    expect(back).toEqual(request);
    if (back.message?.$case !== 'hello') throw new Error(`decoded ${back.message?.$case}`);
    expect(back.message.value.endpointTime).toBeInstanceOf(Date);
    expect(back.message.value.recorderStatus?.databaseSizeBytes).toBe(5 * 1024 ** 3);

    // proto-loader (protobufjs, from the descriptor set; proto field names) reads the same bytes.
    const other = method('dc.gateway.v1.EndpointGatewayService', 'ControlChannel').requestDeserialize(bytes) as {
      message: string;
      hello: { host_name: string; os: string; endpoint_time: { seconds: number; nanos: number } };
    };
    expect(other.message).toBe('hello');
    expect(other.hello.host_name).toBe('web-01');
    expect(other.hello.os).toBe('OPERATING_SYSTEM_LINUX');
    expect(other.hello.endpoint_time).toEqual({ seconds: Math.floor(endpointTime.getTime() / 1000), nanos: 789_000_000 });
  });

  it('carries a broker action with a session id and a Duration', () => {
    const response: gatewayV1.ControlChannelResponse = {
      message: {
        $case: 'action',
        value: gatewayV1.Action.fromPartial({
          actionId: 'a-1',
          issuedTime: new Date('2026-11-23T13:00:00Z'),
          kind: {
            $case: 'openSession',
            value: { sessionId: 's-1', moduleName: 'reveal', idleTimeout: { seconds: 600, nanos: 0 } },
          },
        }),
      },
    };
    const bytes = gatewayV1.ControlChannelResponse.encode(response).finish();
    expect(gatewayV1.ControlChannelResponse.decode(bytes)).toEqual(response);
  });

  it('keeps "unlimited" (unset) apart from a zero alert threshold in the heartbeat policy', () => {
    const unlimited = commonV1.HeartbeatPolicy.fromPartial({ missedHeartbeatsBeforeOffline: 3 });
    const zero = commonV1.HeartbeatPolicy.fromPartial({ missedHeartbeatsBeforeOffline: 3, missedHeartbeatsBeforeAlert: 0 });
    const roundTrip = (p: commonV1.HeartbeatPolicy) =>
      commonV1.HeartbeatPolicy.decode(commonV1.HeartbeatPolicy.encode(p).finish());
    expect(roundTrip(unlimited).missedHeartbeatsBeforeAlert).toBeUndefined();
    expect(roundTrip(zero).missedHeartbeatsBeforeAlert).toBe(0);
  });

  it('relays a batch of endpoint stream frames with the verified identity and metadata', () => {
    const open = zoneProxyV1.ZoneProxyFrame.fromPartial({
      frame: {
        $case: 'open',
        value: zoneProxyV1.StreamOpen.fromPartial({
          streamId: 7,
          method: '/dc.gateway.v1.EndpointGatewayService/SessionStream',
          identity: { clientId: 'c-1', certificateSerial: '0a1b', remoteAddress: '192.0.2.10:50123' },
          metadata: { 'user-agent': 'dc-recorder/1.0' },
        }),
      },
    });
    const batch: zoneProxyV1.RelayResponse = { frames: [open, open] };
    const bytes = Buffer.from(zoneProxyV1.RelayResponse.encode(batch).finish());
    expect(zoneProxyV1.RelayResponse.decode(bytes)).toEqual(batch);
    const other = method('dc.zoneproxy.v1.ZoneLinkService', 'Relay').responseDeserialize(bytes) as {
      frames: Array<{ open: { stream_id: number; metadata: { key: string; value: string }[] } }>;
    };
    expect(other.frames).toHaveLength(2);
    expect(other.frames[0]!.open.stream_id).toBe(7);
    // protobufjs built from a descriptor set sees a map as its repeated entry messages.
    expect(other.frames[0]!.open.metadata).toEqual([{ key: 'user-agent', value: 'dc-recorder/1.0' }]);
  });

  it('streams a chunk of recorder events through the module API response', () => {
    const chunk: moduleServerV1.QueryEventsResponse = {
      chunk: {
        truncated: true,
        events: [
          sessionV1.RecorderEvent.fromPartial({
            eventId: 1,
            family: commonV1.EventFamily.EVENT_FAMILY_NETWORK,
            time: new Date('2026-11-01T00:00:00.5Z'),
            process: { pid: 4242, executablePath: '/usr/bin/curl' },
            detail: {
              $case: 'networkDetail',
              value: sessionV1.NetworkEventDetail.fromPartial({
                direction: sessionV1.NetworkDirection.NETWORK_DIRECTION_OUTBOUND,
                remoteAddress: '198.51.100.7',
                remotePort: 443,
              }),
            },
          }),
        ],
      },
    };
    const bytes = moduleServerV1.QueryEventsResponse.encode(chunk).finish();
    expect(moduleServerV1.QueryEventsResponse.decode(bytes)).toEqual(chunk);
  });

  it('maps settings watch payloads by kind', () => {
    const change: settingsV1.WatchResponse = settingsV1.WatchResponse.fromPartial({
      kind: settingsV1.ChangeKind.CHANGE_KIND_HEARTBEAT_POLICY,
      revision: 12,
      changeTime: new Date('2026-11-23T13:05:00Z'),
      payload: {
        $case: 'heartbeatPolicy',
        value: commonV1.HeartbeatPolicy.fromPartial({
          interval: { seconds: 30, nanos: 0 },
          missedHeartbeatsBeforeOffline: 3,
          direction: commonV1.CommunicationDirection.COMMUNICATION_DIRECTION_AGENT_INITIATED,
        }),
      },
    });
    const bytes = settingsV1.WatchResponse.encode(change).finish();
    expect(settingsV1.WatchResponse.decode(bytes)).toEqual(change);
  });
});

describe('generated grpc-js code over a real channel', () => {
  it('runs a control-channel hello / hello-ack exchange between a server and a client', async () => {
    const server = new grpc.Server();
    const implementation: gatewayV1.EndpointGatewayServiceServer = {
      enrol: (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED }),
      renewCertificate: (_call, callback) => callback({ code: grpc.status.UNIMPLEMENTED }),
      sessionStream: (call) => call.end(),
      controlChannel: (call) => {
        call.on('data', (request: gatewayV1.ControlChannelRequest) => {
          if (request.message?.$case !== 'hello') return;
          call.write({
            message: {
              $case: 'helloAck',
              value: gatewayV1.HelloAck.fromPartial({
                clientId: request.message.value.clientId,
                serverTime: new Date('2026-11-23T13:00:00Z'),
                heartbeatPolicy: { interval: { seconds: 30, nanos: 0 }, missedHeartbeatsBeforeOffline: 3 },
              }),
            },
          });
          call.end();
        });
      },
    };
    server.addService(gatewayV1.EndpointGatewayServiceService, implementation);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const client = new gatewayV1.EndpointGatewayServiceClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const call = client.controlChannel();
      const received: gatewayV1.ControlChannelResponse[] = [];
      const ended = new Promise<void>((resolve, reject) => {
        call.on('data', (message: gatewayV1.ControlChannelResponse) => received.push(message));
        call.on('end', resolve);
        call.on('error', reject);
      });
      call.write({ message: { $case: 'hello', value: gatewayV1.Hello.fromPartial({ clientId: 'c-9' }) } });
      call.end();
      await ended;
      expect(received).toHaveLength(1);
      const first = received[0].message;
      if (first?.$case !== 'helloAck') throw new Error(`got ${first?.$case}`);
      expect(first.value.clientId).toBe('c-9');
      expect(first.value.serverTime).toEqual(new Date('2026-11-23T13:00:00Z'));
      expect(first.value.heartbeatPolicy?.missedHeartbeatsBeforeAlert).toBeUndefined();
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
