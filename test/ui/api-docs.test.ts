/**
 * The API docs page (`/api/docs`, src/server/openapi.ts) in a real browser: Swagger UI renders
 * every operation of the document from Tailor's own files, under the UI's Content-Security-Policy,
 * with no request to any other origin and no CSP violation.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startServer, type TestServer } from '../security/listening.ts';
import { describeInBrowser, launch } from './browser.ts';

describeInBrowser('the API docs page', () => {
  let t: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    t = await startServer();
    browser = await launch();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('renders every operation from Tailor alone', async () => {
    const page = await browser.newPage();
    const origin = `http://127.0.0.1:${t.port}`;
    const elsewhere: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(e.message));
    await page.goto(`${origin}/api/docs`);
    const operations = page.locator('.opblock');
    await operations.first().waitFor();
    // One block per operation of the document the page renders.
    const doc = (await (await fetch(`${origin}/api/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const methods = new Set(['get', 'put', 'post', 'delete', 'patch']);
    const count = Object.values(doc.paths).reduce((n, ops) => n + Object.keys(ops).filter((m) => methods.has(m)).length, 0);
    expect(count).toBeGreaterThan(12);
    await expect.poll(() => operations.count()).toBe(count);
    expect(await page.locator('.opblock-summary-path').allTextContents()).toContain('/api/v1/audiences/{audienceId}/members');
    expect(elsewhere).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
