// Character trie for many `beginsWith` literals (or, built reversed, many `endsWith` literals).

interface TrieNode<T> {
  children: Map<number, TrieNode<T>> | undefined;
  /** Values of the literals that end at this node. */
  values: T[] | undefined;
}

/**
 * Finds every stored literal that is a prefix (or, with `reversed`, a suffix) of a text in one
 * walk of the text, whatever the number of literals. Walks by char code: no allocation.
 */
export class PrefixTrie<T> {
  private readonly root: TrieNode<T> = { children: undefined, values: undefined };
  private empty = true;

  /** @param reversed match literals against the end of the text instead of its start */
  constructor(private readonly reversed = false) {}

  add(literal: string, value: T): void {
    let node = this.root;
    const n = literal.length;
    for (let i = 0; i < n; i++) {
      const c = literal.charCodeAt(this.reversed ? n - 1 - i : i);
      node.children ??= new Map();
      let next = node.children.get(c);
      if (!next) {
        next = { children: undefined, values: undefined };
        node.children.set(c, next);
      }
      node = next;
    }
    (node.values ??= []).push(value);
    this.empty = false;
  }

  /** True when any stored literal is a prefix (suffix) of `text`. */
  matchesAny(text: string): boolean {
    if (this.empty) return false;
    let node: TrieNode<T> | undefined = this.root;
    if (node.values) return true;
    const n = text.length;
    for (let i = 0; i < n && node; i++) {
      node = node.children?.get(text.charCodeAt(this.reversed ? n - 1 - i : i));
      if (node?.values) return true;
    }
    return false;
  }

  /** Calls `visit` with the values of every stored literal that is a prefix (suffix) of `text`. */
  forEachMatch(text: string, visit: (values: readonly T[]) => void): void {
    let node: TrieNode<T> | undefined = this.root;
    if (node.values) visit(node.values);
    const n = text.length;
    for (let i = 0; i < n && node; i++) {
      node = node.children?.get(text.charCodeAt(this.reversed ? n - 1 - i : i));
      if (node?.values) visit(node.values);
    }
  }
}
