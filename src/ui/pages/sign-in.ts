/** The sign-in page: the admin token (TAILOR_ADMIN_TOKEN) opens a browser session. */
import { frame, html } from './html.ts';

export function renderSignIn(next: string, error?: string): string {
  const body = html`<main id="main" class="narrow">
    <h1><img src="/assets/icon.svg" alt="" width="32" height="32" /> Sign in to Tailor</h1>
    <p>Enter the admin token this Tailor was started with (<code>TAILOR_ADMIN_TOKEN</code>).</p>
    ${error === undefined ? '' : html`<p class="alert" role="alert" id="sign-in-error">${error}</p>`}
    <form method="post" action="/sign-in" class="stack">
      <input type="hidden" name="next" value="${next}" />
      <input type="text" name="username" value="tailor-admin" autocomplete="username" hidden />
      <label for="token">Admin token</label>
      <input
        id="token"
        name="token"
        type="password"
        autocomplete="current-password"
        required
        autofocus${error === undefined ? '' : html` aria-describedby="sign-in-error" aria-invalid="true"`}
      />
      <div class="actions"><button type="submit" class="primary">Sign in</button></div>
    </form>
    <p class="muted small">The session lasts up to 12 hours in this browser. Restarting Tailor with a new token signs every browser out.</p>
  </main>`;
  return frame({ title: 'Sign in', body, bodyClass: 'plain' });
}
