/**
 * Setup › Health in headless Chromium against a real `tailor serve`, the X emulator and a webhook
 * receiver on 127.0.0.1, at 1366×900 and 390×844, with axe-core finding no violation: the setup
 * checks with passing, warning and failing ones (a configuration whose token X revoked, with what
 * to do), and the recent alert events with their delivery: one the receiver took, one it keeps
 * refusing with HTTP 500 (retrying, with its attempts and next try). At 390 px nothing scrolls
 * sideways, every control is on screen, and long texts wrap.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Receiver } from '../support/webhook-receiver.ts';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, launch, shot, untilText, expectNoAxeViolations } from './browser.ts';

const SECRET = 'health-ui-webhook-secret-0123456789';
const WIDE = { width: 1366, height: 900 };
const NARROW = { width: 390, height: 844 };

describeInBrowser('Setup › Health in Chromium', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let receiver: Receiver;
  let browser: Browser;
  let revokedConfig: string;

  beforeAll(async () => {
    emu = await Emu.start();
    receiver = await Receiver.start(SECRET);
    receiver.status = 204;
    [tailor, browser] = await Promise.all([
      TailorProcess.start(emu, { env: { TAILOR_WEBHOOK_URL: receiver.url, TAILOR_WEBHOOK_SECRET: SECRET, TAILOR_ALERT_AFTER_MINUTES: '0.01' } }),
      launch(),
    ]);
    // Two configurations: the admin's, healthy, and other_admin's, whose token X will revoke.
    const { user, accountId } = emu.admin();
    const other = emu.creds.users.find((u) => u.screen_name === 'other_admin')!;
    const healthy = await tailor.addConfiguration(emu);
    revokedConfig = (
      await tailor.client.addConfiguration({
        account_id: other.accounts[0]!.id,
        access_token: other.access_token,
        access_token_secret: other.access_token_secret,
      })
    ).id;
    for (const [audience, config] of [
      ['buyers', healthy],
      ['newsletter', revokedConfig],
    ] as const) {
      expect((await tailor.api('PUT', `/audiences/${audience}`, { name: audience === 'buyers' ? 'Buyers' : 'Newsletter' })).status).toBe(201);
      expect((await tailor.api('PUT', `/audiences/${audience}/connections/${config}`, {})).status).toBe(201);
      await tailor.api('POST', `/audiences/${audience}/members`, { add: [{ user_id: 'u1', email: `one-${audience}@example.com` }] });
    }
    const buyersX = await waitFor('both X audiences', async () => {
      const [b, n] = [await tailor.downstreams('buyers'), await tailor.downstreams('newsletter')];
      return b.email?.x_audience_id && n.email?.x_audience_id && b.email.x_audience_id;
    });

    // X revokes other_admin's token: the next change pauses its configuration; the receiver takes the event.
    await emu.faults({ revoke_tokens: [other.access_token] });
    await tailor.api('POST', '/audiences/newsletter/members', { add: [{ user_id: 'u2', email: 'two@example.com' }] });
    await waitFor('configuration.needs_reauth delivered', async () => receiver.delivered().some((r) => r.type === 'configuration.needs_reauth'));

    // The receiver fails from now on; X loses the healthy configuration's audience: x_audience.recreated, refused.
    receiver.status = 500;
    await emu.faults({ delete_audiences: [{ account_id: accountId, id: buyersX }] });
    await tailor.api('POST', '/audiences/buyers/members', { add: [{ user_id: 'u3', email: 'three@example.com' }] });
    await waitFor('x_audience.recreated refused twice', async () => receiver.received.filter((r) => r.type === 'x_audience.recreated').length >= 2);
    expect(user.access_token).not.toBe(other.access_token);
  });

  afterAll(async () => {
    await browser?.close();
    await tailor?.stop();
    await receiver?.close();
    await emu?.close();
  });

  async function signedIn(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(45_000);
    const page = await context.newPage();
    await page.goto(`${tailor.url}/setup/health`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Setup checks', level: 2 }).waitFor();
    return page;
  }

  /** What a reader sees, in one line. */
  const text = async (l: Locator): Promise<string> => (await l.innerText()).replace(/\s+/g, ' ').trim();
  /** The check item whose title matches. */
  const checkItem = (page: Page, title: string | RegExp) => page.locator('ul.checks li.check', { has: page.locator('strong', { hasText: title }) });
  const eventRow = (page: Page, type: string) => page.locator('#events-box tbody tr', { has: page.locator('code', { hasText: type }) });

  async function checksAndEvents(page: Page): Promise<void> {
    // The summary counts what the list shows: one failure (the revoked token), some warnings.
    await untilText(page.locator('#checks-summary'), /^1 failed, \d+ with a warning\. Checked .+\.$/);
    const revoked = checkItem(page, /Configuration “.*” \(account .*\)/).filter({ hasText: 'Failed' });
    await expect.poll(() => revoked.count()).toBe(1);
    expect(await text(revoked)).toMatch(/X refused the configuration's token \(HTTP 401.*\): it was revoked or is no longer valid\./);
    expect(await text(revoked)).toMatch(/What to do: Re-authorize it in Setup › Outputs/);
    // The callback X confirmed is on the port Tailor listens on (TAILOR_PORT=0 picks one).
    await expect.poll(() => text(checkItem(page, 'X app'))).toMatch(new RegExp(`^Pass X app .*confirmed the callback ${tailor.url}/oauth/x/callback\\.$`));
    await expect.poll(() => text(checkItem(page, 'Database writable'))).toMatch(/^Pass/);
    await expect.poll(() => text(checkItem(page, 'Alerts'))).toMatch(/^Pass/);
    // No Firehose token on loopback: a warning, with what to do.
    expect(await text(checkItem(page, 'Firehose token'))).toMatch(/^Warning Firehose token .* What to do: Set TAILOR_FIREHOSE_TOKEN/);
    const passing = checkItem(page, /Configuration “.*”/).filter({ hasText: 'Pass' });
    await expect.poll(() => passing.count()).toBe(1);

    // The events: the one the receiver took, delivered; the one it refuses, retrying.
    const delivered = eventRow(page, 'configuration.needs_reauth');
    await untilText(delivered, /needs re-authorization.*Delivered 1 attempt, last HTTP 204/);
    const retrying = eventRow(page, 'x_audience.recreated');
    await untilText(retrying, /X lost the email audience of “Buyers”.*Retrying \d+ attempts, last HTTP 500 Next try/);
  }

  it('shows passing, warning and failing checks with what to do, and each event’s delivery, at 1366 px', async () => {
    const page = await signedIn(WIDE);
    await checksAndEvents(page);
    await expectNoAxeViolations(page, 'health');
    await shot(page, 'setup-health');

    // Running the checks again keeps the list, and says when.
    await page.getByRole('button', { name: 'Run the checks again' }).click();
    await untilText(page.locator('#checks-summary'), /^1 failed/);
  });

  it('works at 390 px: nothing scrolls sideways, every control is on screen, long texts wrap', async () => {
    const page = await signedIn(NARROW);
    await checksAndEvents(page);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(NARROW.width);
    const run = (await page.getByRole('button', { name: 'Run the checks again' }).boundingBox())!;
    expect(run.x + run.width).toBeLessThanOrEqual(NARROW.width);
    // Each event is a card: its delivery (the last cell) is on screen without scrolling the table.
    for (const type of ['configuration.needs_reauth', 'x_audience.recreated']) {
      const cell = (await eventRow(page, type).locator('td').last().boundingBox())!;
      expect(cell.x + cell.width, type).toBeLessThanOrEqual(NARROW.width);
    }
    // No text runs past its box (a long URL, id or variable name wraps); the cards' header row is
    // hidden on purpose (read by screen readers only).
    const overflowing = await page.evaluate(`[...document.querySelectorAll('main *')]
      .filter((el) => !el.closest('thead') && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible' && el.clientWidth > 0)
      .map((el) => el.tagName + '.' + el.className + ': ' + el.textContent.slice(0, 80))`);
    expect(overflowing).toEqual([]);
    await expectNoAxeViolations(page, 'health at 390 px');
    await shot(page, 'setup-health-narrow');
  });
});
