/**
 * The Audit log page in Chromium (issue 14): a real `tailor serve` with the X emulator as X. The
 * changes come from everyone who makes them: the admin token (through the API), a signed-in web
 * UI session, mParticle's Firehose, and Tailor's own workers (a configuration paused when X
 * revokes its tokens; an erasure seen through once X acknowledged it). The page shows who and
 * which objects, newest first, pages back with "Show older" until the first change, and never an
 * identity. At 1366×900 and 390×844, with axe-core finding no violation; screenshots
 * (test/ui/browser.ts `shot`).
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixture, forAccount } from '../firehose/helpers.ts';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, launch, shot, expectNoAxeViolations } from './browser.ts';

const WIDE = { width: 1366, height: 900 };
const NARROW = { width: 390, height: 844 };
const FIREHOSE_TOKEN = 'ui-audit-firehose-token';
/** Renames of one audience: with the rest, more than the page's 50 entries. */
const RENAMES = 45;

describeInBrowser('Audit log page in Chromium', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let configId: string;
  /** Every entry the API holds, newest first: what the page must show. */
  let total: number;

  beforeAll(async () => {
    emu = await Emu.start();
    const { user, accountId } = emu.admin();
    [tailor, browser] = await Promise.all([TailorProcess.start(emu, { env: { TAILOR_FIREHOSE_TOKEN: FIREHOSE_TOKEN } }), launch()]);
    configId = await tailor.addConfiguration(emu);
    // The oldest changes: an audience renamed over and over (page 2).
    await tailor.api('PUT', '/audiences/bulk', { name: 'Bulk 0' });
    for (let i = 1; i <= RENAMES; i++) await tailor.api('PUT', '/audiences/bulk', { name: `Bulk ${i}` });

    // The newest (page 1): a connection, a resync, an opt-out, an erasure.
    await tailor.api('PUT', '/audiences/club', { name: 'Club' });
    await tailor.api('PUT', `/audiences/club/connections/${configId}`, { forward_twitter_handles: false, forward_device_ids: false });
    await tailor.api('POST', '/audiences/club/members', { add: [{ user_id: 'ann', email: 'ann@example.com' }, { email: 'bob@example.com' }] });
    await waitFor('on X', async () => ((await tailor.downstreams('club')).email?.members === 2 ? true : undefined));
    await tailor.api('POST', `/audiences/club/connections/${configId}/resync`);
    await tailor.api('POST', '/suppressions', { add: [{ email: 'opted.out@example.com' }] });
    const erasure = (await tailor.api('POST', '/erasures', { email: 'ann@example.com' })).body;
    await waitFor('the erasure done', async () => ((await tailor.api('GET', `/erasures/${erasure.id}`)).body.state === 'done' ? true : undefined));

    // mParticle connects an audience.
    const sub = await fetch(`${tailor.url}/firehose`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Token ${FIREHOSE_TOKEN}` },
      body: JSON.stringify(forAccount(fixture('subscription-add.json'), accountId)),
    });
    expect(sub.status).toBe(200);

    // X revokes the tokens: a worker pauses the configuration; new tokens resume it.
    await emu.faults({ revoke_tokens: [user.access_token] });
    await tailor.api('POST', '/audiences/club/members', { add: [{ email: 'cy@example.com' }] });
    await waitFor('paused', async () => ((await tailor.api('GET', '/configurations')).body.data[0].state === 'needs_reauth' ? true : undefined));
    await emu.faults({ restore_tokens: [user.access_token] });
    await tailor.addConfiguration(emu);
    // Last, the connection's cadence (changes then wait for its window).
    await tailor.api('PUT', `/audiences/club/connections/${configId}`, {
      forward_twitter_handles: false,
      forward_device_ids: false,
      send_interval_minutes: 360,
    });

    context = await browser.newContext({ viewport: WIDE, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(30_000);
    page = await context.newPage();
    await page.goto(`${tailor.url}/audit`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
    // A change from this signed-in browser, as the UI's own script makes its calls.
    const status = await page.evaluate<number>(`(async () => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const res = await fetch('/api/v1/audiences/from-the-ui', {
        method: 'PUT',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ name: 'From the UI' }),
      });
      return res.status;
    })()`);
    expect(status).toBe(201);
    total = 0;
    for await (const _ of tailor.client.each('/api/v1/audit')) total += 1;
  });
  afterAll(async () => {
    await browser?.close();
    await tailor?.stop();
    await emu?.close();
  });

  const rows = (): Locator => page.locator('main table tbody tr');
  /** The row of the newest entry with this action (its text, spaces folded). */
  const rowOf = async (action: string): Promise<string> =>
    (
      await rows()
        .filter({ has: page.locator('th', { hasText: new RegExp(`^${action.replace('.', '\\.')}$`) }) })
        .first()
        .innerText()
    ).replace(/\s+/g, ' ');

  it('shows who changed which object, newest first, a page at a time', async () => {
    // The page refreshes itself: it has seen the UI's change once its row is first.
    await expect.poll(async () => (await rows().first().innerText()).replace(/\s+/g, ' '), { timeout: 30_000 }).toMatch(/Web UI audience\.created from-the-ui/);
    expect(total).toBeGreaterThan(50);
    expect(await rows().count()).toBe(50);

    expect(await rowOf('configuration.paused')).toMatch(/Tailor \(sync worker\) configuration\.paused [0-9a-f-]{36} state: needs_reauth, reason: .+/);
    expect(await rowOf('configuration.resumed')).toMatch(/Admin token \(API\) configuration\.resumed/);
    expect(await rowOf('erasure.completed')).toMatch(/Tailor \(sync worker\) erasure\.completed [0-9a-f-]{36}/);
    expect(await rowOf('erasure.requested')).toMatch(/Admin token \(API\) erasure\.requested [0-9a-f-]{36} source: api, members erased: 1, x audiences: 1/);
    expect(await rowOf('suppression.changed')).toMatch(/Admin token \(API\) suppression\.changed — added: 1, lifted: 0/);
    expect(await rowOf('connection.resync_requested')).toMatch(new RegExp(`connection\\.resync_requested club → ${configId} x audiences: 1`));
    expect(await rowOf('connection.updated')).toMatch(/send interval minutes: 360, changed: send_interval_minutes/);
    expect(await rowOf('connection.created')).toMatch(/mParticle Firehose connection\.created 7622 → /);
    // An audience's id links to its page.
    const club = rows().filter({ hasText: 'audience.created' }).filter({ hasText: 'club' }).getByRole('link', { name: 'club' });
    expect(await club.getAttribute('href')).toBe('/audiences/club');

    const text = await page.locator('main').innerText();
    for (const raw of ['ann@example.com', 'bob@example.com', 'opted.out', 'cy@example.com']) expect(text).not.toContain(raw);
    await expectNoAxeViolations(page, 'audit, wide');
    await shot(page, 'audit-log');
  });

  it('pages back with "Show older" until the first change, and fits a phone', async () => {
    await page.getByRole('button', { name: 'Show older' }).click();
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(total);
    await page.getByRole('button', { name: 'Show older' }).waitFor({ state: 'hidden' });
    const last = (await rows().last().innerText()).replace(/\s+/g, ' ');
    expect(last).toMatch(new RegExp(`Admin token \\(API\\) configuration\\.created ${configId} account id: \\d+`));
    expect(await rows().filter({ hasText: 'audience.renamed' }).count()).toBe(RENAMES);

    await page.setViewportSize(NARROW);
    await page.reload();
    await expect.poll(() => rows().count(), { timeout: 30_000 }).toBe(50);
    await expectNoAxeViolations(page, 'audit, phone');
    // The table scrolls inside its box; the page itself never scrolls sideways.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'audit-log-phone');
  });
});
