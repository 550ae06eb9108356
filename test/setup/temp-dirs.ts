/** Per test file: remove the directories `tempDir()` (test/helpers/tmp.ts) made, pass or fail. */
import { afterAll } from 'vitest';
import { removeTempDirs } from '../helpers/tmp.js';

afterAll(() => removeTempDirs());
