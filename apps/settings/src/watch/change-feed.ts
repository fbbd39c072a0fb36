// The change feed behind the watch stream: replay after a revision, then live changes, so a reconnecting watcher misses nothing.
import type { ChangeRecord, SettingsStore } from '../store/settings-store';
import { redactSecrets } from '../store/redact';

export interface WatchRequest {
  /** 0: start with a snapshot of the current values; N: replay every change after revision N. */
  sinceRevision: number;
  /** Kinds to receive (e.g. log_level, heartbeat_policy); empty = all. */
  kinds: readonly string[];
}

export interface WatchEvent {
  revision: number;
  kind: string;
  key: string;
  /** create / update / delete; "snapshot" for the current values sent first when sinceRevision is 0. */
  action: ChangeRecord['action'] | 'snapshot';
  /** The value after the change, secrets redacted; undefined after a delete. */
  value: unknown;
  at: Date;
  actor: string;
}

/** Kinds a snapshot covers: configuration documents (builds and tokens are only replayed/live). */
export const SNAPSHOT_KINDS = [
  'connection_settings',
  'action_group',
  'computer_group',
  'service_account',
  'heartbeat_policy',
  'log_level',
  'zone_proxy',
  'recorder_config',
  'setup',
] as const;

export class ChangeFeed {
  constructor(private readonly store: SettingsStore) {}

  /**
   * Sends past events synchronously, then live ones as they commit; returns unsubscribe. Replay
   * and registration happen in one synchronous step, so no change can fall between them.
   */
  subscribe(request: WatchRequest, send: (event: WatchEvent) => void): () => void {
    const wanted = (kind: string) => request.kinds.length === 0 || request.kinds.includes(kind);
    let last = request.sinceRevision;
    if (request.sinceRevision <= 0) {
      const docs = SNAPSHOT_KINDS.filter(wanted).flatMap((kind) => this.store.list(kind));
      last = this.store.revision();
      for (const d of docs.sort((a, b) => a.revision - b.revision)) {
        send({ revision: d.revision, kind: d.kind, key: d.key, action: 'snapshot', value: redactSecrets(d.value), at: d.updatedAt, actor: '' });
      }
    } else {
      for (let batch = this.store.changesSince(last); batch.length > 0; batch = this.store.changesSince(last)) {
        for (const c of batch) {
          if (wanted(c.kind)) send(toEvent(c));
          last = c.revision;
        }
      }
    }
    return this.store.onChange((change) => {
      if (change.revision <= last) return;
      last = change.revision;
      if (wanted(change.kind)) send(toEvent(change));
    });
  }
}

function toEvent(c: ChangeRecord): WatchEvent {
  return { revision: c.revision, kind: c.kind, key: c.key, action: c.action, value: c.after, at: c.at, actor: c.actor };
}
