/**
 * An X audience waits for its first member, and the page says so (issue 16): in Chromium against
 * `tailor serve` and the X emulator, at 1366×900 and 390×844, with axe-core finding no violation.
 */
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, expectNoAxeViolations, launch, shot } from './browser.ts';

const STATE_MS = 30_000;

describeInBrowser('an X audience waits for its first member, in Chromium', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    emu = await Emu.start();
    [tailor, browser] = await Promise.all([TailorProcess.start(emu), launch()]);
    const config = await tailor.addConfiguration(emu);
    await tailor.api('PUT', '/audiences/news', { name: 'Newsletter' });
    await tailor.api('PUT', `/audiences/news/connections/${config}`, { forward_emails: true, forward_twitter_handles: true, forward_device_ids: false });
    await tailor.api('POST', '/audiences/news/members', { add: [{ user_id: 'u1', email: 'reader@example.com' }] });
    await waitFor('the e-mail sent', async () => (await tailor.downstreams('news')).email?.members === 1);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await tailor?.stop();
    await emu?.close();
  });

  async function signedIn(viewport: { width: number; height: number }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-US' });
    context.setDefaultTimeout(STATE_MS);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${tailor.url}/`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Audiences', level: 1 }).waitFor();
    return page;
  }

  const card = (page: Page, name: string): Locator => page.locator('article.downstream', { has: page.getByRole('heading', { name, exact: true }) });

  for (const [label, viewport] of [
    ['1366', { width: 1366, height: 900 }],
    ['390', { width: 390, height: 844 }],
  ] as const) {
    it(`at ${label} px: the handle audience waits for its first handle, then is created and filled`, async () => {
      const page = await signedIn(viewport);
      await page.goto(`${tailor.url}/audiences/news`);
      const waiting = card(page, 'Twitter handles audience (not created yet)');
      await waiting.locator('.badge.state', { hasText: 'Waiting for a first member' }).waitFor();
      await waiting.getByText('No member of this identity type yet. Tailor creates this audience on X when it has the first member to send.').waitFor();
      await card(page, 'Newsletter (email)').locator('.badge.state', { hasText: 'Active' }).waitFor();
      // The line at the top counts what is on X, and says what waits.
      await page.getByText(/^1 X audience · 1 waiting for a first member · /).waitFor();
      expect((await emu.audiences(emu.admin().accountId)).map((a) => a.name)).toEqual(['Newsletter (email)']);
      await shot(page, `first-member-waiting-${label}`);
      await expectNoAxeViolations(page, `waiting for a first member at ${label}`);
      if (label === '390') {
        // Its first handle: the page follows, without a reload, to the X audience created for it.
        await tailor.api('POST', '/audiences/news/members', { add: [{ user_id: 'u1', email: 'reader@example.com', twitter_handle: '@reader' }] });
        await card(page, 'Newsletter (handle)').locator('.badge.state', { hasText: 'Active' }).waitFor();
        expect(await page.getByText('Waiting for a first member').count()).toBe(0);
        await page.getByText(/^2 X audiences · /).waitFor();
        expect((await emu.audiences(emu.admin().accountId)).map((a) => a.name).sort()).toEqual(['Newsletter (email)', 'Newsletter (handle)']);
      }
    });
  }
});
