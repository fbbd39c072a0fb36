// Recorder configuration per module (SPEC 2.3, 2.7): recorder.json, filters, watchlist, signals; and the merged view.
import { InvalidArgument, notFound } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';
import { type FilterDocumentKind, mergedFilterProvenance, validateFilterDocument } from './filter-documents';
import { MERGED_FIELDS, type RecorderJson, recorderDefaults, sizeInBytes, validateRecorderJson } from './recorder-parameters';

export const RECORDER_FILE_KINDS = ['recorder', 'filters', 'watchlist', 'signals'] as const;
export type RecorderFileKind = (typeof RECORDER_FILE_KINDS)[number];

/** The base files have no module prefix (recorder.json, filters.json); modules drop `<module>_<kind>.json`. */
export const BASE_MODULE = 'base';

export interface RecorderFile {
  module: string;
  kind: RecorderFileKind;
  /** The file name on the endpoint, e.g. im_recorder.json (SPEC 2.3). */
  fileName: string;
  /** The JSON text as saved. */
  content: string;
  revision: number;
  updatedAt: string;
}

export const RECORDER_CONFIG_KIND = 'recorder_config';
const MODULE = /^[a-z][a-z0-9]{0,31}$/;

export function recorderFileName(module: string, kind: RecorderFileKind): string {
  if (module === BASE_MODULE) return `${kind}.json`;
  if (module === 'im' && kind === 'watchlist') return 'watchlist.json'; // SPEC 2.3: the Integrity Monitor's watchlist
  return `${module}_${kind}.json`;
}

/** What an endpoint computes from all files (SPEC 2.7), per OS. */
export interface MergedRecorderConfig {
  /** The effective recorder.json: base parameters with defaults, merged fields per SPEC 2.7. */
  recorder: RecorderJson;
  /** Filter files in the order the recorder applies them: base first, then modules by name. */
  filters: Array<{ module: string; fileName: string; document: unknown }>;
  /** Watchlists; they override the other modules' file filters (SPEC 2.3). */
  watchlists: Array<{ module: string; fileName: string; document: unknown }>;
  signals: Array<{ module: string; fileName: string; document: unknown }>;
  /** Every filter rule of the merged set, in precedence order, with the module it comes from. */
  filterRules: Array<{ ruleId: string; module: string; action: string; family: string }>;
  /** For each merged field, which files set it. */
  sources: Record<string, string[]>;
}

interface StoredFile {
  module: string;
  kind: RecorderFileKind;
  content: string;
}

export class RecorderConfigService {
  constructor(private readonly store: SettingsStore) {}

  list(module?: string): RecorderFile[] {
    return this.store
      .list<StoredFile>(RECORDER_CONFIG_KIND)
      .filter((d) => module === undefined || module === '' || d.value.module === module)
      .map((d) => ({
        ...d.value,
        fileName: recorderFileName(d.value.module, d.value.kind),
        revision: d.revision,
        updatedAt: d.updatedAt.toISOString(),
      }));
  }

  get(module: string, kind: RecorderFileKind): RecorderFile {
    checkModule(module);
    checkKind(kind);
    const found = this.list(module).find((f) => f.kind === kind);
    if (!found) throw notFound('recorder file', recorderFileName(module, kind));
    return found;
  }

  /** Validates and saves one file; the content is kept as written (pretty-printing is the author's). */
  put(actor: Actor, module: string, kind: RecorderFileKind, content: string): RecorderFile {
    checkModule(module);
    checkKind(kind);
    const fileName = recorderFileName(module, kind);
    if (kind === 'recorder') validateRecorderJson(fileName, content, module !== BASE_MODULE);
    else validateFilterDocument(kind as FilterDocumentKind, fileName, content);
    this.store.put<StoredFile>(actor, RECORDER_CONFIG_KIND, `${module}/${kind}`, { module, kind, content });
    return this.get(module, kind);
  }

  delete(actor: Actor, module: string, kind: RecorderFileKind): number {
    checkModule(module);
    checkKind(kind);
    const revision = this.store.remove(actor, RECORDER_CONFIG_KIND, `${module}/${kind}`);
    if (revision === undefined) throw notFound('recorder file', recorderFileName(module, kind));
    return revision;
  }

  /** The configuration an endpoint of `os` computes from every module's files (SPEC 2.7). */
  merged(os: 'WINDOWS' | 'LINUX' | 'MACOS'): MergedRecorderConfig {
    return mergeRecorderFiles(this.list(), os);
  }
}

/** SPEC 2.7 merge, pure: base recorder.json (defaults filled) then each module's merged fields. */
export function mergeRecorderFiles(files: RecorderFile[], os: 'WINDOWS' | 'LINUX' | 'MACOS'): MergedRecorderConfig {
  const ordered = [...files].sort(
    (a, b) => Number(b.module === BASE_MODULE) - Number(a.module === BASE_MODULE) || a.module.localeCompare(b.module),
  );
  const recorderFiles = ordered.filter((f) => f.kind === 'recorder').map((f) => ({ f, json: JSON.parse(f.content) as RecorderJson }));
  const base = recorderFiles.find((r) => r.f.module === BASE_MODULE)?.json ?? {};
  const recorder: RecorderJson = { ...recorderDefaults(), ...base };
  delete recorder.rawLogging; // SPEC 2.7: unset unless a file sets it
  const sources: Record<string, string[]> = {};
  const setters = (field: string) => recorderFiles.filter((r) => field in r.json);
  for (const field of MERGED_FIELDS) {
    const set = setters(field);
    sources[field] = set.map((r) => r.f.fileName);
    const values = set.map((r) => r.json[field]);
    if (values.length === 0) continue;
    switch (field) {
      case 'maxSizeMB':
      case 'logRotations':
        recorder[field] = Math.max(...(values as number[])); // largest
        break;
      case 'cpuThreshold':
        recorder[field] = Math.min(...(values as number[])); // smallest
        break;
      case 'logMaxSize': {
        const bytes = values.map((v) => sizeInBytes(v) as number);
        recorder[field] = values[bytes.indexOf(Math.min(...bytes))]; // smallest
        break;
      }
      case 'rawLogging':
      case 'cpuKillEnabled':
        recorder[field] = values.every((v) => v === true); // false if any is false
        break;
    }
  }
  if (os !== 'LINUX') delete recorder.rawLogging; // SPEC 2.7: rawLogging is a Linux (auditd) setting
  if (recorder.MaxRuntimeStorageSizeMB === undefined) recorder.MaxRuntimeStorageSizeMB = 2 * (recorder.MaxStorageSizeMB as number); // SPEC 2.6
  if (recorder.AbsoluteMaxStorageSizeMB === undefined) recorder.AbsoluteMaxStorageSizeMB = 2 * (recorder.MaxStorageSizeMB as number); // SPEC 2.6
  const docs = (kind: RecorderFileKind) =>
    ordered.filter((f) => f.kind === kind).map((f) => ({ module: f.module, fileName: f.fileName, document: JSON.parse(f.content) as unknown }));
  const filterFiles = ordered.filter((f) => f.kind === 'filters');
  const filterRules = mergedFilterProvenance({
    base: filterFiles.find((f) => f.module === BASE_MODULE)?.content,
    modules: filterFiles.filter((f) => f.module !== BASE_MODULE).map((f) => ({ module: f.module, content: f.content })),
    watchlist: ordered.find((f) => f.kind === 'watchlist')?.content,
  }).map((p) => ({ ruleId: p.ruleId, module: p.module ?? BASE_MODULE, action: p.action, family: p.family }));
  return { recorder, filters: docs('filters'), watchlists: docs('watchlist'), signals: docs('signals'), filterRules, sources };
}

function checkModule(module: string): void {
  if (!MODULE.test(module ?? '')) {
    throw new InvalidArgument(
      'module',
      `must be "${BASE_MODULE}" for the base files or a module name (lower-case letters and digits, e.g. "im", "map")`,
      module,
    );
  }
}

function checkKind(kind: string): void {
  if (!(RECORDER_FILE_KINDS as readonly string[]).includes(kind)) {
    throw new InvalidArgument('kind', `must be one of ${RECORDER_FILE_KINDS.join(', ')}`, kind);
  }
}
