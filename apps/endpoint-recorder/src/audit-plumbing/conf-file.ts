// Reads and edits auditd-style `key = value` files, keeping comments, order and untouched lines.

export class ConfFile {
  private constructor(private readonly lines: string[]) {}

  static parse(text: string): ConfFile {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return new ConfFile(lines);
  }

  private indexOf(key: string): number {
    return this.lines.findIndex((l) => {
      const m = /^\s*([A-Za-z0-9_]+)\s*=/.exec(l);
      return m !== null && m[1] === key;
    });
  }

  get(key: string): string | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.lines[i].slice(this.lines[i].indexOf('=') + 1).trim();
  }

  /** Every `key = value` pair, in file order. */
  entries(): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const l of this.lines) {
      const m = /^\s*([A-Za-z0-9_]+)\s*=(.*)$/.exec(l);
      if (m) out.push([m[1], m[2].trim()]);
    }
    return out;
  }

  /** Replaces the value in place, or appends `key = value` when the key is absent. */
  set(key: string, value: string): this {
    const i = this.indexOf(key);
    if (i < 0) this.lines.push(`${key} = ${value}`);
    else this.lines[i] = `${key} = ${value}`;
    return this;
  }

  toString(): string {
    return `${this.lines.join('\n')}\n`;
  }
}
