// The bounded queue between the parser and the batched writer (SPEC 2.6 PendingEventCap).

/**
 * Holds events in flight until the writer takes them. Beyond `PendingEventCap` every incoming
 * event is dropped and counted, so memory stays bounded whatever the input rate (SPEC 2.6:
 * "drop incoming events until below"). A cap of 0 disables the bound.
 */
export class PendingQueue<T> {
  private items: T[] = [];
  private head = 0;
  /** Events dropped because the queue was full, in total and per family. */
  dropped = 0;
  readonly droppedByFamily = new Map<string, number>();
  /** Most events ever waiting at once. */
  highWater = 0;

  constructor(private readonly pendingEventCap: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** Queues an event; returns false (and counts it) when the queue is at PendingEventCap. */
  push(item: T, family: string): boolean {
    if (this.pendingEventCap > 0 && this.size >= this.pendingEventCap) {
      this.dropped++;
      this.droppedByFamily.set(family, (this.droppedByFamily.get(family) ?? 0) + 1);
      return false;
    }
    this.items.push(item);
    if (this.size > this.highWater) this.highWater = this.size;
    return true;
  }

  /** Takes up to `max` events, oldest first. */
  take(max = Infinity): T[] {
    const end = Math.min(this.items.length, this.head + max);
    const out = this.items.slice(this.head, end);
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Puts a batch the writer could not store back at the front (it is still in flight). */
  requeue(batch: readonly T[]): void {
    this.items = [...batch, ...this.items.slice(this.head)];
    this.head = 0;
    if (this.size > this.highWater) this.highWater = this.size;
  }
}
