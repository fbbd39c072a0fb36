// Recorder configuration per module (SPEC 2.3, 2.7): recorder.json, filters, watchlist, signals; and the merged view.
import { InvalidArgument, notFound } from '../errors';
import type { Actor, SettingsStore } from '../store/settings-store';
import { type FilterDocumentKind, filterDocumentIssues, mergedFilterProvenance } from './filter-documents';
import { type ConfigIssue, MERGED_FIELDS, type RecorderJson, recorderDefaults, recorderJsonIssues, sizeInBytes } from './recorder-parameters';

export const RECORDER_FILE_KINDS = ['recorder', 'filters', 'watchlist', 'signals'] as const;
export type RecorderFileKind = (typeof RECORDER_FILE_KINDS)[number];

/** The base files have no module prefix (recorder.json, filters.json); modules drop `<module>_<kind>.json`. */
export const BASE_MODULE = 'base';

/** One module's files as JSON text; an empty text means the module has no such file. */
export interface ModuleRecorderConfig {
  module: string;
  recorder: string;
  filters: string;
  watchlist: string;
  signals: string;
}

export interface StoredModuleConfig extends ModuleRecorderConfig {
  revision: number;
  updatedAt: string;
  updatedBy: string;
}

/** A file an endpoint receives, named as on the endpoint (SPEC 2.3). */
export interface RecorderFile {
  module: string;
  kind: RecorderFileKind;
  fileName: string;
  content: string;
}

export interface RecorderConfigError extends ConfigIssue {
  file: RecorderFileKind;
  fileName: string;
  /** A full sentence: `im_recorder.json $.cpuThreshold 2: must be a number above 0 and at most 1`. */
  message: string;
}

export type MergeStrategy = 'LARGEST' | 'SMALLEST' | 'FALSE_IF_ANY_FALSE' | 'BASE_WINS';

export interface MergedField {
  name: string;
  /** JSON text; empty when unset (rawLogging when no file sets it, or off Linux). */
  valueJson: string;
  strategy: MergeStrategy;
  /** Modules whose value won; empty when the default applies. */
  decidedBy: string[];
  isDefault: boolean;
}

/** What an endpoint computes from all modules' files (SPEC 2.7), for one OS. */
export interface MergedRecorderConfig {
  recorder: RecorderJson;
  fields: MergedField[];
  modules: string[];
  /** Every filter rule of the merged set with the module it comes from. */
  filterRules: Array<{ ruleId: string; module: string; action: string; family: string }>;
}

export const RECORDER_CONFIG_KIND = 'recorder_config';
const MODULE = /^[a-z0-9]{1,32}$/;

const STRATEGIES: Record<(typeof MERGED_FIELDS)[number], MergeStrategy> = {
  maxSizeMB: 'LARGEST',
  logRotations: 'LARGEST',
  logMaxSize: 'SMALLEST',
  cpuThreshold: 'SMALLEST',
  rawLogging: 'FALSE_IF_ANY_FALSE',
  cpuKillEnabled: 'FALSE_IF_ANY_FALSE',
};

export function recorderFileName(module: string, kind: RecorderFileKind): string {
  if (module === BASE_MODULE) return `${kind}.json`;
  if (module === 'im' && kind === 'watchlist') return 'watchlist.json'; // SPEC 2.3: the Integrity Monitor's watchlist
  return `${module}_${kind}.json`;
}

export class RecorderConfigService {
  constructor(
    private readonly store: SettingsStore,
    /** Called after a stored change (starts a content build when connection settings exist). */
    private readonly onChange: (actor: Actor, module: string) => void = () => {},
  ) {}

  list(): StoredModuleConfig[] {
    return this.store.list<ModuleRecorderConfig & { updatedBy: string }>(RECORDER_CONFIG_KIND).map((d) => ({
      ...d.value,
      revision: d.revision,
      updatedAt: d.updatedAt.toISOString(),
    }));
  }

  get(module: string): StoredModuleConfig {
    checkModule(module);
    const found = this.list().find((c) => c.module === module);
    if (!found) throw notFound('recorder configuration of module', module);
    return found;
  }

  /** Every module's files as the endpoint receives them. */
  files(): RecorderFile[] {
    return this.list().flatMap((c) =>
      RECORDER_FILE_KINDS.filter((kind) => c[kind] !== '').map((kind) => ({
        module: c.module,
        kind,
        fileName: recorderFileName(c.module, kind),
        content: c[kind],
      })),
    );
  }

  /** Every problem in a module's four files (empty when all are valid). */
  validate(config: ModuleRecorderConfig): RecorderConfigError[] {
    checkModule(config.module);
    const errors: RecorderConfigError[] = [];
    for (const kind of RECORDER_FILE_KINDS) {
      const text = config[kind] ?? '';
      if (text.trim() === '') continue;
      const fileName = recorderFileName(config.module, kind);
      const issues =
        kind === 'recorder'
          ? recorderJsonIssues(text, config.module !== BASE_MODULE)
          : filterDocumentIssues(kind as FilterDocumentKind, fileName, text);
      for (const issue of issues) {
        const value = 'value' in issue ? ` ${JSON.stringify(issue.value)?.slice(0, 120)}` : '';
        errors.push({ ...issue, file: kind, fileName, message: `${fileName} ${issue.jsonPath}${value}: ${issue.rule}` });
      }
    }
    return errors;
  }

  /**
   * Validates and stores one module's files, all or nothing. Returns the problems instead of
   * storing when there are any (so a console can show all of them at once).
   */
  put(actor: Actor, config: ModuleRecorderConfig, validateOnly = false): { errors: RecorderConfigError[]; config?: StoredModuleConfig } {
    const errors = this.validate(config);
    if (errors.length > 0 || validateOnly) return { errors };
    const value = {
      module: config.module,
      recorder: config.recorder ?? '',
      filters: config.filters ?? '',
      watchlist: config.watchlist ?? '',
      signals: config.signals ?? '',
      updatedBy: typeof actor === 'string' ? actor : actor.name,
    };
    if (RECORDER_FILE_KINDS.every((k) => value[k].trim() === '')) {
      throw new InvalidArgument('config', 'holds no file; use DeleteRecorderConfig to remove a module');
    }
    this.store.put(actor, RECORDER_CONFIG_KIND, config.module, value);
    this.onChange(actor, config.module);
    return { errors: [], config: this.get(config.module) };
  }

  delete(actor: Actor, module: string): number {
    checkModule(module);
    const revision = this.store.remove(actor, RECORDER_CONFIG_KIND, module);
    if (revision === undefined) throw notFound('recorder configuration of module', module);
    this.onChange(actor, module);
    return revision;
  }

  /** The configuration an endpoint of `os` computes from every module's files (SPEC 2.7). */
  merged(os: 'WINDOWS' | 'LINUX' | 'MACOS'): MergedRecorderConfig {
    return mergeRecorderConfigs(this.list(), os);
  }
}

/** SPEC 2.7 merge, pure: base recorder.json (defaults filled) then each module's merged fields. */
export function mergeRecorderConfigs(configs: ModuleRecorderConfig[], os: 'WINDOWS' | 'LINUX' | 'MACOS'): MergedRecorderConfig {
  const ordered = [...configs].sort(
    (a, b) => Number(b.module === BASE_MODULE) - Number(a.module === BASE_MODULE) || a.module.localeCompare(b.module),
  );
  const recorderDocs = ordered.filter((c) => c.recorder.trim() !== '').map((c) => ({ module: c.module, json: JSON.parse(c.recorder) as RecorderJson }));
  const base = recorderDocs.find((r) => r.module === BASE_MODULE)?.json ?? {};
  const defaults = recorderDefaults();
  const recorder: RecorderJson = { ...defaults, ...base };
  delete recorder.rawLogging; // SPEC 2.7: unset unless a file sets it
  const fields: MergedField[] = [];
  for (const field of MERGED_FIELDS) {
    const setters = recorderDocs.filter((r) => field in r.json);
    const strategy = STRATEGIES[field];
    if (setters.length === 0 || (field === 'rawLogging' && os !== 'LINUX')) {
      if (field === 'rawLogging') delete recorder.rawLogging;
      else recorder[field] = defaults[field];
      fields.push({ name: field, valueJson: field in recorder ? JSON.stringify(recorder[field]) : '', strategy, decidedBy: [], isDefault: true });
      continue;
    }
    let winner: unknown;
    if (strategy === 'LARGEST') winner = Math.max(...setters.map((s) => s.json[field] as number));
    else if (strategy === 'FALSE_IF_ANY_FALSE') winner = setters.every((s) => s.json[field] === true);
    else if (field === 'logMaxSize') {
      const bytes = setters.map((s) => sizeInBytes(s.json[field]) as number);
      winner = setters[bytes.indexOf(Math.min(...bytes))].json[field];
    } else winner = Math.min(...setters.map((s) => s.json[field] as number));
    recorder[field] = winner;
    const decidedBy = setters
      .filter((s) => (field === 'logMaxSize' ? sizeInBytes(s.json[field]) === sizeInBytes(winner) : s.json[field] === winner))
      .map((s) => s.module);
    fields.push({ name: field, valueJson: JSON.stringify(winner), strategy, decidedBy, isDefault: false });
  }
  // SPEC 2.6: the runtime and absolute caps default to twice the storage limit.
  if (recorder.MaxRuntimeStorageSizeMB === undefined) recorder.MaxRuntimeStorageSizeMB = 2 * (recorder.MaxStorageSizeMB as number);
  if (recorder.AbsoluteMaxStorageSizeMB === undefined) recorder.AbsoluteMaxStorageSizeMB = 2 * (recorder.MaxStorageSizeMB as number);
  for (const [name, value] of Object.entries(recorder)) {
    if ((MERGED_FIELDS as readonly string[]).includes(name)) continue;
    const fromBase = name in base;
    fields.push({ name, valueJson: JSON.stringify(value), strategy: 'BASE_WINS', decidedBy: fromBase ? [BASE_MODULE] : [], isDefault: !fromBase });
  }
  const filterConfigs = ordered.filter((c) => c.filters.trim() !== '');
  const watchlist = ordered.find((c) => c.watchlist.trim() !== '')?.watchlist;
  const filterRules = mergedFilterProvenance({
    base: filterConfigs.find((c) => c.module === BASE_MODULE)?.filters,
    modules: filterConfigs.filter((c) => c.module !== BASE_MODULE).map((c) => ({ module: c.module, content: c.filters })),
    watchlist,
  }).map((p) => ({ ruleId: p.ruleId, module: p.module ?? BASE_MODULE, action: p.action, family: p.family }));
  return { recorder, fields, modules: ordered.map((c) => c.module), filterRules };
}

function checkModule(module: string): void {
  if (!MODULE.test(module ?? '')) {
    throw new InvalidArgument(
      'module',
      `must be "${BASE_MODULE}" for the base files or a module name (1–32 lower-case letters and digits, e.g. "im", "map")`,
      module,
    );
  }
}
