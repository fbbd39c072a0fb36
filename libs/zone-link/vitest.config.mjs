import { defineConfig } from 'vitest/config';
import { projectConfig } from '../../vitest.shared.mjs';

export default defineConfig(projectConfig(import.meta.dirname));
