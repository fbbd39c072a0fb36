// Aho–Corasick automaton for many `contains` literals: one pass over the text finds them all.

interface AcNode<T> {
  readonly next: Map<number, AcNode<T>>;
  fail: AcNode<T> | undefined;
  /** Values of every literal ending here, including those reached through failure links. */
  out: T[] | undefined;
}

/** Multi-pattern substring matcher (Aho & Corasick, 1975). Build with `add`, then `seal`. */
export class AhoCorasick<T> {
  private readonly root: AcNode<T> = { next: new Map(), fail: undefined, out: undefined };
  private sealed = false;

  add(literal: string, value: T): void {
    if (this.sealed) throw new Error('AhoCorasick.add after seal');
    let node = this.root;
    for (let i = 0; i < literal.length; i++) {
      const c = literal.charCodeAt(i);
      let next = node.next.get(c);
      if (!next) {
        next = { next: new Map(), fail: undefined, out: undefined };
        node.next.set(c, next);
      }
      node = next;
    }
    (node.out ??= []).push(value);
  }

  /** Computes failure links breadth-first and merges outputs along them. */
  seal(): this {
    const queue: AcNode<T>[] = [];
    for (const child of this.root.next.values()) {
      child.fail = this.root;
      queue.push(child);
    }
    for (let head = 0; head < queue.length; head++) {
      const node = queue[head];
      for (const [c, child] of node.next) {
        let f = node.fail;
        while (f && !f.next.has(c)) f = f.fail;
        child.fail = f ? f.next.get(c) : this.root;
        if (child.fail === child) child.fail = this.root;
        const inherited = child.fail?.out;
        if (inherited) child.out = child.out ? [...child.out, ...inherited] : inherited;
        queue.push(child);
      }
    }
    this.sealed = true;
    return this;
  }

  private step(node: AcNode<T>, c: number): AcNode<T> {
    let n: AcNode<T> | undefined = node;
    while (n) {
      const next = n.next.get(c);
      if (next) return next;
      n = n.fail;
    }
    return this.root;
  }

  /** True when any literal occurs in `text`. */
  matchesAny(text: string): boolean {
    if (this.root.out) return true;
    let node = this.root;
    for (let i = 0; i < text.length; i++) {
      node = this.step(node, text.charCodeAt(i));
      if (node.out) return true;
    }
    return false;
  }

  /** Calls `visit` with the values of every literal occurring in `text` (once per occurrence end). */
  forEachMatch(text: string, visit: (values: readonly T[]) => void): void {
    if (this.root.out) visit(this.root.out);
    let node = this.root;
    for (let i = 0; i < text.length; i++) {
      node = this.step(node, text.charCodeAt(i));
      if (node.out) visit(node.out);
    }
  }
}
