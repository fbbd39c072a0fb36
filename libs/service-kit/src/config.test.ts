import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, listenSchema, loadConfig, logLevelSchema } from './config';
import { makeTempDir } from './testing';

const schema = z
  .object({
    dataDir: z.string().default('./data/x'),
    logLevel: logLevelSchema.default('info'),
    grpc: listenSchema(17481),
    limits: z.object({ maxSessions: z.number().int().min(1).max(1000).default(100) }).strict().prefault({}),
  })
  .strict();

describe('loadConfig', () => {
  const temps: Array<{ remove(): void }> = [];
  afterEach(() => temps.splice(0).forEach((t) => t.remove()));
  const tmp = () => {
    const t = makeTempDir();
    temps.push(t);
    return t.dir;
  };

  it('fills every default when nothing is given', () => {
    expect(loadConfig({ schema, envPrefix: 'DC_T_', env: {} })).toEqual({
      dataDir: './data/x',
      logLevel: 'info',
      grpc: { host: '127.0.0.1', port: 17481 },
      limits: { maxSessions: 100 },
    });
  });

  it('layers file < environment < flags', () => {
    const file = join(tmp(), 'c.yaml');
    writeFileSync(file, 'dataDir: /from/file\ngrpc:\n  port: 1000\nlimits:\n  maxSessions: 5\n');
    const cfg = loadConfig({
      schema,
      file,
      envPrefix: 'DC_T_',
      env: { DC_T_GRPC__PORT: '2000', DC_T_LIMITS__MAX_SESSIONS: '7', OTHER: 'x' },
      overrides: { 'grpc.port': 3000 },
    });
    expect(cfg.dataDir).toBe('/from/file');
    expect(cfg.grpc.port).toBe(3000);
    expect(cfg.limits.maxSessions).toBe(7);
  });

  it('names the key, the source and the rule of a bad value', () => {
    try {
      loadConfig({ schema, envPrefix: 'DC_T_', env: { DC_T_GRPC__PORT: '70000' } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toBe('config key "grpc.port" (env DC_T_GRPC__PORT): must be from 0 to 65535 (got 70000)');
    }
  });

  it('refuses unknown keys, naming them', () => {
    const file = join(tmp(), 'c.json');
    writeFileSync(file, JSON.stringify({ grpc: { prot: 1 } }));
    expect(() => loadConfig({ schema, file, envPrefix: 'DC_T_', env: {} })).toThrow(
      `config key "grpc.prot" (${file}): is not a known configuration key`,
    );
  });

  it('rejects a log level outside the SPEC 1.7 list', () => {
    expect(() => loadConfig({ schema, envPrefix: 'DC_T_', env: { DC_T_LOG_LEVEL: 'verbose' } })).toThrow(
      /config key "logLevel" \(env DC_T_LOG_LEVEL\): must be one of trace, debug, info, warn, error, fatal \(got "verbose"\)/,
    );
  });

  it('reports an unreadable or malformed file by name', () => {
    const dir = tmp();
    expect(() => loadConfig({ schema, file: join(dir, 'missing.json'), envPrefix: 'X', env: {} })).toThrow(/missing.json": cannot be read \(ENOENT\)/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"grpc": ');
    expect(() => loadConfig({ schema, file: bad, envPrefix: 'X', env: {} })).toThrow(/bad.json": is not valid JSON/);
    writeFileSync(bad, '[1,2]');
    expect(() => loadConfig({ schema, file: bad, envPrefix: 'X', env: {} })).toThrow(/must hold an object of keys, not an array/);
  });

  it('counts the further problems after the first', () => {
    const err = (() => {
      try {
        loadConfig({ schema, envPrefix: 'DC_T_', env: { DC_T_GRPC__PORT: '-1', DC_T_LIMITS__MAX_SESSIONS: '0' } });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err?.issues.map((i) => i.key)).toEqual(['grpc.port', 'limits.maxSessions']);
    expect(err?.message).toMatch(/\(and 1 more: limits.maxSessions\)$/);
  });
});
