/**
 * The web UI end to end, in real headless Chromium against a real `tailor serve` and the X
 * emulator (issue 6): sign in; add a configuration through the "Log in with X" popup (an analyst
 * login whose account cannot be chosen, a Cancel on X's page, then an admin); create an audience;
 * connect it with one Forward setting off; push members through the REST API and watch them sent,
 * then X's size and targetability after the emulator's sizing run; re-authorize after X revokes
 * the token; delete the audience and see its X audiences gone, on the page and on the emulator.
 *
 * The steps share one browser and one Tailor and run in order.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, launch, shot, untilText } from './browser.ts';

/** Runs in the page (a string: this project's TypeScript has no DOM types). */
const UNLABELLED = `[...document.querySelectorAll('input:not([type=hidden]):not([hidden]), select, textarea, button')]
  .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
  .map((el) => el.outerHTML.slice(0, 80))`;

/** Long enough for a busy two-core machine; the states usually arrive within seconds. */
const STATE_MS = 30_000;

describeInBrowser('web UI in Chromium', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let accountId: string;
  const audienceId = 'spring-sale';
  /** Requests the page tried to make anywhere but Tailor and the emulator. */
  const outside: string[] = [];

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    [tailor, browser] = await Promise.all([
      TailorProcess.start(emu, { env: { TAILOR_REFRESH_INTERVAL_MS: '1000', TAILOR_FLUSH_INTERVAL_MS: '200' } }),
      launch(),
    ]);
    context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(STATE_MS);
    page = await context.newPage();
    // No request may leave for anything but Tailor and the emulator (no CDN fonts or scripts).
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(tailor.url) || url.startsWith(emu.url) || url.startsWith('data:')) return route.continue();
      outside.push(url);
      return route.abort();
    });
  });

  afterAll(async () => {
    await browser?.close();
    await tailor?.stop();
    await emu?.close();
  });

  /** The popup the X login opens when `click` runs. */
  async function popupFrom(click: () => Promise<void>): Promise<Page> {
    const [popup] = await Promise.all([page.waitForEvent('popup'), click()]);
    await popup.waitForLoadState();
    return popup;
  }

  /** Form controls without an accessible name (label, aria-label or aria-labelledby): must be none. */
  const unlabelled = (p: Page): Promise<string[]> => p.evaluate<string[]>(UNLABELLED);
  const nav = (name: string): Locator => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const card = (name: string): Locator => page.locator('article.downstream', { has: page.getByRole('heading', { name, exact: true }) });
  const fact = (c: Locator, label: string): Locator => c.locator('.field-row', { has: page.locator('dt', { hasText: label }) }).locator('dd');

  it('asks for the admin token, refuses a wrong one, and signs in', async () => {
    await page.goto(`${tailor.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Tailor' }).waitFor();
    await shot(page, 'sign-in');
    await page.getByLabel('Admin token').fill('not-the-token-at-all');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'That is not the admin token' }).waitFor();
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Audiences', level: 1 }).waitFor();
    await page.getByText('No audiences yet').waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'tailor_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
  });

  it('adds an X configuration through the popup: an analyst cannot choose, Cancel cancels, an admin saves', async () => {
    await nav('Setup › Outputs').click();
    await page.getByText('No X configuration yet').waitFor();

    // 1. An X login with only CAMPAIGN_ANALYST: its account is shown, greyed out, with the reason.
    const popup = await popupFrom(() => page.getByRole('button', { name: 'Log in with X' }).click());
    await popup.getByRole('heading', { name: /Authorize .* to access your account/ }).waitFor();
    await popup.getByLabel('@ads_analyst').check();
    await popup.getByRole('button', { name: 'Authorize' }).click();
    await popup.getByRole('heading', { name: 'Choose the X ad account' }).waitFor();
    const analystChoice = popup.getByRole('radio', { name: /Acme Outdoor/ });
    expect(await analystChoice.isDisabled()).toBe(true);
    await popup
      .getByText(
        /Not available: @ads_analyst has Campaign Analyst \(CAMPAIGN_ANALYST\) on this account; saving it needs Account Administrator \(ACCOUNT_ADMIN\)/,
      )
      .waitFor();
    expect(await popup.getByRole('button', { name: 'Save' }).isDisabled()).toBe(true);
    await shot(popup, 'x-login-analyst');

    // 2. Another login, but Cancel on X's page: a "login cancelled" page, nothing saved.
    await popup.getByRole('link', { name: 'Use a different X login' }).click();
    await popup.getByRole('button', { name: 'Cancel' }).click();
    await popup.getByRole('heading', { name: 'X login cancelled' }).waitFor();
    await popup.getByText('nothing was saved').waitFor();

    // 3. Try again as the account administrator: both of its accounts can be chosen; save one.
    await popup.getByRole('link', { name: 'Try again' }).click();
    await popup.getByLabel('@ads_admin').check();
    await popup.getByRole('button', { name: 'Authorize' }).click();
    await popup.getByRole('heading', { name: 'Choose the X ad account' }).waitFor();
    const acme = popup.getByRole('radio', { name: /^Acme Outdoor \w+$/ });
    const eu = popup.getByRole('radio', { name: /Acme Outdoor EU/ });
    expect(await acme.isEnabled()).toBe(true);
    expect(await eu.isEnabled()).toBe(true);
    await acme.check();
    await shot(popup, 'x-login-accounts');
    expect(await unlabelled(popup)).toEqual([]);
    await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Save' }).click()]);

    // The page learns it from the popup and shows the configuration, active, with its X login;
    // focus is back on the button that opened the popup.
    await page.getByRole('status').filter({ hasText: 'X configuration saved' }).waitFor();
    const login = page.getByRole('button', { name: 'Log in with X' });
    await expect.poll(() => login.evaluate((el: any) => el === el.ownerDocument.activeElement)).toBe(true);
    const row = page.getByRole('row', { name: /Acme Outdoor/ });
    await row.filter({ hasText: '@ads_admin' }).filter({ hasText: 'Active' }).waitFor();
    await row.filter({ hasText: accountId }).waitFor();
    const configs = (await tailor.api<{ data: { account_id: string; screen_name: string; state: string }[] }>('GET', '/configurations')).body.data;
    expect(configs).toEqual([expect.objectContaining({ account_id: accountId, screen_name: 'ads_admin', state: 'active' })]);
    await shot(page, 'outputs');
    expect(await unlabelled(page)).toEqual([]);
  });

  it('creates an audience and connects it to X with Forward Device IDs off', async () => {
    await nav('Audiences').click();
    await page.getByLabel('Name', { exact: true }).fill('Spring Sale');
    expect(await page.getByLabel('Audience ID').inputValue()).toBe(audienceId);
    await page.getByRole('button', { name: 'Create audience' }).click();
    await page.getByRole('status').filter({ hasText: 'Audience “Spring Sale” created' }).waitFor();
    await page.getByRole('link', { name: 'Spring Sale' }).click();

    await page.getByRole('heading', { name: 'Spring Sale', level: 1 }).waitFor();
    const add = page.locator('form.add');
    await add.getByLabel('X configuration').selectOption({ label: `Acme Outdoor — account ${accountId}` });
    for (const label of ['Forward Emails', 'Forward Twitter Handles', 'Forward Device IDs']) expect(await add.getByLabel(label).isChecked()).toBe(true);
    // Phone numbers are sent only when someone ticks the box.
    expect(await add.getByLabel('Forward Phone Numbers').isChecked()).toBe(false);
    await add.getByLabel('Forward Device IDs').uncheck();
    await add.getByRole('button', { name: 'Add Connection' }).click();
    await page.getByRole('status').filter({ hasText: 'Connection added' }).waitFor();

    const connection = page.locator('form.connection:not(.add)');
    await connection.getByRole('heading', { name: /X · Acme Outdoor/ }).waitFor();
    expect(await connection.getByLabel('Forward Emails').isChecked()).toBe(true);
    expect(await connection.getByLabel('Forward Twitter Handles').isChecked()).toBe(true);
    expect(await connection.getByLabel('Forward Device IDs').isChecked()).toBe(false);
    expect(await connection.getByLabel('Forward Phone Numbers').isChecked()).toBe(false);
    const view = await tailor.audience(audienceId);
    expect(view.connections[0]).toMatchObject({ forward_emails: true, forward_twitter_handles: true, forward_device_ids: false, forward_phone_numbers: false });
  });

  it('shows members sent, then X size and targetability after X sizes the audiences', async () => {
    // 200 people X knows (about 160 active): enough for X's minimum of 100 matched users.
    const people = await emu.get<{ email: string; handle: string; idfa: string; phone: string }[]>('/_emulator/population?offset=0&limit=200');
    const res = await tailor.api('POST', `/audiences/${audienceId}/members`, {
      // Phone numbers too: kept in the ledger, not sent while Forward Phone Numbers is off.
      add: people.map((p, i) => ({ user_id: `u${i}`, email: p.email, twitter_handle: p.handle, ios_advertising_id: p.idfa, phone_number: p.phone })),
    });
    expect(res.status).toBe(202);

    // Without a reload: the member count, then each X audience with 200 sent and nothing pending.
    await page.locator('#member-count').filter({ hasText: '200' }).waitFor();
    for (const name of ['Spring Sale (email)', 'Spring Sale (handle)']) {
      await fact(card(name), 'On X')
        .filter({ hasText: /^200\b/ })
        .waitFor();
      await fact(card(name), 'Pending')
        .filter({ hasText: /^nothing waiting$/ })
        .waitFor();
      await fact(card(name), 'X audience id').filter({ hasText: /\w+/ }).waitFor();
    }
    expect(await card('Spring Sale (device id)').count()).toBe(0);
    await page.getByText('it can take hours (mParticle says up to 60)').waitFor();
    await page.getByText('at least 100 matched users').first().waitFor();
    // Not sized yet: X reports no size and the audience as not targetable.
    await fact(card('Spring Sale (email)'), 'X audience size').filter({ hasText: 'not reported by X yet' }).waitFor();

    await emu.post('/_emulator/sizing', {});
    const downs = await tailor.downstreams(audienceId);
    const xAudiences = await emu.audiences(accountId);
    for (const name of ['Spring Sale (email)', 'Spring Sale (handle)']) {
      const c = card(name);
      await fact(c, 'Targetable').filter({ hasText: 'Targetable' }).filter({ hasNotText: 'Not' }).waitFor();
      const size = await untilText(fact(c, 'X audience size'), /^\d{3} as of /);
      const onX = xAudiences.find((a) => a.name === name);
      expect(onX?.audience_size).toBe(Number(size.split(' ')[0]));
      await fact(c, 'Match rate')
        .filter({ hasText: /\d+(\.\d)?%/ })
        .waitFor();
      await c.locator('svg.chart-svg').waitFor();
    }
    expect(downs.email.x_audience_id).toBeTruthy();
    await shot(page, 'audience-status');
    expect(await unlabelled(page)).toEqual([]);

    // The list shows it too: members and its connection.
    await nav('Audiences').click();
    await page
      .getByRole('row', { name: /Spring Sale/ })
      .filter({ hasText: '200' })
      .filter({ hasText: 'X · Acme Outdoor' })
      .waitFor();
    await shot(page, 'audiences');
    expect(await unlabelled(page)).toEqual([]);
    await page.getByRole('link', { name: 'Spring Sale' }).click();
    await page.getByRole('heading', { name: 'Spring Sale', level: 1 }).waitFor();
  });

  it('shows needs re-authorization when X revokes the token, and re-authorizes through the popup', async () => {
    // Revoke every token X issued to the admin login (the popup's access token among them).
    const { user } = emu.admin();
    const calls = await emu.get<{ token: string | null }[]>('/_emulator/requests');
    const tokens = [...new Set(calls.map((c) => c.token).filter((t): t is string => t?.startsWith(`${user.user_id}-`) ?? false))];
    expect(tokens.length).toBeGreaterThan(0);
    await emu.faults({ revoke_tokens: tokens });

    // The next call Tailor makes (its refresh, every second) is refused; the page says so.
    await page.locator('.badge.state.paused').first().waitFor();
    await page
      .getByText(/needs re-authorization/i)
      .first()
      .waitFor();
    await nav('Setup › Outputs').click();
    const row = page.getByRole('row', { name: /Acme Outdoor/ });
    await row.filter({ hasText: 'Needs re-authorization' }).waitFor();
    await shot(page, 'outputs-needs-reauth');

    // Deleting it is refused while an audience is connected, and the page says which.
    await page.getByRole('button', { name: 'Delete Acme Outdoor' }).click();
    await page.getByRole('alert').filter({ hasText: '“Acme Outdoor” cannot be deleted: the audience “Spring Sale” is connected to it' }).waitFor();

    const popup = await popupFrom(() => page.getByRole('button', { name: 'Re-authorize Acme Outdoor' }).click());
    await popup.getByLabel('@ads_admin').check();
    await popup.getByRole('button', { name: 'Authorize' }).click();
    await popup.getByRole('heading', { name: 'Re-authorize “Acme Outdoor”' }).waitFor();
    // Only the configuration's own account is offered.
    expect(await popup.getByRole('radio').count()).toBe(1);
    await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Save' }).click()]);
    await row.filter({ hasText: 'Active' }).filter({ hasText: '@ads_admin' }).waitFor();

    // The audience resumes: a new member goes out with the new token.
    const people = await emu.get<{ email: string }[]>('/_emulator/population?offset=200&limit=1');
    await tailor.api('POST', `/audiences/${audienceId}/members`, { add: [{ user_id: 'late', email: people[0]!.email }] });
    await page.getByRole('link', { name: 'Spring Sale' }).click();
    await fact(card('Spring Sale (email)'), 'On X')
      .filter({ hasText: /^201\b/ })
      .waitFor();
    await card('Spring Sale (email)').locator('.badge.state.active').waitFor();
  });

  it('edits the connection (Forward Device IDs on re-sends the device ids) and renames the X audiences with the audience', async () => {
    const connection = page.locator('form.connection:not(.add)');
    await connection.getByLabel('Forward Device IDs').check();
    await connection.getByLabel('Forward Phone Numbers').check();
    await connection.getByRole('button', { name: 'Save settings' }).click();
    await page.getByRole('status').filter({ hasText: 'Connection settings saved' }).waitFor();
    await fact(card('Spring Sale (device id)'), 'On X')
      .filter({ hasText: /^200\b/ })
      .waitFor();
    expect((await tailor.audience(audienceId)).connections[0]).toMatchObject({ forward_device_ids: true, forward_phone_numbers: true });
    // Turned on, the current members' numbers are sent.
    await fact(card('Spring Sale (phone)'), 'On X')
      .filter({ hasText: /^200\b/ })
      .waitFor();

    await page.getByRole('button', { name: 'Rename' }).click();
    const dialog = page.getByRole('dialog', { name: 'Rename “Spring Sale”' });
    await dialog.getByLabel('New name').fill('Summer Sale');
    await dialog.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('heading', { name: 'Summer Sale', level: 1 }).waitFor();
    for (const type of ['email', 'handle', 'device id', 'phone']) await card(`Summer Sale (${type})`).waitFor();
    await waitFor('X audiences renamed on the emulator', async () => {
      const names = (await emu.audiences(accountId)).filter((a) => !a.deleted).map((a) => a.name);
      return ['Summer Sale (email)', 'Summer Sale (handle)', 'Summer Sale (device id)', 'Summer Sale (phone)'].every((n) => names.includes(n));
    });
  });

  it('deletes the audience after naming its X audiences, and they disappear from X', async () => {
    const before = (await emu.audiences(accountId)).filter((a) => a.name.startsWith('Summer Sale') && !a.deleted);
    expect(before.map((a) => a.name).sort()).toEqual(['Summer Sale (device id)', 'Summer Sale (email)', 'Summer Sale (handle)', 'Summer Sale (phone)']);

    await page.getByRole('button', { name: 'Delete audience' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete “Summer Sale”?' });
    for (const a of before) await dialog.getByText(a.name).waitFor();
    for (const a of before) await dialog.getByText(`X id ${a.id}`).waitFor();
    await shot(page, 'delete-confirm');
    await dialog.getByRole('button', { name: 'Delete audience and X audiences' }).click();

    // Back on Audiences: the audience is gone, and its X audiences are followed until X confirms.
    await page.getByRole('heading', { name: 'Audiences', level: 1 }).waitFor();
    await page.getByText('No audiences yet').waitFor();
    const deleted = page.locator('.deleting');
    for (const a of before)
      await deleted
        .locator('li.x-audience', { hasText: `${a.name} (X id ${a.id})` })
        .filter({ hasText: 'deleted on X' })
        .waitFor();
    await waitFor('X audiences deleted on the emulator', async () => {
      const now = await emu.audiences(accountId);
      return before.every((a) => now.find((x) => x.id === a.id)?.deleted === true);
    });
    await shot(page, 'audiences-after-delete');
  });

  it('made no request outside Tailor and the X emulator', () => {
    expect(outside).toEqual([]);
  });
});
