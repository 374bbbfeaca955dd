// @ts-check
// Setup › Outputs: the X configurations. "Log in with X" and "Re-authorize" open the X
// login popup (/oauth/x/start); it saves on the server and tells this page when done.
import { api, ApiFailure } from './api.js';
import { act, announce, confirmDialog, focusReturn, h, loading, replaceKeepingFocus, showError, timeEl } from './dom.js';
import { poll } from './poll.js';
import { CONFIG_STATE_WORDS } from './words.js';

/** @typedef {import('./types.js').Audience} Audience */
/** @typedef {import('./types.js').Configuration} Configuration */

const POPUP_FEATURES = 'popup,width=640,height=760';
/** How often the page looks whether the popup was closed without a word (its window's close box). */
const CLOSED_CHECK_MS = 500;

/**
 * Opens the X login popup. When the browser blocks it, the login runs in this tab instead
 * (the saved page then links back here). When the popup is gone, however it ended, `ended` runs
 * and focus goes back to the button that opened it.
 * @param {string | null} configurationId the one to re-authorize; null adds a new one
 * @param {() => Promise<void>} ended
 */
function openXLogin(configurationId, ended) {
  const back = focusReturn(document.activeElement);
  const url = configurationId ? `/oauth/x/start?configuration=${encodeURIComponent(configurationId)}` : '/oauth/x/start';
  const popup = window.open(url, 'tailor-x-login', POPUP_FEATURES);
  if (!popup) {
    window.location.assign(url);
    return;
  }
  popup.focus();
  announce('The X login opened in a new window. Finish there; this page updates by itself.');
  const timer = window.setInterval(() => {
    if (!popup.closed) return;
    window.clearInterval(timer);
    void ended().finally(() => back.settle());
  }, CLOSED_CHECK_MS);
}

/** @param {HTMLElement} view */
export function startOutputs(view) {
  /** @type {Configuration[]} */
  let configurations = [];
  /** @type {Audience[]} */
  let audiences = [];
  let lastJson = '';

  const addButton = h(
    'button',
    { type: 'button', class: 'primary', 'data-key': 'x-login', onclick: () => openXLogin(null, () => poller.refresh()) },
    'Log in with X',
  );
  const listBox = h('div', { class: 'table-box' }, loading());
  view.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'add-title' },
      h('h2', { id: 'add-title' }, 'X Audience configurations'),
      h(
        'p',
        {},
        'A configuration connects one X ad account. Log in with X in the popup, pick the ad account and save. Only an X login that is an ',
        h('strong', {}, 'Account Administrator'),
        ' on the account can connect it; other accounts are shown greyed out with the reason.',
      ),
      h('p', {}, addButton),
    ),
    h('section', { 'aria-labelledby': 'configs-title' }, h('h2', { id: 'configs-title' }, 'Configurations'), listBox),
  );

  // The popup reports back (same origin only): saved, cancelled or failed.
  window.addEventListener('message', (/** @type {MessageEvent<{ type?: unknown, result?: unknown } | null>} */ event) => {
    if (event.origin !== window.location.origin || !event.data || event.data.type !== 'tailor:x-login') return;
    if (event.data.result === 'saved') announce('X configuration saved.');
    else if (event.data.result === 'cancelled') announce('X login cancelled; nothing was saved.');
    void poller.refresh();
  });

  /** @param {string} configurationId */
  const usersOf = (configurationId) => audiences.filter((a) => a.connections.some((c) => c.configuration_id === configurationId));

  /**
   * @param {Configuration} config
   * @param {HTMLButtonElement} button
   */
  async function remove(config, button) {
    const users = usersOf(config.id);
    if (users.length > 0) {
      showError(
        `“${config.name}” cannot be deleted: ${users.length === 1 ? 'the audience' : 'the audiences'} ${users.map((a) => `“${a.name}”`).join(', ')} ${users.length === 1 ? 'is' : 'are'} connected to it. Remove those connections on each audience's Connect page first.`,
      );
      return;
    }
    const yes = await confirmDialog({
      title: `Delete “${config.name}”?`,
      body: [
        h('p', {}, `Tailor forgets this configuration and its X tokens for account ${config.account_id}.`),
        h('p', {}, 'X audiences it created stay on X; Tailor stops tracking them.'),
      ],
      confirmLabel: 'Delete configuration',
      danger: true,
    });
    if (!yes) return;
    await act(button, async () => {
      try {
        await api('DELETE', `/configurations/${encodeURIComponent(config.id)}`);
      } catch (err) {
        if (err instanceof ApiFailure && err.code === 'conflict') throw new Error(`“${config.name}” cannot be deleted: ${err.message}.`, { cause: err });
        throw err;
      }
      await poller.refresh();
      announce(`Configuration “${config.name}” deleted.`);
    });
  }

  function render() {
    if (configurations.length === 0) {
      replaceKeepingFocus(listBox, [h('p', { class: 'muted' }, 'No X configuration yet. Add one to start forwarding audiences to X.')]);
      return;
    }
    const rows = configurations.map((c) => {
      const users = usersOf(c.id);
      const needs = c.state === 'needs_reauth';
      return h(
        'tr',
        { class: needs ? 'needs-attention' : null },
        h('th', { scope: 'row', 'data-label': 'Name' }, c.name),
        h('td', { 'data-label': 'Ad account' }, h('div', {}, c.account_name || '—'), h('div', { class: 'mono small' }, c.account_id)),
        h(
          'td',
          { 'data-label': 'Authorized by' },
          c.screen_name ? `@${c.screen_name}` : c.x_user_id ? `X user ${c.x_user_id}` : h('span', { class: 'muted' }, 'tokens given by hand'),
        ),
        h(
          'td',
          { 'data-label': 'State' },
          h('span', { class: `badge ${needs ? 'warn' : 'ok'}` }, CONFIG_STATE_WORDS[c.state] || c.state),
          needs ? h('p', { class: 'small' }, c.state_reason || 'X refused the tokens.', ' Changes wait until you re-authorize.') : null,
          h('div', { class: 'muted small' }, 'Updated ', timeEl(c.updated_at)),
        ),
        h(
          'td',
          { 'data-label': 'Used by' },
          users.length
            ? h(
                'ul',
                { class: 'plain' },
                users.map((a) => h('li', {}, h('a', { href: `/audiences/${encodeURIComponent(a.id)}` }, a.name))),
              )
            : h('span', { class: 'muted' }, 'No connections'),
        ),
        h(
          'td',
          { 'data-label': 'Actions' },
          h(
            'div',
            { class: 'row-actions' },
            h(
              'button',
              {
                type: 'button',
                class: needs ? 'primary' : null,
                'data-key': `reauth-${c.id}`,
                'aria-label': `Re-authorize ${c.name}`,
                onclick: () => openXLogin(c.id, () => poller.refresh()),
              },
              'Re-authorize',
            ),
            h(
              'button',
              {
                type: 'button',
                class: 'danger-quiet',
                'data-key': `delete-${c.id}`,
                'aria-label': `Delete ${c.name}`,
                onclick: (e) => void remove(c, e.currentTarget),
              },
              'Delete',
            ),
          ),
        ),
      );
    });
    replaceKeepingFocus(listBox, [
      h(
        'table',
        // Cards instead of a table on a phone (status.css), so Re-authorize stays on screen.
        { class: 'cards' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Name', 'Ad account', 'Authorized by', 'State', 'Used by'].map((t) => h('th', { scope: 'col' }, t)),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        h('tbody', {}, rows),
      ),
    ]);
  }

  const poller = poll(async () => {
    // In a .js file an uninferred type parameter is any, not unknown: name each promise's T.
    const [c, a] = await Promise.all([
      /** @type {Promise<import('./types.js').List<Configuration>>} */ (api('GET', '/configurations')),
      /** @type {Promise<import('./types.js').List<Audience>>} */ (api('GET', '/audiences')),
    ]);
    configurations = c.data;
    audiences = a.data;
    const json = JSON.stringify([configurations, audiences.map((x) => [x.id, x.name, x.connections.map((k) => k.configuration_id)])]);
    if (json !== lastJson) {
      lastJson = json;
      render();
    }
  });
}
