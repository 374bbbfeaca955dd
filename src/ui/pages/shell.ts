/**
 * The frame of the signed-in pages: header, navigation, live status regions, and the empty
 * <div id="view"> that /assets/app.js fills from the JSON API and keeps up to date.
 */
import { frame, html } from './html.ts';

export type ShellPage = 'audiences' | 'outputs' | 'audience' | 'audit' | 'health' | 'privacy';

const TITLES: Record<ShellPage, string> = {
  audiences: 'Audiences',
  outputs: 'Setup › Outputs',
  health: 'Setup › Health',
  audience: 'Audience',
  audit: 'Audit log',
  privacy: 'Privacy',
};

export function renderShell(page: ShellPage, csrf: string, data: Record<string, string> = {}): string {
  const current = page === 'outputs' || page === 'audit' || page === 'health' || page === 'privacy' ? page : 'audiences';
  const link = (href: string, key: string, label: string) =>
    key === current ? html`<a href="${href}" aria-current="page">${label}</a>` : html`<a href="${href}">${label}</a>`;
  const body = html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/"><img src="/assets/icon.svg" alt="" width="24" height="24" /> Tailor</a>
      <nav aria-label="Main">
        ${link('/', 'audiences', 'Audiences')}${link('/outputs', 'outputs', 'Setup › Outputs')}${link('/setup/health', 'health', 'Setup › Health')}${link('/privacy', 'privacy', 'Privacy')}${link('/audit', 'audit', 'Audit log')}
      </nav>
      <a id="attention-count" class="attention-count" href="/?state=attention" hidden></a>
      <form class="sign-out" method="post" action="/sign-out">
        <input type="hidden" name="csrf" value="${csrf}" />
        <button type="submit" class="link">Sign out</button>
      </form>
    </header>
    <main id="main" tabindex="-1">
      <h1 id="page-title">${TITLES[page]}</h1>
      <div id="privacy-banner"></div>
      <div id="alert" class="alert" role="alert" hidden></div>
      <div id="status" class="status" role="status" aria-live="polite"></div>
      <div id="view" aria-busy="true"><p class="muted">Loading…</p></div>
    </main>
    <footer class="foot">Tailor forwards audiences to X Ads Custom Audiences. This page updates itself every few seconds.</footer>`;
  return frame({ title: TITLES[page], body, csrf, scripts: ['/assets/app.js'], data: { page, ...data } });
}
