// Test support: the settings domain over a temp data dir, a driven clock and a local trust source.
import { makeTempDir } from '@dc/service-kit/testing';
import pino from 'pino';
import type { Clock } from '../clock';
import type { Resolver } from '../connection-settings/fqdn';
import { openSettings, type Settings } from '../settings';
import { LocalTrustSource } from './certificates';

export class ManualClock implements Clock {
  constructor(private at = new Date('2026-11-23T12:00:00Z')) {}
  now(): Date {
    return new Date(this.at);
  }
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

export interface TestSettings {
  settings: Settings;
  dataDir: string;
  clock: ManualClock;
  trust: LocalTrustSource;
  /** Closes and reopens the same data dir (a restart). */
  reopen(): Promise<Settings>;
  cleanup(): Promise<void>;
}

export function openTestSettings(opts: { resolver?: Resolver; clock?: ManualClock; trust?: LocalTrustSource } = {}): TestSettings {
  const tmp = makeTempDir('dc-settings-');
  const clock = opts.clock ?? new ManualClock(new Date());
  const trust = opts.trust ?? new LocalTrustSource();
  const open = () =>
    openSettings({
      dataDir: tmp.dir,
      clock,
      log: pino({ level: 'silent' }),
      trust,
      resolver: opts.resolver ?? (async () => ({ address: '127.0.0.1' })),
      enrolmentTokenTtlSeconds: 3600,
    });
  const t: TestSettings = {
    settings: open(),
    dataDir: tmp.dir,
    clock,
    trust,
    async reopen() {
      await t.settings.close();
      t.settings = open();
      return t.settings;
    },
    async cleanup() {
      await t.settings.close().catch(() => undefined);
      tmp.remove();
    },
  };
  return t;
}
