/**
 * The HTML of X's authorize page (docs/reference/x-ads-api.md 9.1 step 2), emulated: the app's name, a choice of
 * which X login signs in (the emulator has several; X would show the one signed in), and the
 * Authorize and Cancel buttons, posting back to /oauth/authorize.
 */
import type { Login } from '../../world/directory.ts';

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const STYLE = `
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f7f9f9; color: #0f1419; margin: 0; }
  main { max-width: 32rem; margin: 3rem auto; background: #fff; border-radius: 16px; padding: 2rem; box-shadow: 0 1px 4px #0002; }
  h1 { font-size: 1.4rem; margin-top: 0; }
  fieldset { border: 1px solid #cfd9de; border-radius: 12px; padding: 0.75rem 1rem; margin: 1rem 0; }
  .login { display: flex; gap: 0.6rem; align-items: flex-start; padding: 0.5rem 0; }
  .login small { display: block; color: #536471; }
  .actions { display: flex; gap: 0.75rem; }
  button { font-size: 1rem; font-weight: 700; border-radius: 999px; padding: 0.6rem 1.4rem; cursor: pointer; border: 1px solid #0f1419; }
  button[value="authorize"] { background: #0f1419; color: #fff; }
  button[value="cancel"] { background: #fff; color: #0f1419; }
  .note { color: #536471; font-size: 0.85rem; }
  .error { color: #f4212e; }
`;

export function renderAuthorizePage(appName: string, requestToken: string, logins: readonly Login[], error?: string): string {
  const app = escapeHtml(appName);
  const choices = logins
    .map((login, i) => {
      const id = `login-${escapeHtml(login.userId)}`;
      const grants = login.grants.map((g) => `${g.accountId}: ${g.permissions.join(', ')}`).join('; ');
      return `<div class="login">
        <input type="radio" id="${id}" name="user_id" value="${escapeHtml(login.userId)}"${i === 0 ? ' checked' : ''} aria-describedby="${id}-grants">
        <label for="${id}">@${escapeHtml(login.screenName)} (${escapeHtml(login.name)})</label>
        <small id="${id}-grants">${escapeHtml(grants)}</small>
      </div>`;
    })
    .join('\n');
  return page(
    `Authorize ${app} to access your account?`,
    `<h1>Authorize ${app} to access your account?</h1>
    <p>${app} will be able to manage your ads and custom audiences on the ad accounts you can reach.</p>
    ${error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`}
    <form method="post" action="/oauth/authorize">
      <input type="hidden" name="oauth_token" value="${escapeHtml(requestToken)}">
      <fieldset>
        <legend>Sign in as</legend>
        ${choices}
      </fieldset>
      <div class="actions">
        <button type="submit" name="action" value="authorize">Authorize</button>
        <button type="submit" name="action" value="cancel">Cancel</button>
      </div>
    </form>
    <p class="note">X Ads API emulator: no password is asked; pick the X login that signs in.</p>`,
  );
}

export function renderMessagePage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>`);
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} / X</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body>
</html>`;
}
