// @ts-check
// The delivery log on the audience page (issue 16): every `users` call to X, newest first, from
// GET /api/v1/audiences/:id/deliveries; older pages on request. A failed call shows as resolved
// once a later call to the same X audience succeeded. A table on wide screens, cards on narrow
// ones (style.css, .deliveries).
import { api } from './api.js';
import { fmtNumber, h, loading, replaceKeepingFocus, timeEl } from './dom.js';
import { IDENTITY_WORDS } from './words.js';

/** @typedef {import('./types.js').Delivery} Delivery */
/** @typedef {import('./types.js').DeliveryPage} DeliveryPage */

const PAGE = 20;

/** @param {number} bytes */
function fmtBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** @param {Delivery} d */
function answer(d) {
  if (d.error)
    return [
      h('span', { class: d.resolved ? 'badge' : 'badge warn' }, d.status ? `HTTP ${d.status}` : 'no answer'),
      ' ',
      d.error,
      d.resolved ? h('span', { class: 'badge ok' }, 'resolved') : null,
    ];
  return [h('span', { class: 'badge ok' }, `HTTP ${d.status ?? 200}`), ` ${fmtNumber(d.success_count ?? 0)}/${fmtNumber(d.total_count ?? 0)} accepted`];
}

/** @param {Delivery} d */
function row(d) {
  return h(
    'tr',
    { class: d.error && !d.resolved ? 'failed' : '' },
    h('td', { 'data-label': 'Time' }, timeEl(d.at)),
    h(
      'td',
      { 'data-label': 'X audience' },
      IDENTITY_WORDS[d.identity_type] || d.identity_type,
      d.x_audience_id ? h('span', { class: 'mono small' }, ` ${d.x_audience_id}`) : null,
    ),
    h('td', { 'data-label': 'Adds', class: 'num' }, fmtNumber(d.adds)),
    h('td', { 'data-label': 'Removes', class: 'num' }, fmtNumber(d.removes)),
    h('td', { 'data-label': 'Size', class: 'num' }, fmtBytes(d.bytes)),
    h('td', { 'data-label': 'X answered' }, answer(d)),
    h('td', { 'data-label': 'Took', class: 'num' }, `${fmtNumber(d.duration_ms)} ms`),
  );
}

/**
 * The section and a refresh for the page's poll: the newest page is fetched again each time;
 * pages the user asked for stay until the newest page no longer overlaps them.
 * @param {string} audienceId
 */
export function deliveryLog(audienceId) {
  const body = h('div', { class: 'table-box deliveries' }, loading());
  const section = h(
    'section',
    { id: 'deliveries', 'aria-labelledby': 'deliveries-title' },
    h('h2', { id: 'deliveries-title' }, 'Deliveries to X'),
    h('p', { class: 'muted small' }, 'Every call that sent members to X, newest first: kept for TAILOR_DELIVERY_LOG_DAYS (14 days unless set).'),
    body,
  );
  /** @type {Delivery[]} */
  let older = [];
  /** @type {string | null} */
  let cursor = null;
  /** @type {Delivery[]} */
  let newest = [];
  let shown = '';

  const base = `/audiences/${encodeURIComponent(audienceId)}/deliveries?limit=${PAGE}`;

  function render() {
    const ids = new Set(newest.map((d) => d.id));
    const all = [...newest, ...older.filter((d) => !ids.has(d.id))];
    const key = JSON.stringify([all, cursor, Math.floor(Date.now() / 15000)]);
    if (key === shown) return;
    shown = key;
    if (all.length === 0) {
      replaceKeepingFocus(body, [h('p', { class: 'muted' }, 'No call to X yet: the first goes when members are due.')]);
      return;
    }
    const more = h('button', { type: 'button', 'data-key': 'deliveries-more' }, 'Show older calls');
    more.addEventListener('click', () => {
      more.disabled = true;
      void (async () => {
        /** @type {DeliveryPage} */
        const page = await api('GET', `${base}&cursor=${encodeURIComponent(cursor || '')}`);
        older = [...older, ...page.data];
        cursor = page.next_cursor;
        render();
      })().finally(() => {
        if (more.isConnected) more.disabled = false;
      });
    });
    /** @type {HTMLElement[]} */
    const nodes = [
      h(
        'table',
        {},
        h('caption', { class: 'visually-hidden' }, 'Calls to X, newest first'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Time', 'X audience', 'Adds', 'Removes', 'Size', 'X answered', 'Took'].map((c, i) =>
              h('th', { scope: 'col', class: i >= 2 && i <= 4 ? 'num' : i === 6 ? 'num' : '' }, c),
            ),
          ),
        ),
        h('tbody', {}, all.map(row)),
      ),
    ];
    if (cursor) nodes.push(h('div', { class: 'actions' }, more));
    replaceKeepingFocus(body, nodes);
  }

  async function refresh() {
    /** @type {DeliveryPage} */
    const page = await api('GET', base);
    newest = page.data;
    if (older.length === 0) cursor = page.next_cursor;
    render();
  }

  return { section, refresh };
}
