/**
 * The "layout and care" items of issue 16, in headless Chromium against a real `tailor serve`
 * and the X emulator, at 1366×900 and 390×844, with axe-core finding no violation: focus goes back
 * to the opener after every dialog, however it closes (Escape, Cancel, the submit button), and
 * after the X login popup; the popup's chooser marks the accounts already configured; the
 * create form's audience-id limit is the server's.
 */
import AxeBuilder from '@axe-core/playwright';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_ID_CHARS } from '../../src/core/ids.ts';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, launch, shot } from './browser.ts';

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

  async function noViolations(page: Page, what: string): Promise<void> {
    const result = await new AxeBuilder({ page }).analyze();
    expect(
      result.violations.map((v) => `${what}: ${v.id} ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      what,
    ).toEqual([]);
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
      await noViolations(popup, 'chooser');
      if (vp.width === 1366) await shot(popup, 'x-login-configured');
      // Cancel closes the popup; focus is back on the button that opened it.
      await Promise.all([popup.waitForEvent('close'), popup.getByRole('button', { name: 'Cancel' }).click()]);
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
    });

    it(`gives focus back to the opener after every dialog on the Audiences page (${vp.name})`, async () => {
      const gone = `gone-${vp.width}`;
      await tailor.api('PUT', `/audiences/${gone}`, { name: `Gone ${vp.width}` });
      const page = await signedIn(vp);
      const rename = page.getByRole('button', { name: 'Rename Boots', exact: true });
      await rename.click();
      const dialog = page.getByRole('dialog', { name: 'Rename “Boots”' });
      await noViolations(page, 'rename dialog');
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
      await noViolations(page, 'remove dialog');
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
});
