/**
 * Browser-test helpers: Debian's Chromium driven by playwright-core (never a downloaded browser),
 * the rule for when browser suites run (`describeInBrowser`), and screenshots. Tests wait for
 * states through Playwright's auto-waiting locators or `until`, never for fixed times.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import AxeBuilder from '@axe-core/playwright';
import { describe, expect, it } from 'vitest';

/** Chromium to drive; TAILOR_CHROMIUM overrides the Debian package's path. */
export const CHROMIUM = process.env.TAILOR_CHROMIUM ?? '/usr/bin/chromium';

const INSTALL = 'apt-get install chromium, or set TAILOR_CHROMIUM';

/**
 * A suite that needs Chromium. Without one it is skipped with one line saying how to get it, so
 * `npm test` passes with Node and npm alone. In CI (CI=true) a browser is required: there its
 * absence is one failing test, and the suite's hooks start nothing.
 */
export function describeInBrowser(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('has Chromium', () => {
        throw new Error(`no Chromium at ${CHROMIUM} (${INSTALL}); CI=true requires it`);
      });
    });
  } else {
    console.warn(`${name}: skipped, no Chromium at ${CHROMIUM} (${INSTALL})`);
    describe.skip(name, fn);
  }
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-dev-shm-usage',
    ],
  });
}

/**
 * Screenshots go to docs/screenshots/ (committed, shown in the README) when UPDATE_SCREENSHOTS=1,
 * else to test-results/screenshots/ (ignored), so an ordinary test run leaves the tree clean.
 */
const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join('docs', 'screenshots') : join('test-results', 'screenshots');

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  // Caret and animations would make shots differ from run to run for no reason.
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled', caret: 'hide' });
}

/** Waits until a locator's text matches. */
export async function untilText(locator: Locator, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = ((await locator.count()) > 0 ? await locator.first().innerText() : '').replace(/\s+/g, ' ').trim();
    if (pattern.test(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in: ${last}`);
    // Polls no faster than the page itself updates (every 2 s).
    await locator.page().waitForTimeout(200);
  }
}

/** axe-core on the page as it is now: no violation, each named with `what` and its elements. */
export async function expectNoAxeViolations(page: Page, what: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  expect(
    result.violations.map((v) => `${what}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    what,
  ).toEqual([]);
}
