// @dc/monitor-db: the endpoint's monitor.db — schema and views, batched writer, retention,
// integrity check, Recreate Database and the typed queries sessions call. See README.md.
export { openMonitorDb, recreateMonitorDb, MonitorDb } from './monitor-db';
export type { Clock, MonitorDbLog, OpenMonitorDbOptions, DisableTraceStatus, RecreateResult } from './monitor-db';

export { BatchWriter, BATCH_WRITE_DELAY_MS_DEFAULT } from './writer/batch-writer';
export type { BatchWriterOptions, FlushResult, Timers, WriterStats } from './writer/batch-writer';

export { Retention } from './retention/retention';
export type { RetentionOptions, CleanupReport, RuntimeLimitStatus } from './retention/retention';
export { listMovedAside as listDbCopies } from './retention/db-files';

export { checkMonitorDbFile } from './integrity';
export type { IntegrityResult, IntegrityOptions } from './integrity';

export { QUERY_LIMIT_MAX } from './queries/query-events';
export type { EventQuery, EventPage, FieldFilter, FileHistoryQuery, ProcessHistoryQuery, ProcessHistoryEntry } from './queries/query-events';
export type {
  EventRow,
  EventRowBase,
  EventRowByFamily,
  ProcessEventRow,
  FileEventRow,
  NetworkEventRow,
  SecurityEventRow,
  DnsEventRow,
  RegistryEventRow,
  ImageLoadRow,
  ProcessRow,
  ProcessSampleRow,
} from './queries/rows';

export { SCHEMA_VERSION, VIEWS, FAMILY_TABLES } from './schema/migrations';

export {
  EVENT_FAMILIES,
  FILE_OPERATIONS,
  NETWORK_DIRECTIONS,
  SECURITY_TYPES,
  REGISTRY_OPERATIONS,
  IMAGE_TYPES,
} from './records';
export type {
  EventFamily,
  FileOperation,
  NetworkDirection,
  SecurityEventType,
  RegistryOperation,
  ImageType,
  ProcessRef,
  EventRecordBase,
  ProcessStartRecord,
  ProcessExitRecord,
  FileEventRecord,
  NetworkEventRecord,
  SecurityEventRecord,
  DnsEventRecord,
  RegistryEventRecord,
  ImageLoadRecord,
  ProcessSampleRecord,
  EventRecord,
  MonitorRecord,
  SignalDefinitionRecord,
} from './records';

export { MonitorDbError, InvalidMonitorInput, MonitorDbCorrupt, MonitorDbTooNew, MonitorDbClosed } from './errors';
