/**
 * The pages of the "Log in with X" popup after X sends the user back: choose the ad account,
 * then a saved / cancelled / failed page that tells the opener (via /assets/popup.js).
 */
import { MAX_NAME_CHARS } from '../../x/facts.ts';
import { frame, html, type Html } from './html.ts';

/** X's permission names in words (docs/reference/x-ads-api.md 9.4). */
const PERMISSION_WORDS: Record<string, string> = {
  ACCOUNT_ADMIN: 'Account Administrator',
  AD_MANAGER: 'Ad Manager',
  CREATIVE_MANAGER: 'Creative Manager',
  CAMPAIGN_ANALYST: 'Campaign Analyst',
  ANALYST: 'Analyst',
  PARTNER_AUDIENCE_MANAGER: 'Partner Audience Manager',
  TWEET_COMPOSER: 'Post Composer',
};

export function permissionWords(permissions: readonly string[]): string {
  if (permissions.length === 0) return 'no permissions';
  return permissions.map((p) => `${PERMISSION_WORDS[p] ?? p} (${p})`).join(', ');
}

export interface AccountChoice {
  id: string;
  name: string;
  /** null when the login cannot reach the account at all. */
  permissions: string[] | null;
  /** The name of the configuration Tailor already has for this account; null when it has none. */
  configuredAs: string | null;
  eligible: boolean;
  /** Why it cannot be chosen, in words; null when eligible. */
  reason: string | null;
}

export interface ChooserOptions {
  csrf: string;
  screenName: string;
  accounts: AccountChoice[];
  /** Re-authorizing this configuration: only its account is offered. */
  reauth: { id: string; name: string; accountId: string } | null;
  /** Starts the login again (another X login). */
  restartHref: string;
}

function popupFrame(title: string, body: Html, data: Record<string, string> = {}, csrf?: string): string {
  return frame({ title, body: html`<main id="main" class="narrow popup">${body}</main>`, scripts: ['/assets/popup.js'], data, bodyClass: 'plain', csrf });
}

export function renderAccountChooser(o: ChooserOptions): string {
  const who = `@${o.screenName}`;
  const eligible = o.accounts.filter((a) => a.eligible);
  // Chosen at first: an account not configured yet, as a new login most likely means to add one.
  const firstEligible = (eligible.find((a) => a.configuredAs === null) ?? eligible[0])?.id;
  const rows = o.accounts.map((a, i) => {
    const id = `account-${i}`;
    const access = a.eligible ? `${who} is ${permissionWords(a.permissions ?? [])} here.` : `Not available: ${a.reason ?? ''}`;
    // Said in words (in the radio's name too), not only by the badge's colour.
    const configured =
      a.configuredAs === null
        ? ''
        : a.eligible
          ? ` Already configured as “${a.configuredAs}”: saving it re-authorizes that configuration with this login, it does not add a second one.`
          : ` Already configured as “${a.configuredAs}”.`;
    const detail = `${access}${configured}`;
    const mark = a.configuredAs === null ? '' : html` <span class="badge">Already configured</span>`;
    return html`<div class="choice${a.eligible ? '' : ' disabled'}">
      <input
        type="radio"
        name="account_id"
        id="${id}"
        value="${a.id}"
        aria-describedby="${id}-detail"
        ${a.eligible ? '' : html` disabled`}${a.id === firstEligible ? html` checked` : ''}
      />
      <label for="${id}"><span class="account-name">${a.name}</span> <span class="mono">${a.id}</span>${mark}</label>
      <p class="detail" id="${id}-detail">${detail}</p>
    </div>`;
  });
  const heading = o.reauth ? `Re-authorize “${o.reauth.name}”` : 'Choose the X ad account';
  const none =
    eligible.length === 0
      ? html`<p class="alert" role="alert">
          ${
            o.reauth
              ? `${who} cannot re-authorize this configuration: it needs Account Administrator (ACCOUNT_ADMIN) on account ${o.reauth.accountId}.`
              : `${who} is not an Account Administrator (ACCOUNT_ADMIN) on any ad account it can reach, so none can be saved.`
          } <a href="${o.restartHref}">Log in with another X account</a>.
        </p>`
      : '';
  const body = html`<h1>${heading}</h1>
    <p>Signed in to X as <strong>${who}</strong>. Only accounts where this login is an Account Administrator can be saved.</p>
    ${none}
    <form method="post" action="/oauth/x/save" class="stack">
      <input type="hidden" name="csrf" value="${o.csrf}" />
      <fieldset>
        <legend>Ad accounts ${who} can reach</legend>
        ${rows.length > 0 ? rows : html`<p class="muted">This X login cannot reach any ad account.</p>`}
      </fieldset>
      ${
        o.reauth
          ? ''
          : html`<label for="name">Configuration name <span class="muted">(optional; the account name when empty)</span></label>
              <input id="name" name="name" maxlength="${MAX_NAME_CHARS}" autocomplete="off" />`
      }
      <div class="actions">
        <button type="submit" class="primary" ${eligible.length === 0 ? html` disabled` : ''}>Save</button>
        <button type="button" data-popup-close="cancelled">Cancel</button>
      </div>
    </form>
    <p class="small"><a href="${o.restartHref}">Use a different X login</a></p>`;
  return popupFrame(heading, body, {}, o.csrf);
}

export type PopupResult = 'saved' | 'cancelled' | 'failed';

export interface PopupMessage {
  result: PopupResult;
  title: string;
  message: string;
  configurationId?: string;
  retryHref?: string;
}

export function renderPopupMessage(m: PopupMessage): string {
  const body = html`<h1>${m.title}</h1>
  <p${m.result === 'failed' ? html` class="alert" role="alert"` : ''}>${m.message}</p>
  <div class="actions">
    ${m.retryHref ? html`<a class="button primary" href="${m.retryHref}">Try again</a>` : ''}
    <button type="button" data-popup-close="${m.result}">Close this window</button>
  </div>
  <p class="small muted" data-no-opener hidden>This window was not opened by Tailor's page. <a href="/outputs">Go to Setup › Outputs</a>.</p>`;
  return popupFrame(m.title, body, { 'popup-result': m.result, 'configuration-id': m.configurationId ?? '' });
}
