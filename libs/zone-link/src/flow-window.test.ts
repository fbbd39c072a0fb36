import { describe, expect, it } from 'vitest';
import { ReceiveWindow, SendWindow } from './flow-window';

describe('relay flow control', () => {
  it('queues messages beyond the credit and sends them as credit is granted', () => {
    const sent: number[] = [];
    const blocked: boolean[] = [];
    const w = new SendWindow(10, (m) => sent.push(m.length), (b) => blocked.push(b));
    w.push(Buffer.alloc(6));
    w.push(Buffer.alloc(6));
    w.push(Buffer.alloc(2));
    expect(sent).toEqual([6]);
    expect(blocked).toEqual([true]);
    expect(w.queued).toBe(2);
    w.grant(2);
    expect(sent).toEqual([6, 6]);
    expect(blocked).toEqual([true]);
    w.grant(2);
    expect(sent).toEqual([6, 6, 2]);
    expect(blocked).toEqual([true, false]);
  });

  it('lets a message larger than the window through only when the window is fully open', () => {
    const sent: number[] = [];
    const w = new SendWindow(10, (m) => sent.push(m.length), () => undefined);
    w.push(Buffer.alloc(4));
    w.push(Buffer.alloc(25));
    expect(sent).toEqual([4]);
    w.grant(4);
    expect(sent).toEqual([4, 25]);
  });

  it('grants credit back in half-window steps', () => {
    const grants: number[] = [];
    const r = new ReceiveWindow(100, (g) => grants.push(g));
    r.consumed(30);
    expect(grants).toEqual([]);
    r.consumed(30);
    expect(grants).toEqual([60]);
  });
});
