// Shared vitest settings: resolves @dc/* imports through tsconfig.base.json paths, so tests
// run against the libraries' TypeScript sources exactly as the bundler resolves them.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const { compilerOptions } = JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8'));

/** Most specific alias first, so "@dc/service-kit/testing" wins over "@dc/service-kit". */
export const alias = Object.entries(compilerOptions.paths)
  .sort(([a], [b]) => b.length - a.length)
  .map(([find, [target]]) => ({
    find: new RegExp(`^${find.replace(/[/\\^$*+?.()|[\]{}-]/g, '\\$&')}$`),
    replacement: join(root, target),
  }));

/** @param {string} projectDir @param {Record<string, unknown>} [overrides] */
export function projectConfig(projectDir, overrides = {}) {
  return {
    root: projectDir,
    resolve: { alias },
    test: {
      include: ['src/**/*.test.ts'],
      environment: 'node',
      testTimeout: 30_000,
      hookTimeout: 30_000,
      pool: 'forks',
      passWithNoTests: true,
      ...overrides,
    },
  };
}
