// A gRPC server that always serves grpc.health.v1 and server reflection beside the app's services.
import { type ServerCredentials, Server, type ServerOptions, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import * as grpc from '@grpc/grpc-js';
import { loadFileDescriptorSetFromBuffer, loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';

export interface GrpcServiceBinding {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

export interface StartGrpcServerOptions {
  /** Name used in logs, e.g. `api` or `gateway`. */
  readonly name: string;
  readonly host: string;
  /** 0 picks a free port; the bound port is returned. */
  readonly port: number;
  /** Defaults to insecure (plaintext) — only for loopback development. */
  readonly credentials?: ServerCredentials;
  readonly services: readonly GrpcServiceBinding[];
  /** FileDescriptorSet (base64) of the app's services, for reflection (from @dc/proto). */
  readonly descriptorSetBase64?: string;
  readonly log: Logger;
  readonly options?: ServerOptions;
}

export interface GrpcServerHandle {
  readonly server: Server;
  readonly port: number;
  readonly health: HealthImplementation;
  /** Full names of the services served (without health and reflection). */
  readonly serviceNames: readonly string[];
  /** Sets every served service, and the overall '' entry, to SERVING or NOT_SERVING. */
  setServing(serving: boolean): void;
  /** Stops accepting calls, lets running ones finish for up to graceMs, then cancels the rest. */
  shutdown(graceMs?: number): Promise<void>;
}

/** `/dc.settings.v1.SettingsService/GetX` → `dc.settings.v1.SettingsService` */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (!first) throw new Error('service definition has no methods');
  return first.path.slice(1, first.path.lastIndexOf('/'));
}

export interface GrpcServerCoreOptions {
  readonly services: readonly GrpcServiceBinding[];
  /** FileDescriptorSet (base64) of the app's services, for reflection (from @dc/proto). */
  readonly descriptorSetBase64?: string;
  readonly options?: ServerOptions;
}

/** A gRPC server with the app's services, grpc.health.v1 (NOT_SERVING until setServing) and reflection, bound to nothing yet. */
export interface GrpcServerCore {
  readonly server: Server;
  readonly health: HealthImplementation;
  readonly serviceNames: readonly string[];
  /** Sets every served service, and the overall '' entry, to SERVING or NOT_SERVING. */
  setServing(serving: boolean): void;
}

/** The one place a gRPC server of ours is assembled; startGrpcServer binds it, injectedGrpcServer feeds it connections. */
export function createGrpcServer(opts: GrpcServerCoreOptions): GrpcServerCore {
  // Channelz off: we expose no channelz service, and its per-socket and per-call bookkeeping costs every call.
  const server = new Server({ 'grpc.keepalive_permit_without_calls': 1, 'grpc.enable_channelz': 0, ...opts.options });
  const serviceNames = opts.services.map((s) => serviceNameOf(s.definition));
  for (const s of opts.services) server.addService(s.definition, s.implementation);
  const health = new HealthImplementation({ '': 'NOT_SERVING' });
  health.addToServer(server);
  addLazyReflection(server, () => reflectionPackage(opts.descriptorSetBase64, serviceNames));
  const setServing = (serving: boolean) => {
    const s = serving ? 'SERVING' : 'NOT_SERVING';
    health.setStatus('', s);
    for (const name of serviceNames) health.setStatus(name, s);
  };
  return { server, health, serviceNames, setServing };
}

/** A gRPC server that binds no port: it serves connections handed to it (grpc-js connection injection). */
export interface InjectedGrpcServer extends GrpcServerCore {
  /** Serves gRPC (HTTP/2) on a connection whose TLS, if any, is already done by the caller. */
  inject(connection: Duplex): void;
  /** Stops serving: NOT_SERVING, then every injected connection and call ends. */
  close(): void;
}

export function injectedGrpcServer(opts: GrpcServerCoreOptions): InjectedGrpcServer {
  const core = createGrpcServer(opts);
  const injector = core.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  return {
    ...core,
    inject: (connection) => injector.injectConnection(connection),
    close() {
      core.setServing(false);
      injector.destroy();
      core.server.forceShutdown();
    },
  };
}

export async function startGrpcServer(opts: StartGrpcServerOptions): Promise<GrpcServerHandle> {
  const log = opts.log.child({ server: opts.name });
  const { server, health, serviceNames, setServing } = createGrpcServer(opts);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${opts.host}:${opts.port}`, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(new Error(`cannot listen on ${opts.host}:${opts.port} (${opts.name}): ${err.message}`)) : resolve(bound),
    );
  });
  setServing(true);
  log.info({ host: opts.host, port, services: serviceNames, tls: Boolean(opts.credentials?._isSecure()) }, 'grpc server listening');

  return {
    server,
    port,
    health,
    serviceNames,
    setServing,
    async shutdown(graceMs = 5000) {
      setServing(false);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ graceMs }, 'grpc calls still running after the grace period; cancelling them');
          server.forceShutdown();
          resolve();
        }, graceMs);
        timer.unref();
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      log.info('grpc server stopped');
    },
  };
}

/**
 * Server reflection (v1 and v1alpha), indexed on its first call: indexing the descriptor set
 * costs about a second of CPU that every start would otherwise pay before it listens (a broker
 * restart, with endpoints waiting to reconnect, included).
 */
function addLazyReflection(server: Server, build: () => PackageDefinition): void {
  let built: Map<string, UntypedServiceImplementation> | undefined;
  const implementationOf = (service: string): UntypedServiceImplementation => {
    if (!built) {
      const captured = new Map<string, UntypedServiceImplementation>();
      new ReflectionService(build()).addToServer({ addService: (def, impl) => void captured.set(serviceNameOf(def), impl) });
      built = captured;
    }
    return built.get(service)!;
  };
  // An empty package gives the same service definitions at no cost; the handlers defer to the real index.
  new ReflectionService({}).addToServer({
    addService: (def, impl) => {
      const service = serviceNameOf(def);
      const deferred: UntypedServiceImplementation = {};
      for (const method of Object.keys(impl)) {
        deferred[method] = ((...args: unknown[]) => (implementationOf(service)[method] as (...a: unknown[]) => void)(...args)) as UntypedServiceImplementation[string];
      }
      server.addService(def, deferred);
    },
  });
}

/** Our services from the descriptor set, plus grpc.health.v1, so reflection lists everything served. */
function reflectionPackage(descriptorSetBase64: string | undefined, served: readonly string[]): PackageDefinition {
  const health = loadSync(healthProtoPath, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  if (!descriptorSetBase64) return health;
  const ours = loadFileDescriptorSetFromBuffer(Buffer.from(descriptorSetBase64, 'base64'), { keepCase: true });
  // Keep every message and enum (for type lookups) but list only the services served here.
  const filtered: PackageDefinition = {};
  for (const [name, def] of Object.entries(ours)) {
    const isService = !('format' in def);
    if (isService && !served.includes(name)) continue;
    filtered[name] = def;
  }
  return { ...filtered, ...health };
}
