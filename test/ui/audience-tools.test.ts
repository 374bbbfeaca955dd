/**
 * The audience tools in Chromium (issue 18): find a person, a connection's cadence and resync, and
 * a deletion that campaigns hold back, confirmed from the page. At 1366×900 and 390×844, with
 * screenshots (test/ui/browser.ts `shot`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { ADMIN_TOKEN, Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { describeInBrowser, launch, shot } from './browser.ts';

const EMAIL_ONLY = { forward_twitter_handles: false, forward_device_ids: false };

describeInBrowser('audience tools in Chromium', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let browser: Browser;
  let page: Page;
  let accountId: string;
  let configId: string;

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    [tailor, browser] = await Promise.all([TailorProcess.start(emu), launch()]);
    configId = await tailor.addConfiguration(emu);
    for (const id of ['buyers', 'doomed']) {
      await tailor.api('PUT', `/audiences/${id}`, { name: id === 'buyers' ? 'Buyers' : 'Doomed' });
      await tailor.api('PUT', `/audiences/${id}/connections/${configId}`, EMAIL_ONLY);
      await tailor.api('POST', `/audiences/${id}/members`, { add: [{ email: 'jane@example.com' }, { email: `${id}@example.com` }] });
    }
    const doomed = await waitFor('both on X', async () => {
      const [a, b] = [(await tailor.downstreams('buyers')).email, (await tailor.downstreams('doomed')).email];
      return a?.x_audience_id && b?.x_audience_id && a.pending === 0 && b.pending === 0 ? b : undefined;
    });
    await fetch(`${emu.url}/_emulator/accounts/${accountId}/custom_audiences/${doomed.x_audience_id}/campaigns`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ campaign_name: 'Spring sale', line_items: [{ name: 'Feed' }] }),
    });
    await tailor.api('DELETE', '/audiences/doomed');
    await waitFor('deletion held back', async () => ((await tailor.api('GET', '/deletions')).body.data[0]?.blocked_by ? true : undefined));

    const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(30_000);
    page = await context.newPage();
    await page.goto(`${tailor.url}/`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Audiences', level: 1 }).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await tailor?.stop();
    await emu?.close();
  });

  it('finds a person: each audience holding the e-mail, with its state, never echoing the value', async () => {
    await page.getByLabel('E-mail').fill(' Jane@Example.com ');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    const rows = page.locator('.lookup-results tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1); // doomed is deleted: only buyers holds it
    await expect.poll(() => rows.first().innerText()).toContain('On X');
    expect(await page.locator('.lookup-results').innerText()).not.toContain('jane@example.com');
    await shot(page, 'tools-find-person');
  });

  it('says a suppressed person is suppressed even when no audience holds them', async () => {
    expect((await tailor.api('POST', '/suppressions', { add: [{ email: 'gone@example.com' }] })).status).toBe(202);
    await page.getByLabel('E-mail').fill('Gone@Example.com');
    await page.getByRole('button', { name: 'Find', exact: true }).click();
    const line = page.locator('.lookup-results p.lookup-suppressed');
    await line.waitFor();
    expect((await line.innerText()).replace(/\s+/g, ' ')).toBe(
      'Suppressed E-mail: on the suppression list, so kept off every X audience; no audience holds it.',
    );
    expect(await page.locator('.lookup-results').innerText()).toContain('No audience or X audience holds these identities.');
    expect(await page.locator('.lookup-results').innerText()).not.toMatch(/gone@example\.com/i);
    await page.getByLabel('E-mail').fill('');
  });

  it('shows the deletion campaigns hold back, and deletes it on X after a confirmation', async () => {
    const waiting = page.getByRole('region', { name: 'Deletions waiting on campaigns' });
    await waiting.getByText('Spring sale').waitFor();
    await shot(page, 'tools-waiting-deletion');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'tools-waiting-deletion-narrow');
    await page.setViewportSize({ width: 1366, height: 900 });
    await waiting.getByRole('button', { name: 'Delete anyway' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete on X' }).click();
    await waiting.waitFor({ state: 'detached' });
    await waitFor('deleted on X', async () => ((await tailor.api('GET', '/deletions')).body.data.length === 0 ? true : undefined));
  });

  it('sets a connection’s cadence and starts a resync from the audience page', async () => {
    await page.goto(`${tailor.url}/audiences/buyers`);
    await page.getByLabel('Send to X').selectOption('360');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(async () => (await tailor.audience('buyers')).connections[0].send_interval_minutes).toBe(360);
    await page.getByRole('button', { name: 'Resync to X' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Resync' }).click();
    await page.getByText(/Resync started on 1 X audience/).waitFor();
    await waitFor('resync done', async () => ((await tailor.downstreams('buyers')).email.resync === null ? true : undefined));
    await shot(page, 'tools-audience');
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, 'tools-audience-narrow');
  });
});
