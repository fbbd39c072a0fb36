// Progress on stderr: a redrawn bar on a terminal, plain lines (at most one per 10%) otherwise.
import { type Io } from './output';

export class Progress {
  private lastPlain = -1;
  private lastLabel = '';
  private drawn = false;

  constructor(private readonly stderr: Io['stderr']) {}

  /** `percent` 0-100 of `label`. */
  update(label: string, percent: number): void {
    const p = Math.max(0, Math.min(100, Math.floor(percent)));
    if (this.stderr.isTTY) {
      const width = 30;
      const filled = Math.round((p / 100) * width);
      this.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(p).padStart(3)}% ${label}\x1b[K`);
      this.drawn = true;
      return;
    }
    const step = Math.floor(p / 10);
    if (label !== this.lastLabel || step !== this.lastPlain) {
      this.stderr.write(`${label}: ${p}%\n`);
      this.lastLabel = label;
      this.lastPlain = step;
    }
  }

  done(): void {
    if (this.drawn) this.stderr.write('\n');
    this.drawn = false;
  }
}
