// @ts-check
// Audit log: who changed which configuration, audience, connection, suppression or erasure, and when (GET
// /api/v1/audit, newest first). The newest page refreshes itself; "Show older" reads the next
// pages by cursor and keeps them below.
import { act, h, loading, replaceKeepingFocus, timeEl } from './dom.js';
import { api } from './api.js';
import { poll } from './poll.js';

/** @typedef {import('./types.js').AuditEntry} AuditEntry */
/** @typedef {import('./types.js').AuditPage} AuditPage */

const PAGE = 50;

/** @type {Record<AuditEntry['actor'], string>} */
const ACTOR_WORDS = {
  admin_token: 'Admin token (API)',
  ui_session: 'Web UI',
  firehose: 'mParticle Firehose',
  cli: 'Command line',
  worker: 'Tailor (sync worker)',
};

/** @param {AuditEntry} e */
function objectCell(e) {
  if (e.object_type === 'audience' && e.audience_id && e.action !== 'audience.deleted')
    return h('a', { href: `/audiences/${encodeURIComponent(e.audience_id)}` }, e.audience_id);
  if (e.object_type === 'connection')
    return h('span', {}, h('span', { class: 'mono small' }, e.audience_id || '—'), ' → ', h('span', { class: 'mono small' }, e.configuration_id || '—'));
  return h('span', { class: 'mono small' }, e.object_id || '—');
}

/** @param {AuditEntry['details']} details */
function detailsText(details) {
  if (!details) return '';
  return Object.entries(details)
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v === null ? '—' : String(v)}`)
    .join(', ');
}

/** @param {HTMLElement} view */
export function startAudit(view) {
  /** @type {AuditEntry[]} */
  let newest = [];
  /** @type {AuditEntry[]} */
  let older = [];
  /** @type {string | null} */
  let cursor = null;
  let olderLoaded = false;
  let lastJson = '';

  const tableBox = h('div', { class: 'table-box' }, loading());
  const more = h('button', { type: 'button', onclick: (e) => void showOlder(e.currentTarget) }, 'Show older');
  const moreBox = h('p', {}, more);
  view.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'audit-about' },
      h('h2', { id: 'audit-about' }, 'Every change, kept'),
      h(
        'p',
        {},
        'Each change of a configuration, audience, connection, suppression or erasure is recorded here with who made it and when, in the same transaction as the change. The log is append-only and holds ids only, never an e-mail, handle or device id.',
      ),
    ),
    h('section', { 'aria-labelledby': 'audit-title' }, h('h2', { id: 'audit-title' }, 'Changes, newest first'), tableBox, moreBox),
  );

  /** @param {HTMLButtonElement} button */
  async function showOlder(button) {
    await act(button, async () => {
      const page = /** @type {AuditPage} */ (await api('GET', `/audit?limit=${PAGE}&cursor=${encodeURIComponent(cursor ?? '')}`));
      older = older.concat(page.data);
      cursor = page.next_cursor;
      olderLoaded = true;
      render();
    });
  }

  function render() {
    const seen = new Set();
    const entries = [...newest, ...older].filter((e) => (seen.has(e.id) ? false : (seen.add(e.id), true)));
    moreBox.hidden = cursor === null;
    if (entries.length === 0) {
      replaceKeepingFocus(tableBox, [h('p', { class: 'muted' }, 'Nothing changed yet.')]);
      return;
    }
    const rows = entries.map((e) =>
      h(
        'tr',
        {},
        h('td', { class: 'nowrap', 'data-label': 'When' }, timeEl(e.at)),
        h('td', { class: 'nowrap', 'data-label': 'Who' }, ACTOR_WORDS[e.actor] || e.actor),
        h('th', { scope: 'row', class: 'nowrap' }, h('span', { class: 'mono small' }, e.action)),
        h('td', { 'data-label': 'Object' }, objectCell(e)),
        h('td', { class: 'small', 'data-label': 'Details' }, detailsText(e.details)),
      ),
    );
    replaceKeepingFocus(tableBox, [
      h(
        'table',
        // On a phone each entry is a card, its cells labelled (status.css).
        { class: 'audit cards' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['When', 'Who', 'Change', 'Object', 'Details'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h('tbody', {}, rows),
      ),
    ]);
  }

  poll(async () => {
    const page = /** @type {AuditPage} */ (await api('GET', `/audit?limit=${PAGE}`));
    newest = page.data;
    if (!olderLoaded) cursor = page.next_cursor;
    const json = JSON.stringify([newest.map((e) => e.id), older.length, cursor]);
    if (json !== lastJson) {
      lastJson = json;
      render();
    }
  });
}
