// Splits a byte stream into complete text lines, holding back a partial last line until it ends.
import { StringDecoder } from 'node:string_decoder';

export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';

  /** Lines completed by this chunk (without their "\n"; a trailing "\r" is dropped too). */
  push(chunk: Buffer | string): string[] {
    const text = this.carry + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    const lines = text.split('\n');
    this.carry = lines.pop() ?? '';
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
    }
    return lines;
  }

  /** The unterminated last line, if any (end of input). */
  end(): string[] {
    const rest = this.carry + this.decoder.end();
    this.carry = '';
    return rest.length ? [rest] : [];
  }
}

/** Lines of a readable stream in batches, one batch per chunk read. */
export async function* linesOf(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string[]> {
  const splitter = new LineSplitter();
  for await (const chunk of stream) {
    const lines = splitter.push(chunk);
    if (lines.length) yield lines;
  }
  const rest = splitter.end();
  if (rest.length) yield rest;
}
