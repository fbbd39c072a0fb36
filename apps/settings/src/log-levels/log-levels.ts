// Log level of every service (SPEC 1.7.2); services watch their level and apply it without restart.
import { InvalidArgument } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const; // SPEC 1.7.2
export type LogLevel = (typeof LOG_LEVELS)[number];
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/** The services whose log level is configured here. */
export const SERVICES = ['module-server', 'zone-proxy', 'cert-authority', 'settings', 'endpoint-recorder'] as const;

export const LOG_LEVEL_KIND = 'log_level';

export interface ServiceLogLevel {
  service: string;
  level: LogLevel;
}

export class LogLevelService {
  constructor(private readonly store: SettingsStore) {}

  /** The level of every known service (default info). */
  list(): ServiceLogLevel[] {
    return SERVICES.map((service) => ({ service, level: this.get(service) }));
  }

  get(service: string): LogLevel {
    checkService(service);
    return this.store.get<ServiceLogLevel>(LOG_LEVEL_KIND, service)?.value.level ?? DEFAULT_LOG_LEVEL;
  }

  set(actor: Actor, service: string, level: string): { revision: number } {
    checkService(service);
    if (!(LOG_LEVELS as readonly string[]).includes(level)) {
      throw new InvalidArgument('level', `must be one of ${LOG_LEVELS.join(', ')}`, level);
    }
    return { revision: this.store.put(actor, LOG_LEVEL_KIND, service, { service, level }) };
  }
}

function checkService(service: string): void {
  if (!(SERVICES as readonly string[]).includes(service)) {
    throw new InvalidArgument('service', `must be one of ${SERVICES.join(', ')}`, service);
  }
}
