// Bench: compiled matching (sets, tries, Aho–Corasick, rule index) vs the linear fallback
// (SPEC 2.6 DisableSignalsTrie) on RULES rules × EVENTS events. Prints events/s for both.
// Run: npx nx run filters:bench   (or: cd libs/filters && npx tsx bench/filters-bench.ts)
// Sizes: FILTERS_BENCH_RULES (default 1000), FILTERS_BENCH_EVENTS (default 100000).
import { compileFilterSet, compileSignals, parseFilters, parseSignals, type FilterEvent } from '../src/index';

const RULES = Number(process.env.FILTERS_BENCH_RULES ?? 1000);
const EVENTS = Number(process.env.FILTERS_BENCH_EVENTS ?? 100_000);

/** Deterministic PRNG (mulberry32) so every run measures the same workload. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = prng(1);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
const word = (n: number) => Array.from({ length: n }, () => pick('abcdefghijklmnopqrstuvwxyz'.split(''))).join('');

// Rules shaped like real noise filters: executables by suffix, paths by prefix, command-line
// fragments, users, ports and CIDRs, some combined with all/any/not.
const exes = Array.from({ length: 400 }, () => `/${word(3)}/${word(6)}`);
const dirs = Array.from({ length: 300 }, () => `/${word(4)}/${word(5)}/`);
const fragments = Array.from({ length: 200 }, () => `--${word(7)}`);
const users = Array.from({ length: 50 }, () => word(6));

function rule(i: number): { id: string; family: string; action: string; when: unknown } {
  const id = `r${i}`;
  const action = i % 10 === 0 ? 'include' : 'exclude';
  switch (i % 6) {
    case 0:
      return { id, family: 'process', action, when: { field: 'exe', endsWith: pick(exes) } };
    case 1:
      return { id, family: 'file', action, when: { all: [{ field: 'path', beginsWith: pick(dirs) }, { field: 'operation', in: ['write', 'create'] }] } };
    case 2:
      return { id, family: 'process', action, when: { field: 'argv', contains: pick(fragments) } };
    case 3:
      return { id, family: 'process', action, when: { all: [{ field: 'process.uid', equals: Math.floor(random() * 2000) }, { field: 'exe', endsWith: pick(exes) }] } };
    case 4:
      return { id, family: 'network', action, when: { any: [{ field: 'remote.port', equals: 1024 + i }, { all: [{ field: 'account', equals: pick(users) }, { not: { field: 'remote.address', cidr: '10.0.0.0/8' } }] }] } };
    default:
      return { id, family: 'file', action, when: { field: 'path', endsWith: `.${word(3)}`, ignoreCase: true } };
  }
}
const ruleJson = Array.from({ length: RULES }, (_, i) => rule(i));

function event(): FilterEvent {
  const r = random();
  if (r < 0.5) {
    return {
      family: 'process',
      exe: random() < 0.05 ? pick(exes) : `/usr/bin/${word(5)}`,
      argv: ['prog', random() < 0.05 ? pick(fragments) : `--${word(4)}`, word(8)],
      process: { uid: Math.floor(random() * 2000), pid: Math.floor(random() * 65536) },
    };
  }
  if (r < 0.85) {
    return {
      family: 'file',
      operation: pick(['write', 'create', 'delete', 'rename']),
      path: `${random() < 0.05 ? pick(dirs) : `/home/${word(5)}/`}${word(8)}.${word(3)}`,
    };
  }
  return {
    family: 'network',
    operation: 'connect',
    account: random() < 0.05 ? pick(users) : word(6),
    remote: { address: `${Math.floor(random() * 256)}.${Math.floor(random() * 256)}.1.2`, port: 1024 + Math.floor(random() * RULES * 2) },
  };
}
const events = Array.from({ length: EVENTS }, event);

function time(label: string, run: () => number): number {
  run(); // warm-up pass so both sides are measured JIT-compiled
  const start = process.hrtime.bigint();
  const checksum = run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = EVENTS / seconds;
  console.log(`${label.padEnd(44)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} events/s  (${seconds.toFixed(2)} s, checksum ${checksum})`);
  return rate;
}

const filters = parseFilters({ rules: ruleJson });
const signals = parseSignals({ signals: ruleJson.map((r) => ({ id: r.id, name: r.id, severity: 'low', family: r.family, when: r.when })) });

let t0 = performance.now();
const fastFilters = compileFilterSet({ base: filters });
const fastSignals = compileSignals(signals);
const compileFast = performance.now() - t0;
t0 = performance.now();
const linearFilters = compileFilterSet({ base: filters }, { disableSignalsTrie: true });
const linearSignals = compileSignals(signals, { disableSignalsTrie: true });
const compileLinear = performance.now() - t0;

console.log(`@dc/filters bench: ${RULES} rules x ${EVENTS} events, node ${process.version}`);
console.log(`compile: indexed ${compileFast.toFixed(1)} ms, linear ${compileLinear.toFixed(1)} ms`);
const dropped = (set: typeof fastFilters) => () => {
  let n = 0;
  for (let i = 0; i < events.length; i++) if (!set.decide(events[i]).keep) n++;
  return n;
};
const matched = (set: typeof fastSignals) => () => {
  let n = 0;
  for (let i = 0; i < events.length; i++) n += set.match(events[i]).length;
  return n;
};
const fd = time('FilterSet.decide, compiled (trie/AC/index)', dropped(fastFilters));
const ld = time('FilterSet.decide, linear (baseline)', dropped(linearFilters));
const fs = time('SignalSet.match, compiled (trie/AC/index)', matched(fastSignals));
const ls = time('SignalSet.match, linear (baseline)', matched(linearSignals));
console.log(`speed-up: decide ${(fd / ld).toFixed(1)}x, match ${(fs / ls).toFixed(1)}x (same checksums = same results)`);
