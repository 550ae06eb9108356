/**
 * Temporary directories for tests. `tempDir()` creates one under the system temporary directory
 * and remembers it; the set-up file test/setup/temp-dirs.ts removes every directory made by a test
 * file once that file has run (an `afterAll` registered for each file), whether it passed or not.
 * Use it instead of `mkdtempSync`: it may be called at module level, in hooks or inside tests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new empty directory named `sluice-<prefix>XXXXXX`, removed after the test file. */
export function tempDir(prefix = 'test-'): string {
  const dir = mkdtempSync(join(tmpdir(), `sluice-${prefix}`));
  made.push(dir);
  return dir;
}

/** Remove every directory `tempDir` made so far (the set-up file calls it after each test file). */
export function removeTempDirs(): void {
  while (made.length) rmSync(made.pop()!, { recursive: true, force: true, maxRetries: 3 });
}
