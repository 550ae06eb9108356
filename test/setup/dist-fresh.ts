/**
 * Vitest global set-up: refuse to run against a stale `dist/`. Worker threads and the CLI run the
 * build while the unit tests import the sources, so a build older than the sources could let a
 * test pass on code that no longer exists. `npm test` builds first (`pretest`); a direct
 * `npx vitest run` after an edit fails here with the reason. The stamp and its hash:
 * scripts/build-stamp.mjs. `SLUICE_ALLOW_STALE_DIST=1` turns the refusal into a warning, for a
 * quick loop over tests that never touch dist/.
 */
import { staleReason } from '../../scripts/build-stamp.mjs';

export default function distFresh(): void {
  const why = staleReason();
  if (!why) return;
  const message = `dist/ is stale: ${why}.\nRun \`npm run build\` (or \`npm test\`, which builds first) before running the tests.`;
  if (process.env.SLUICE_ALLOW_STALE_DIST === '1') {
    console.warn(`warning: ${message}\n(SLUICE_ALLOW_STALE_DIST=1: running anyway)`);
    return;
  }
  throw new Error(message);
}
