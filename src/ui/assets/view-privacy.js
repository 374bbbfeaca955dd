// @ts-check
// Privacy: the 24-hour clock (docs/privacy.md). X asks for opt-outs to leave every custom audience
// within 24 hours; this page shows the erasures and suppressions X has not yet acknowledged, their
// age, a warning past 20 hours, and the configurations whose re-authorization they wait on.
import { api } from './api.js';
import { h, loading, replaceKeepingFocus, timeEl } from './dom.js';
import { poll } from './poll.js';

/** @typedef {import('./types.js').Privacy} Privacy */

/** @param {number | null} seconds */
export function fmtAge(seconds) {
  if (seconds === null) return '—';
  // No-break spaces: an age never wraps inside its badge.
  if (seconds < 60) return `${Math.round(seconds)}\u00a0s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}\u00a0min`;
  return `${Math.floor(seconds / 3600)}\u00a0h ${Math.floor((seconds % 3600) / 60)}\u00a0min`;
}

/**
 * The warnings every page shows: requests past the warning age, and paused configurations that
 * hold them back (the clock does not stop for them).
 * @param {Privacy} p
 * @param {boolean} [onPrivacyPage] no link to the page the reader is on
 * @returns {HTMLElement[]}
 */
export function privacyWarnings(p, onPrivacyPage = false) {
  /** @type {HTMLElement[]} */
  const out = [];
  const oldest = Math.max(p.oldest_pending_erasure_age_seconds ?? 0, p.oldest_pending_suppression_age_seconds ?? 0);
  if (oldest > p.warn_after_seconds) {
    out.push(
      h(
        'p',
        { class: 'alert-inline privacy-warning' },
        `An opt-out or erasure has waited ${fmtAge(oldest)} for X (X allows 24 h). `,
        onPrivacyPage ? '' : h('a', { href: '/privacy' }, 'See Privacy'),
      ),
    );
  }
  if (p.waiting_on_reauth.length > 0) {
    out.push(
      h(
        'p',
        { class: 'alert-inline privacy-warning' },
        `Erasures and opt-outs are waiting on ${p.waiting_on_reauth.map((c) => `“${c.name}”`).join(', ')}, which ${p.waiting_on_reauth.length === 1 ? 'needs' : 'need'} re-authorization; X's 24 hours keep running. `,
        h('a', { href: '/outputs' }, 'Re-authorize in Setup › Outputs'),
      ),
    );
  }
  return out;
}

/** @param {HTMLElement} view */
export function startPrivacy(view) {
  const summary = h('div', { class: 'card' }, loading());
  // A narrow screen scrolls the table sideways: keyboard users reach the scroll by Tab (axe: scrollable-region-focusable).
  const list = h('div', { class: 'table-box', tabindex: '0', role: 'region', 'aria-label': 'Erasures table' }, loading());
  view.replaceChildren(summary, h('section', { 'aria-labelledby': 'erasures-title' }, h('h2', { id: 'erasures-title' }, 'Erasures'), list));
  let lastJson = '';

  /** @param {Privacy} p */
  function render(p) {
    const warn = (/** @type {number | null} */ age) => age !== null && age > p.warn_after_seconds;
    const row = (/** @type {string} */ label, /** @type {number} */ n, /** @type {number | null} */ age) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, label),
        h('td', {}, String(n)),
        h('td', {}, n === 0 ? h('span', { class: 'muted' }, 'none waiting') : h('span', { class: warn(age) ? 'badge warn' : 'badge' }, fmtAge(age))),
      );
    replaceKeepingFocus(summary, [
      h('h2', {}, 'Waiting for X'),
      h('p', {}, 'X removes an opted-out person from every custom audience only when Tailor tells it to; X allows 24 hours. Tailor warns past 20 hours.'),
      ...privacyWarnings(p, true),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Requests', 'Waiting', 'Oldest'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          row('Erasures', p.erasures_pending, p.oldest_pending_erasure_age_seconds),
          row('Suppressed identities', p.suppressions_pending, p.oldest_pending_suppression_age_seconds),
        ),
      ),
    ]);
    const now = Date.now();
    replaceKeepingFocus(
      list,
      p.erasures.length === 0
        ? [h('p', { class: 'muted' }, 'No erasure requests yet. They arrive by POST /api/v1/erasures or from mParticle (dsr_processing_request).')]
        : [
            h(
              'table',
              {},
              h(
                'thead',
                {},
                h(
                  'tr',
                  {},
                  ['Received', 'From', 'State', 'Age or completed', 'Members erased', 'X audiences'].map((t) => h('th', { scope: 'col' }, t)),
                ),
              ),
              h(
                'tbody',
                {},
                p.erasures.map((e) => {
                  const age = (now - Date.parse(e.received_at)) / 1000;
                  return h(
                    'tr',
                    {},
                    h('td', {}, timeEl(e.received_at)),
                    h('td', {}, e.source === 'firehose' ? 'mParticle' : 'API'),
                    h('td', {}, h('span', { class: e.state === 'done' ? 'badge ok' : warn(age) ? 'badge warn' : 'badge' }, e.state)),
                    h('td', {}, e.state === 'done' ? timeEl(e.completed_at) : `waiting ${fmtAge(age)}`),
                    h('td', {}, String(e.members_erased)),
                    h('td', {}, String(e.x_audiences)),
                  );
                }),
              ),
            ),
          ],
    );
  }

  poll(async () => {
    const p = /** @type {Privacy} */ (await api('GET', '/privacy'));
    // Ages move every second: re-render at most on each poll, only when something shown changed.
    const json = JSON.stringify([p, Math.floor(Date.now() / 60000)]);
    if (json !== lastJson) {
      lastJson = json;
      render(p);
    }
  });
}

/**
 * On every other page: the warnings only, checked every 30 s (the Privacy page itself polls).
 * @param {HTMLElement} banner
 */
export function watchPrivacy(banner) {
  const check = async () => {
    try {
      const p = /** @type {Privacy} */ (await api('GET', '/privacy'));
      replaceKeepingFocus(banner, privacyWarnings(p));
    } catch {
      // The page's own poll says when Tailor cannot be reached.
    }
  };
  void check();
  window.setInterval(() => void check(), 30000);
}
