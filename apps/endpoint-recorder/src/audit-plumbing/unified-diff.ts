// A small line-based unified diff (what `install-audit --dry-run` prints); files here are short.

type Op = { kind: ' ' | '-' | '+'; line: string };

function lines(text: string | null): string[] {
  if (text === null || text === '') return [];
  const out = text.split('\n');
  if (out[out.length - 1] === '') out.pop();
  return out;
}

/** Edit script by longest common subsequence (O(n·m); config files are a few hundred lines). */
function editScript(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++] });
      j++;
    } else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push({ kind: '-', line: a[i++] }); // deletions before insertions, as diff -u prints them
    } else {
      ops.push({ kind: '+', line: b[j++] });
    }
  }
  return ops;
}

/** `diff -u` style text; empty when the two texts are equal. `null` stands for "no file". */
export function unifiedDiff(path: string, before: string | null, after: string | null, context = 3): string {
  if (before === after) return '';
  const ops = editScript(lines(before), lines(after));
  const out = [`--- ${before === null ? '/dev/null' : `${path}`}`, `+++ ${after === null ? '/dev/null' : `${path}`}`];
  let k = 0;
  while (k < ops.length) {
    if (ops[k].kind === ' ') {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is within 2×context of the previous one.
    const start = Math.max(0, k - context);
    let end = k;
    for (let p = k; p < ops.length; p++) {
      if (ops[p].kind !== ' ') end = p;
      else if (p - end > 2 * context) break;
    }
    const stop = Math.min(ops.length, end + context + 1);
    let aLine = 1;
    let bLine = 1;
    for (let p = 0; p < start; p++) {
      if (ops[p].kind !== '+') aLine++;
      if (ops[p].kind !== '-') bLine++;
    }
    const hunk = ops.slice(start, stop);
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aLen ? aLine : aLine - 1},${aLen} +${bLen ? bLine : bLine - 1},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    k = stop;
  }
  return `${out.join('\n')}\n`;
}
