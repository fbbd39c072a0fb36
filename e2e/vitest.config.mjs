import { defineConfig } from 'vitest/config';
import { projectConfig } from '../vitest.shared.mjs';

// Cross-process tests spawn real servers: run files one at a time so ports and CPU are not fought over.
export default defineConfig(projectConfig(import.meta.dirname, { fileParallelism: false, testTimeout: 60_000 }));
