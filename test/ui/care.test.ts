/**
 * The "layout and care" items of issue 16, in headless Chromium against a real `tailor serve`
 * and the X emulator, at 1366×900 and 390×844, with axe-core finding no violation: focus goes back
 * to the opener after every dialog, however it closes (Escape, Cancel, the submit button), and
 * after the X login popup; pages say they are loading until Tailor answers, with the status above
 * the fold and times in the browser's zone; the popup's chooser marks the accounts already configured; the
 * create form's audience-id limit is the server's; the chart has a time axis in the browser's zone,
 * tooltips, markers for pause, re-creation and rename, and loads only new samples.
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_ID_CHARS } from '../../src/core/ids.ts';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, launch, shot, untilText, expectNoAxeViolations } from './browser.ts';

const STATE_MS = 45_000;
const VIEWPORTS = [
  { name: '1366 px', width: 1366, height: 900 },
  { name: '390 px', width: 390, height: 844 },
];

describeInBrowser('care in Chromium: focus, limits, the chooser, the chart', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let browser: Browser;
  let config: string;

  beforeAll(async () => {
    emu = await Emu.start();
    [tailor, browser] = await Promise.all([
      TailorProcess.start(emu, { env: { TAILOR_REFRESH_INTERVAL_MS: '1000', TAILOR_FLUSH_INTERVAL_MS: '200' } }),
      launch(),
    ]);
    config = await tailor.addConfiguration(emu);
    const people = await emu.get<{ email: string }[]>('/_emulator/population?offset=0&limit=20');
    await tailor.api('PUT', '/audiences/boots', { name: 'Boots' });
    await tailor.api('PUT', `/audiences/boots/connections/${config}`, { forward_twitter_handles: false, forward_device_ids: false });
    await tailor.api('POST', '/audiences/boots/members', { add: people.map((p, i) => ({ user_id: `u${i}`, email: p.email })) });
    await waitFor('members sent', async () => (await tailor.downstreams('boots')).email?.members === 20);
  });

  afterAll(async () => {
    await browser?.close();
    await tailor?.stop();
    await emu?.close();
  });

  async function signedIn(viewport: { width: number; height: number }, path = '/'): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'America/New_York' });
    context.setDefaultTimeout(STATE_MS);
    const page = await context.newPage();
    await page.goto(`${tailor.url}/sign-in?next=${encodeURIComponent(path)}`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#view:not([aria-busy])').waitFor();
    return page;
  }

  /** Waits until the locator's element has keyboard focus. */
  async function focused(l: Locator, what: string): Promise<void> {
    await expect.poll(() => l.evaluate((el: any) => el === el.ownerDocument.activeElement), { message: what, timeout: STATE_MS }).toBe(true);
  }

  it('has one audience-id limit: the form allows what the server and its OpenAPI schema take, and no more', async () => {
    const page = await signedIn(VIEWPORTS[0]!);
    const idInput = page.getByLabel('Audience ID');
    expect(Number(await idInput.getAttribute('maxlength'))).toBe(MAX_ID_CHARS);
    await page.getByText(`Letters, digits and . _ ~ -, at most ${MAX_ID_CHARS};`).waitFor();
    const spec = (await (await fetch(`${tailor.url}/api/v1/openapi.json`)).json()) as any;
    for (const path of ['/api/v1/audiences/{audienceId}', '/api/v1/audiences/{audienceId}/connections/{configurationId}']) {
      const op = spec.paths[path].put;
      const param = op.parameters.find((p: any) => p.name === 'audienceId');
      expect(param.schema.maxLength, path).toBe(MAX_ID_CHARS);
    }
    // One character more is refused by the server with a reason; the limit itself is taken.
    const over = (await tailor.api('PUT', `/audiences/${'x'.repeat(MAX_ID_CHARS + 1)}`, { name: 'Too long' })).body;
    expect(over.error.message).toContain(`longer than ${MAX_ID_CHARS} characters`);
    // Typed by hand, the form stops at the limit; that id is created through the form.
    await page.getByLabel('Name', { exact: true }).fill('Longest id');
    await idInput.fill('');
    await idInput.pressSequentially('l'.repeat(MAX_ID_CHARS + 3));
    expect(await idInput.inputValue()).toBe('l'.repeat(MAX_ID_CHARS));
    await page.getByRole('button', { name: 'Create audience' }).click();
    await page.getByRole('status').filter({ hasText: 'Audience “Longest id” created' }).waitFor();
    expect((await tailor.api('GET', `/audiences/${'l'.repeat(MAX_ID_CHARS)}`)).status).toBe(200);
    await tailor.api('DELETE', `/audiences/${'l'.repeat(MAX_ID_CHARS)}`);
  });

  for (const vp of VIEWPORTS) {
    it(`marks the accounts already configured in the X login's chooser, and focus comes back from the popup (${vp.name})`, async () => {
      const page = await signedIn(vp, '/outputs');
      const login = page.getByRole('button', { name: 'Log in with X' });
      const [popup] = await Promise.all([page.waitForEvent('popup'), login.click()]);
      await popup.getByLabel('@ads_admin').check();
      await popup.getByRole('button', { name: 'Authorize' }).click();
      await popup.getByRole('heading', { name: 'Choose the X ad account' }).waitFor();
      // The configured account says so in its name and its description, not only in colour.
      const acme = popup.getByRole('radio', { name: /^Acme Outdoor \w+ Already configured$/ });
      await popup.getByText('Already configured as “Acme Outdoor”: saving it re-authorizes that configuration').waitFor();
      expect(await acme.getAttribute('aria-describedby')).toBeTruthy();
      const eu = popup.getByRole('radio', { name: /^Acme Outdoor EU \w+$/ });
      // The account not configured yet is the one chosen at first.
      expect(await eu.isChecked()).toBe(true);
      expect(await acme.isChecked()).toBe(false);
      await expectNoAxeViolations(popup, 'chooser');
      if (vp.width === 1366) await shot(popup, 'x-login-configured');
      // Cancel closes the popup; focus is back on the button that opened it.
      // The click closes the popup, and Playwright may find it gone as the click returns.
      const closed = popup.waitForEvent('close');
      await popup
        .getByRole('button', { name: 'Cancel' })
        .click()
        .catch((err: unknown) => {
          if (!popup.isClosed()) throw err;
        });
      await closed;
      await focused(login, 'Log in with X after the popup');
      expect((await tailor.api('GET', '/configurations')).body.data).toHaveLength(1);

      // Re-authorized through the popup: focus is back on that row's Re-authorize.
      const reauth = page.getByRole('button', { name: 'Re-authorize Acme Outdoor' });
      const [again] = await Promise.all([page.waitForEvent('popup'), reauth.click()]);
      await again.getByLabel('@ads_admin').check();
      await again.getByRole('button', { name: 'Authorize' }).click();
      await Promise.all([again.waitForEvent('close'), again.getByRole('button', { name: 'Save' }).click()]);
      await page.getByRole('status').filter({ hasText: 'X configuration saved' }).waitFor();
      await focused(reauth, 'Re-authorize after the popup');
      // The configurations are cards on a phone: Re-authorize stays on screen.
      const box = (await reauth.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(vp.width);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(vp.width);
      await expectNoAxeViolations(page, 'outputs');
      if (vp.width === 390) await shot(page, 'outputs-narrow');
    });

    it(`says it is loading until Tailor answers, and tells times in the browser’s zone (${vp.name})`, async () => {
      const page = await signedIn(vp);
      for (const [path, box] of [
        ['/', '.table-box'],
        ['/audiences/boots', '#status-section'],
      ] as const) {
        // Tailor is slow to answer: the page says it is loading, and is marked busy.
        let release = (): void => undefined;
        const gate = new Promise<void>((resolve) => (release = resolve));
        await page.route('**/api/v1/**', async (route) => {
          await gate;
          await route.continue();
        });
        await page.goto(`${tailor.url}${path}`);
        await page.locator('#view[aria-busy="true"]').waitFor({ state: 'attached' });
        await page.locator(box).getByText('Loading…').waitFor();
        await expectNoAxeViolations(page, `${path} loading`);
        release();
        await page.locator('#view:not([aria-busy])').waitFor({ state: 'attached' });
        await page.getByText('Loading…').first().waitFor({ state: 'detached' });
        await page.unroute('**/api/v1/**');
      }
      // Status above the fold: the health line, and the first X audience's figures.
      await page.locator('#health').waitFor();
      const onX = page.locator('article.downstream .field-row', { has: page.locator('dt', { hasText: 'On X' }) }).first();
      // (The page redraws as figures change: a box is read again until it is there.)
      const bottom = async (l: Locator) => {
        const box = await l.boundingBox();
        return box ? box.y + box.height : Infinity;
      };
      await expect.poll(() => bottom(page.locator('#health'))).toBeLessThanOrEqual(vp.height);
      if (vp.width === 1366) await expect.poll(() => bottom(onX.locator('dd'))).toBeLessThanOrEqual(vp.height);
      // Times: "in 20 s" and "20 s ago" near now, the browser's own zone on hover.
      const time = page.locator('#status-section time').first();
      const [iso, title] = [await time.getAttribute('datetime'), await time.getAttribute('title')];
      const spaces = (t: string | null) => (t ?? '').replace(/\s/g, ' ');
      expect(spaces(title)).toBe(spaces(new Date(iso!).toLocaleString('en-US', { timeZone: 'America/New_York' })));
      const near = await page.evaluate(
        "import('/assets/dom.js').then((m) => [m.fmtAgo(new Date(Date.now() + 20000).toISOString()), m.fmtAgo(new Date(Date.now() - 20000).toISOString())])",
      );
      expect(near).toEqual(['in 20 s', '20 s ago']);
    });

    it(`gives focus back to the opener after every dialog on the Audiences page (${vp.name})`, async () => {
      const gone = `gone-${vp.width}`;
      await tailor.api('PUT', `/audiences/${gone}`, { name: `Gone ${vp.width}` });
      const page = await signedIn(vp);
      const rename = page.getByRole('button', { name: 'Rename Boots', exact: true });
      await rename.click();
      const dialog = page.getByRole('dialog', { name: 'Rename “Boots”' });
      await expectNoAxeViolations(page, 'rename dialog');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await focused(rename, 'Rename after Escape');
      await rename.click();
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await focused(rename, 'Rename after Cancel');
      // Submitted: the row is drawn again with the new name, and its Rename button has focus.
      await rename.click();
      await dialog.getByLabel('New name').fill('Boots!');
      await dialog.getByRole('button', { name: 'Rename' }).click();
      await focused(page.getByRole('button', { name: 'Rename Boots!', exact: true }), 'Rename after submit');
      await tailor.api('PUT', '/audiences/boots', { name: 'Boots' });
      await page.getByRole('button', { name: 'Rename Boots', exact: true }).waitFor();

      const del = page.getByRole('button', { name: `Delete Gone ${vp.width}` });
      await del.click();
      await page
        .getByRole('dialog', { name: `Delete “Gone ${vp.width}”?` })
        .getByRole('button', { name: 'Keep it' })
        .click();
      await focused(del, 'Delete after Keep it');
      await del.click();
      await page.keyboard.press('Escape');
      await focused(del, 'Delete after Escape');
      // Deleted: its row is gone, so focus goes to the list's heading, not to nowhere.
      await del.click();
      await page.getByRole('button', { name: 'Delete audience' }).click();
      await focused(page.getByRole('heading', { name: 'All audiences' }), 'the list after a deletion');
      expect((await tailor.api('GET', `/audiences/${gone}`)).status).toBe(404);
    });

    it(`gives focus back to the opener after every dialog on an audience's page (${vp.name})`, async () => {
      const page = await signedIn(vp, '/audiences/boots');
      const rename = page.getByRole('button', { name: 'Rename', exact: true });
      await rename.click();
      await page.keyboard.press('Escape');
      await focused(rename, 'Rename after Escape');
      await rename.click();
      const dialog = page.getByRole('dialog', { name: 'Rename “Boots”' });
      await dialog.getByLabel('New name').fill('Boots 2');
      await dialog.getByLabel('New name').press('Enter');
      await page.getByRole('heading', { name: 'Boots 2', level: 1 }).waitFor();
      await focused(rename, 'Rename after submit');
      await tailor.api('PUT', '/audiences/boots', { name: 'Boots' });

      const remove = page.getByRole('button', { name: 'Remove connection' });
      await remove.click();
      await expectNoAxeViolations(page, 'remove dialog');
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
      await focused(remove, 'Remove connection after Cancel');
      await remove.click();
      await page.keyboard.press('Escape');
      await focused(remove, 'Remove connection after Escape');

      const resync = page.getByRole('button', { name: 'Resync to X' });
      await resync.click();
      await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
      await focused(resync, 'Resync after Cancel');
      await resync.click();
      await page.getByRole('dialog').getByRole('button', { name: 'Resync' }).click();
      await page.getByRole('status').filter({ hasText: 'Resync started' }).waitFor();
      await focused(resync, 'Resync after submit');

      // Every toggle off is refused with what to do instead; focus stays on Save.
      const form = page.locator('form.connection:not(.add)');
      await form.getByLabel('Forward Emails').uncheck();
      const save = form.getByRole('button', { name: 'Save settings' });
      await save.click();
      await page.getByRole('alert').filter({ hasText: 'Turn on at least one Forward setting' }).waitFor();
      await focused(save, 'Save after the refusal');
      await form.getByLabel('Forward Emails').check();
      await save.click();
      await page.getByRole('status').filter({ hasText: 'Connection settings saved' }).waitFor();
      await focused(save, 'Save after saving');
    });
  }

  /** The email X audience's card on the audience page, by its name on X. */
  const emailCard = (page: Page, name: string): Locator => page.locator('article.downstream', { has: page.getByRole('heading', { name: `${name} (email)` }) });

  it('charts on a time axis in the browser’s zone, with tooltips, markers for pause, re-creation and rename, loading only new samples', async () => {
    const page = await signedIn(VIEWPORTS[0]!);
    const history: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/history')) history.push(new URL(r.url()).search);
    });
    await page.goto(`${tailor.url}/audiences/boots`);
    const card = emailCard(page, 'Boots');
    const dots = card.locator('circle.chart-dot.chart-sent');
    await expect.poll(() => dots.count(), { timeout: STATE_MS }).toBeGreaterThanOrEqual(3);
    const first = await dots.count();

    // Ticks fall on round times of the browser's clock (America/New_York here), evenly spaced.
    const ticks = card.locator('text.chart-tick');
    expect(await ticks.count()).toBeGreaterThanOrEqual(2);
    // The labels are that zone's clock: with seconds for a short chart, else minutes (or the day).
    const inZone = (o: Intl.DateTimeFormatOptions) => new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', ...o });
    const formats = [
      inZone({ hour: 'numeric', minute: '2-digit', second: '2-digit' }),
      inZone({ hour: 'numeric', minute: '2-digit' }),
      inZone({ month: 'short', day: 'numeric' }),
    ];
    const at: number[] = [];
    for (const tick of await ticks.all()) {
      const t = Number(await tick.getAttribute('data-t'));
      at.push(t);
      expect(formats.map((f) => f.format(t))).toContain(await tick.textContent());
      expect(t % 1000).toBe(0);
    }
    const marks = await card.locator('line.chart-tick-mark').evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-t'))));
    expect(marks).toEqual(expect.arrayContaining(at));
    const gaps = new Set(marks.slice(1).map((t, i) => t - marks[i]!));
    expect(gaps.size).toBe(1);
    await card.getByText('times in America/New_York').waitFor();

    // A tooltip on the sample under the pointer, and by keyboard.
    await dots.nth(1).hover();
    const tip = card.locator('.chart-tip');
    const hovered = await untilText(tip, /^\w{3} \d{1,2}, \d{1,2}:\d\d:\d\d [AP]M — 20 members sent · X size /);
    await card.locator('svg.chart-svg').focus();
    await page.keyboard.press('End');
    const latest = await untilText(tip, /members sent/);
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => tip.innerText()).not.toBe(latest);
    expect(hovered).toMatch(/members sent/);

    // Paused: X refuses every token of the login; resumed: the tokens are good again and re-given.
    // (The dialog tests above renamed this audience too: those renames are marked as well.)
    const start = new Date().toISOString();
    const { user, accountId } = emu.admin();
    const calls = await emu.get<{ token: string | null }[]>('/_emulator/requests');
    const tokens = [...new Set(calls.map((c) => c.token).filter((t): t is string => t?.startsWith(`${user.user_id}-`) ?? false)), user.access_token];
    await emu.faults({ revoke_tokens: tokens });
    await card.locator('.chart-marker-paused').first().waitFor({ state: 'attached' });
    await card.locator('rect.chart-paused').first().waitFor();
    await emu.faults({ restore_tokens: tokens });
    await tailor.addConfiguration(emu);
    await card.locator('.chart-marker-resumed').first().waitFor({ state: 'attached' });
    // Re-created: X loses the audience; the next send finds out.
    const lost = (await tailor.downstreams('boots')).email.x_audience_id as string;
    await emu.faults({ delete_audiences: [{ account_id: accountId, id: lost }] });
    const people = await emu.get<{ email: string }[]>('/_emulator/population?offset=300&limit=1');
    await tailor.api('POST', '/audiences/boots/members', { add: [{ user_id: 'late', email: people[0]!.email }] });
    await card.locator('.chart-marker-recreated').first().waitFor({ state: 'attached' });
    // Renamed: the X audience follows its audience; the card is now under its new name.
    await tailor.api('PUT', '/audiences/boots', { name: 'Winter boots' });
    const renamed = emailCard(page, 'Winter boots');
    await renamed.locator('.chart-marker-renamed').first().waitFor({ state: 'attached' });
    const events = renamed.locator('.chart-events');
    await events.getByText('Paused: its X configuration needs re-authorization').waitFor();
    await events.getByText('Resumed: the X configuration was re-authorized.').waitFor();
    await events.getByText(`Re-created: X lost the X audience ${lost}`).waitFor();
    await events.getByText('Renamed on X to “Winter boots (email)”.').first().waitFor();
    // The API says the same.
    const api = (await tailor.api('GET', `/audiences/boots/history?since=${start}`)).body.downstream_audiences.find((d: any) => d.identity_type === 'email');
    expect(api.events.map((e: any) => e.kind)).toEqual(['paused', 'resumed', 'recreated', 'renamed']);
    expect(api.events[2].detail).toBe(lost);

    // Loaded whole once, then only what is new, appended.
    expect(history[0]).toBe('');
    expect(history.length).toBeGreaterThan(3);
    expect(history.slice(1).every((q) => /^\?since=\d{4}-\d\d-\d\dT/.test(decodeURIComponent(q)))).toBe(true);
    expect(await renamed.locator('circle.chart-dot.chart-sent').count()).toBeGreaterThan(first);
    await expectNoAxeViolations(page, 'audience with chart markers');
    await shot(page, 'audience-chart');
  });

  it('keeps the chart readable at 390 px: ticks apart, markers and tooltip inside the screen', async () => {
    const page = await signedIn(VIEWPORTS[1]!, '/audiences/boots');
    const card = emailCard(page, 'Winter boots');
    await card.locator('.chart-marker-renamed').first().waitFor({ state: 'attached' });
    const boxes = [];
    for (const tick of await card.locator('text.chart-tick').all()) boxes.push((await tick.boundingBox())!);
    for (let i = 1; i < boxes.length; i++) expect(boxes[i]!.x, 'ticks do not overlap').toBeGreaterThanOrEqual(boxes[i - 1]!.x + boxes[i - 1]!.width);
    await card.locator('circle.chart-dot.chart-sent').last().hover();
    const tip = (await card.locator('.chart-tip').boundingBox())!;
    expect(tip.x).toBeGreaterThanOrEqual(0);
    expect(tip.x + tip.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await expectNoAxeViolations(page, 'chart at 390 px');
    await shot(page, 'audience-chart-narrow');
  });
});
