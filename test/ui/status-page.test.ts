/**
 * The status page (`sluice run --ui ADDR`) in a real headless browser: Debian's Chromium driven by
 * playwright-core (never a browser playwright downloads). The page is loaded during a run made
 * slow on purpose; the test checks that the DAG is drawn, that counts move, that an alert with its
 * indicator, feed and line shows, and saves a screenshot to test-output/status-page.png
 * (git-ignored). Without Chromium the test is skipped loudly; in CI (CI=true) that is a failure
 * (.ci/run installs it).
 */
import { describe, it, expect } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { compileSlow, ROOT, startObservedRun } from '../helpers/observed-run.js';
import { tempDir } from '../helpers/tmp.js';

const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const have = existsSync(CHROMIUM);
if (!have) {
  const msg = `status page test: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or SLUICE_CHROMIUM=path)`;
  if (process.env.CI === 'true') throw new Error(`${msg}: required in CI`);
  console.warn(`\n*** SKIPPED: ${msg} ***\n`);
}

/** The flags the machine needs: no sandbox as root, no network of Chromium's own. */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe.skipIf(!have)('status page in headless Chromium', () => {
  it('shows the DAG, moving counts and an alert with its indicator, feed and line; saves a screenshot', async () => {
    const { spec, dir } = await compileSlow({ copies: 30, msPerBatch: 25 });
    const { obs, base, run } = await startObservedRun(spec, dir);
    const browser = await chromium.launchPersistentContext(tempDir('chromium-'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 1000 },
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/ui`);
      // The DAG: one box per node, one path per edge.
      for (const n of spec.order) await page.locator(`svg [data-node="${n}"]`).waitFor();
      expect(await page.locator('svg g.edge').count()).toBe([...spec.nodes.values()].reduce((a, n) => a + n.inputs.length, 0));
      await page.locator('#conn', { hasText: 'live' }).waitFor();
      // Moving counts: the header's records-in and parse's box change while the run goes on.
      const read = async () => ({ total: await page.locator('#t-in').textContent(), parse: await page.locator('[data-node="parse"] .count').textContent() });
      const first = await read();
      // (a string: the function runs in the page, whose DOM types the test's tsconfig does not load)
      await page.waitForFunction(`document.getElementById('t-in').textContent !== ${JSON.stringify(first.total)}`, undefined, { timeout: 10_000 });
      const second = await read();
      expect(second.parse).not.toBe(first.parse);
      // Edge rates come from the monitor's rate sampler, a tick behind the counts: wait for one to move.
      await page.locator('svg g.edge.moving').first().waitFor({ timeout: 10_000 });
      expect(await page.locator('svg g.edge.moving').count()).toBeGreaterThan(0);
      // An alert: rule, indicator, feed, matched field and the line it came from.
      const row = page.locator('#alerts tr', { hasText: 'bad-ips' }).first();
      await row.waitFor({ timeout: 15_000 });
      const text = (await row.textContent())!;
      expect(text).toMatch(/ioc-sweep/);
      expect(text).toMatch(/destination\.ip = /);
      expect(text).toMatch(/in\.log:\d+/);
      // Rejects by reason and feeds.
      await page
        .locator('#rejects td', { hasText: /^PARSE_/ })
        .first()
        .waitFor();
      await page.locator('#feeds td', { hasText: 'feodo' }).first().waitFor();
      expect(await page.locator('#phase').textContent()).toMatch(/running/);
      const out = join(ROOT, 'test-output');
      mkdirSync(out, { recursive: true });
      await page.screenshot({ path: join(out, 'status-page.png'), fullPage: true });
      expect(errors).toEqual([]);
      await run;
      await page.locator('#phase', { hasText: 'done' }).waitFor({ timeout: 10_000 });
    } finally {
      await browser.close();
      await run.catch(() => undefined);
      await obs.close();
    }
  });
});
