/**
 * Status that tells the truth, at any scale (issue 16), in headless Chromium against a real
 * `tailor serve` and the X emulator, at 1366×900 and 390×844, with axe-core finding no violation
 * on any page: the list's search, filter and paging with a health line per audience and the
 * header's "needs attention" count; an audience's figures (on X, target, pending, match rate),
 * its delivery log, a re-created X audience with both ids; long names that wrap and tables that
 * become cards on a phone; and the lasting "cannot reach Tailor" banner.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, launch, shot, untilText, expectNoAxeViolations } from './browser.ts';

const STATE_MS = 45_000;
const WIDE = { width: 1366, height: 900 };
const NARROW = { width: 390, height: 844 };
const LONG = 'Customers-who-bought-winter-boots-and-matching-gloves-in-the-last-ninety-days-2026';

describeInBrowser('status at any scale, in Chromium', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let browser: Browser;
  let accountId: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    [tailor, browser] = await Promise.all([
      TailorProcess.start(emu, { env: { TAILOR_REFRESH_INTERVAL_MS: '1000', TAILOR_FLUSH_INTERVAL_MS: '200' } }),
      launch(),
    ]);
    const config = await tailor.addConfiguration(emu);
    const people = await emu.get<{ email: string; handle: string }[]>('/_emulator/population?offset=0&limit=200');
    await tailor.api('PUT', '/audiences/winter', { name: LONG });
    await tailor.api('PUT', `/audiences/winter/connections/${config}`, { forward_emails: true, forward_twitter_handles: true, forward_device_ids: false });
    await tailor.api('POST', '/audiences/winter/members', { add: people.map((p, i) => ({ user_id: `u${i}`, email: p.email, twitter_handle: p.handle })) });
    // Enough audiences for two pages of 50.
    for (let i = 0; i < 55; i++) await tailor.api('PUT', `/audiences/list-${String(i).padStart(2, '0')}`, { name: `Spring list ${i}` });
    await waitFor('members sent', async () => {
      const ds = await tailor.downstreams('winter');
      return ds.email?.pending === 0 && ds.email?.members === 200 && ds.handle?.members === 200;
    });
  });

  afterAll(async () => {
    await browser?.close();
    await tailor?.stop();
    await emu?.close();
  });

  async function signedIn(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'Europe/Paris' });
    context.setDefaultTimeout(STATE_MS);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${tailor.url}/`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Audiences', level: 1 }).waitFor();
    return page;
  }

  const fact = (c: Locator, label: string): Locator => c.locator('.field-row', { has: c.page().locator('dt', { hasText: label }) }).locator('dd');

  it('searches, filters and pages the list, with a health line per audience', async () => {
    const page = await signedIn(WIDE);
    const rows = page.locator('table.cards tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect.poll(() => rows.count()).toBe(6);
    await page.getByText('Audiences 51–56').waitFor();
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect.poll(() => rows.count()).toBe(50);
    await page.getByLabel('Search name or ID').fill('WINTER');
    await expect.poll(() => rows.count()).toBe(1);
    const row = rows.first();
    await untilText(row, /2 X audiences · .*200 members · last sync .* · no errors/);
    expect(page.url()).toContain('q=WINTER');
    // A long name without spaces wraps: the row's buttons stay on screen.
    const del = row.getByRole('button', { name: `Delete ${LONG}` });
    const box = (await del.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(WIDE.width);
    await expectNoAxeViolations(page, 'audiences');
    await shot(page, 'audiences-search');
    await page.getByLabel('Search name or ID').fill('');
    await page.getByLabel('Needs attention only').check();
    await page.getByText('No audience matches.').waitFor();
  });

  it('shows what X holds against the target, X’s size and match rate, and every call to X', async () => {
    await emu.post('/_emulator/sizing', {});
    const page = await signedIn(WIDE);
    await page.goto(`${tailor.url}/audiences/winter`);
    await untilText(page.locator('#health'), /2 X audiences · all targetable · 200 members · last sync .* · no errors/);
    const email = page.locator('article.downstream', { has: page.getByRole('heading', { name: `${LONG} (email)` }) });
    await untilText(fact(email, 'On X'), /^200 confirmed by X$/);
    await untilText(fact(email, 'Target'), /^200 in the audience: X has them all$/);
    await untilText(fact(email, 'Pending'), /^nothing waiting$/);
    await untilText(fact(email, 'Match rate'), /^\d+(\.\d)?% \(X size ÷ the 200 on X when X sized it\)$/);
    const log = page.locator('#deliveries tbody tr');
    await expect.poll(() => log.count()).toBeGreaterThanOrEqual(2);
    await untilText(page.locator('#deliveries'), /HTTP 200 200\/200 accepted/);
    // The figures the page shows are the API's.
    const api = (await tailor.downstreams('winter')).email;
    expect(api).toMatchObject({ members: 200, target: 200, pending_adds: 0, pending_removes: 0, uncertain: 0, sized_members: 200 });
    await expectNoAxeViolations(page, 'audience');
    await shot(page, 'audience-figures');
  });

  it('names the old and the new X id of an audience X lost, and where to re-point campaigns', async () => {
    const before = (await tailor.downstreams('winter')).email;
    await emu.faults({ delete_audiences: [{ account_id: accountId, id: before.x_audience_id }] });
    const people = await emu.get<{ email: string }[]>('/_emulator/population?offset=200&limit=1');
    await tailor.api('POST', '/audiences/winter/members', { add: [{ user_id: 'late', email: people[0]!.email }] });
    const page = await signedIn(WIDE);
    await page.goto(`${tailor.url}/audiences/winter`);
    const note = page.locator('.recreated');
    await untilText(note, new RegExp(`Old X id ${before.x_audience_id} New X id \\w+`));
    await note.getByRole('link', { name: 'X Ads › Tools › Audiences' }).waitFor();
    await expectNoAxeViolations(page, 'audience re-created');
  });

  it('works at 390 px: cards instead of tables, every button on screen', async () => {
    const page = await signedIn(NARROW);
    await page.getByLabel('Search name or ID').fill('winter');
    const row = page.locator('table.cards tbody tr');
    await expect.poll(() => row.count()).toBe(1);
    for (const name of [`Rename ${LONG}`, `Delete ${LONG}`]) {
      const box = (await row.getByRole('button', { name }).boundingBox())!;
      expect(box.x + box.width, name).toBeLessThanOrEqual(NARROW.width);
    }
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(NARROW.width);
    await expectNoAxeViolations(page, 'audiences at 390 px');
    await shot(page, 'audiences-narrow');
    await page.goto(`${tailor.url}/audiences/winter`);
    await page.locator('#deliveries tbody tr').first().waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(NARROW.width);
    await expectNoAxeViolations(page, 'audience at 390 px');
    await shot(page, 'audience-figures-narrow');
  });

  it('says how old the figures are while Tailor cannot be reached, until it answers again', async () => {
    const page = await signedIn(WIDE);
    await page.goto(`${tailor.url}/audiences/winter`);
    await page.locator('#health').waitFor();
    // Tailor stops answering: the page's polls fail and the banner stays.
    await page.route('**/api/v1/**', (route) => route.abort());
    await untilText(page.locator('#offline'), /^Cannot reach Tailor — figures as of \d{1,2}:\d\d(?: [AP]M)?\. Retrying…$/);
    // Said once as a warning, one plain sentence, not in the green of a done action.
    const said = page.locator('#status');
    const lost = await untilText(said, /^Lost contact with Tailor\. .+[.!?)] Retrying\.$/);
    expect(lost).not.toMatch(/\([^)]*\(/); // no bracket inside a bracket
    expect(await page.evaluate("getComputedStyle(document.getElementById('status')).backgroundColor")).toBe('rgb(254, 243, 199)');
    await expectNoAxeViolations(page, 'offline');
    await shot(page, 'audience-offline');
    await page.unroute('**/api/v1/**');
    await page.locator('#offline').waitFor({ state: 'hidden' });
    await untilText(said, /^Back in contact with Tailor\.$/);
    expect(await page.evaluate("getComputedStyle(document.getElementById('status')).backgroundColor")).toBe('rgb(220, 252, 231)');
  });
});
