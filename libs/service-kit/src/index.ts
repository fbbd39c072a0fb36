// @dc/service-kit: what every Direct Connect server app needs to start, serve and stop well.
export {
  ConfigError,
  type ConfigIssue,
  describeIssue,
  listenSchema,
  loadConfig,
  type LoadConfigOptions,
  LOG_LEVELS,
  type LogLevel,
  logLevelSchema,
  metricsSchema,
  portSchema,
} from './config';
export { createLogger, type CreateLoggerOptions, REDACT_PATHS, type RootLogger } from './logger';
export { LOG_RING_DEFAULTS, LogRing, type LogRingOptions } from './log-ring';
export {
  AlreadyExists,
  DeadlineExceeded,
  DomainError,
  FailedPrecondition,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  ResourceExhausted,
  toServiceError,
  Unauthenticated,
  Unavailable,
  Unimplemented,
} from './errors';
export { createGrpcServer, type GrpcServerCore, type GrpcServerCoreOptions, type GrpcServerHandle, type GrpcServiceBinding, injectedGrpcServer, type InjectedGrpcServer, serviceNameOf, startGrpcServer, type StartGrpcServerOptions } from './grpc-server';
export { clientCredentials, type ClientTls, readTlsFiles, serverCredentials, type TlsFiles, type TlsPem } from './tls';
export { createMetricsRegistry, type MetricsHandle, startMetricsServer } from './metrics';
export { runService, type RunningService, type RunServiceOptions } from './lifecycle';
export { serviceProgram, type ServiceCliOptions } from './cli';
export { writeFileAtomic, type WriteFileAtomicOptions } from './files';
export { checkCertificateKeyPair, LiveServerCredentials } from './live-tls';
export { tlsSocketOf } from './peer';
export { VERSION } from './version';
