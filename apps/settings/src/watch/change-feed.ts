// The change feed behind the watch stream: which kinds changed, after a revision and then live, so a reconnecting watcher misses nothing.
import type { SettingsStore } from '../store/settings-store';

/** Store document kinds a watcher can follow (the other services apply them while running). */
export const WATCHABLE_KINDS = [
  'log_level',
  'heartbeat_policy',
  'recorder_config',
  'zone_proxy',
  'connection_settings',
  'action_group',
  'content_build',
  'computer_group',
] as const;
export type WatchableKind = (typeof WATCHABLE_KINDS)[number];

export interface WatchRequest {
  /** 0: start with the current value of every followed kind; N: what changed after revision N. */
  sinceRevision: number;
  /** Kinds to follow; empty = all. */
  kinds: readonly WatchableKind[];
}

/** "Kind K changed (or: here is its current value)": the watcher reads the kind's current value. */
export interface KindChange {
  kind: WatchableKind;
  revision: number;
  at: Date;
  /** True for the current values sent first when sinceRevision is 0. */
  snapshot: boolean;
  /** The document that changed (e.g. the content build id); empty for a snapshot. */
  key: string;
}

export class ChangeFeed {
  constructor(private readonly store: SettingsStore) {}

  /**
   * Sends past changes synchronously — a snapshot, or one notice per kind changed after the
   * revision (coalesced: only the latest value matters) — then live ones as they commit.
   * Replay and registration happen in one synchronous step, so no change can fall between them.
   * Returns the function that stops the feed.
   */
  subscribe(request: WatchRequest, send: (change: KindChange) => void): () => void {
    const wanted = new Set<string>(request.kinds.length > 0 ? request.kinds : WATCHABLE_KINDS);
    let last = this.store.revision();
    if (request.sinceRevision <= 0) {
      const now = new Date();
      for (const kind of WATCHABLE_KINDS) if (wanted.has(kind)) send({ kind, revision: last, at: now, snapshot: true, key: '' });
    } else {
      const latest = new Map<string, KindChange>();
      for (let batch = this.store.changesSince(request.sinceRevision); batch.length > 0; batch = this.store.changesSince(batch[batch.length - 1].revision)) {
        for (const c of batch) {
          if (wanted.has(c.kind)) {
            latest.delete(c.kind); // re-insert: the map keeps the order of each kind's latest change
            latest.set(c.kind, { kind: c.kind as WatchableKind, revision: c.revision, at: c.at, snapshot: false, key: c.key });
          }
        }
      }
      for (const change of latest.values()) send(change);
    }
    return this.store.onChange((c) => {
      if (c.revision <= last) return;
      last = c.revision;
      if (wanted.has(c.kind)) send({ kind: c.kind as WatchableKind, revision: c.revision, at: c.at, snapshot: false, key: c.key });
    });
  }
}
