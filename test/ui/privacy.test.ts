/**
 * The Privacy page in Chromium (docs/privacy.md): an erasure waiting on X is listed with its age;
 * a configuration needing re-authorization that holds it back is named on every page (the clock
 * does not stop); past 20 hours the page warns. The 20 hours are the server's figure: the test
 * ages the answer of GET /api/v1/privacy in the browser, as no test can wait 20 hours.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, expectNoAxeViolations, launch, shot } from './browser.ts';

describeInBrowser('Privacy page in Chromium', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    emu = await Emu.start();
    [tailor, browser] = await Promise.all([TailorProcess.start(emu), launch()]);
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(30_000);
    page = await context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await tailor?.stop();
    await emu?.close();
  });

  it('shows erasures waiting on X, what holds them back, and warns past 20 hours', async () => {
    const configId = await tailor.addConfiguration(emu);
    await tailor.api('PUT', '/audiences/club', { name: 'Club' });
    await tailor.api('PUT', `/audiences/club/connections/${configId}`, {});
    await tailor.api('POST', '/audiences/club/members', { add: [{ user_id: 'p', email: 'p@example.com' }] });
    await waitFor('sent', async () => Object.values(await tailor.downstreams('club')).some((d: any) => d.sent_adds > 0));
    // X revokes the tokens: the configuration pauses, and the erasure cannot reach X.
    const { user } = emu.admin();
    const calls = await emu.get<{ token: string | null }[]>('/_emulator/requests');
    await emu.faults({ revoke_tokens: [...new Set(calls.map((c) => c.token).filter((t): t is string => t?.startsWith(`${user.user_id}-`) ?? false))] });
    await waitFor('paused', async () => (await tailor.api('GET', '/configurations')).body.data[0].state === 'needs_reauth');
    expect((await tailor.api('POST', '/erasures', { email: 'p@example.com' })).status).toBe(202);
    await waitFor('the log says so', async () => /waiting on configuration .* needs re-authorization/.test(tailor.logs));

    await page.goto(`${tailor.url}/privacy`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Privacy', level: 1 }).waitFor();
    await page
      .getByText(/Erasures and opt-outs are waiting on .*, which needs re-authorization/)
      .first()
      .waitFor();
    const row = page.locator('tbody tr', { hasText: 'API' });
    await row.getByText('pending').waitFor();
    expect(await row.innerText()).toMatch(/waiting \d+\s+s/);
    expect(await page.getByText(/has waited .* for X/).count()).toBe(0);
    await shot(page, 'privacy-waiting');
    await expectNoAxeViolations(page, 'privacy, waiting on a paused configuration');

    // Other pages name the paused configuration too.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audiences', exact: true }).click();
    await page.getByText(/Erasures and opt-outs are waiting on/).waitFor();

    // 21 hours later (as the server would say it): the warning.
    await context.route('**/api/v1/privacy', async (route) => {
      const res = await route.fetch();
      const body = await res.json();
      body.oldest_pending_erasure_age_seconds = 21 * 3600;
      await route.fulfill({ response: res, json: body });
    });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Privacy', exact: true }).click();
    await page.getByText(/An opt-out or erasure has waited 21\s+h 0\s+min for X \(X allows 24 h\)/).waitFor();
    await page.locator('.badge.warn', { hasText: /21\s+h/ }).waitFor();
    await shot(page, 'privacy-warning');
    await expectNoAxeViolations(page, 'privacy, past 20 hours');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'privacy-warning-phone');
    await expectNoAxeViolations(page, 'privacy at 390 px');
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
