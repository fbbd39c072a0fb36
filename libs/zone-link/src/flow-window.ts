// Credit flow control of relayed streams (dc.zoneproxy.v1 WindowUpdate): a sender out of credit
// queues and pauses its source, so neither side buffers more than one window per stream and
// direction. Both ends of the link (module server and zone proxy) use these classes.

/** The sending half: spends credit, queues when out of it, resumes on grants. */
export class SendWindow {
  private credit: number;
  private readonly queue: Buffer[] = [];

  constructor(
    private readonly initial: number,
    private readonly transmit: (message: Buffer) => void,
    /** Told true when messages queue (pause the source), false when the queue drained (resume). */
    private readonly onBlocked: (blocked: boolean) => void,
  ) {
    this.credit = initial;
  }

  get queued(): number {
    return this.queue.length;
  }

  push(message: Buffer): void {
    if (this.queue.length === 0 && this.fits(message.length)) {
      this.credit -= message.length;
      this.transmit(message);
      return;
    }
    this.queue.push(message);
    if (this.queue.length === 1) this.onBlocked(true);
  }

  grant(bytes: number): void {
    this.credit += bytes;
    while (this.queue.length > 0 && this.fits(this.queue[0]!.length)) {
      const m = this.queue.shift()!;
      this.credit -= m.length;
      this.transmit(m);
    }
    if (this.queue.length === 0) this.onBlocked(false);
  }

  /** A message larger than the whole window goes once the window is fully open. */
  private fits(n: number): boolean {
    return this.credit >= Math.min(n, this.initial);
  }
}

/** The receiving half: grants credit back once half a window has been consumed. */
export class ReceiveWindow {
  private consumedSinceGrant = 0;

  constructor(
    private readonly initial: number,
    private readonly sendGrant: (bytes: number) => void,
  ) {}

  consumed(bytes: number): void {
    this.consumedSinceGrant += bytes;
    if (this.consumedSinceGrant >= this.initial / 2) {
      const g = this.consumedSinceGrant;
      this.consumedSinceGrant = 0;
      this.sendGrant(g);
    }
  }
}
