// @ts-check
// Setup › Health: the setup checks of `tailor doctor` (run when the page opens and on demand:
// they call X, so they are not polled) and the recent alert events with their webhook delivery
// (polled).
import { api } from './api.js';
import { act, announce, h, loading, replaceKeepingFocus, timeEl } from './dom.js';
import { poll } from './poll.js';

/** @typedef {import('./types.js').HealthReport} HealthReport */
/** @typedef {import('./types.js').AlertEvent} AlertEvent */

/** @type {Record<import('./types.js').HealthCheck['status'], string>} */
const STATUS_WORDS = { pass: 'Pass', warn: 'Warning', fail: 'Failed' };
/** @type {Record<string, string>} */
const STATUS_CLASS = { pass: 'ok', warn: 'warn', fail: 'bad' };
/** @type {Record<AlertEvent['delivery'], string>} */
const DELIVERY_WORDS = { pending: 'Retrying', delivered: 'Delivered', unsent: 'Not sent (no webhook)' };

/** @param {HTMLElement} view */
export function startHealth(view) {
  const summary = h('p', { class: 'muted', id: 'checks-summary' }, 'Running the checks…');
  const checksBox = h('div', {}, loading());
  const runButton = h('button', { type: 'button', onclick: () => void act(runButton, run) }, 'Run the checks again');
  const eventsBox = h('div', { class: 'table-box', id: 'events-box' }, loading());
  let lastEvents = '';

  view.replaceChildren(
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'checks-title' },
      h('h2', { id: 'checks-title' }, 'Setup checks'),
      h(
        'p',
        {},
        'The same checks as ',
        h('code', {}, 'tailor doctor'),
        ': environment, database, the X app and its callback URL, every configuration, and the clock.',
      ),
      summary,
      checksBox,
      h('p', {}, runButton),
    ),
    h(
      'section',
      { 'aria-labelledby': 'events-title' },
      h('h2', { id: 'events-title' }, 'Recent alert events'),
      h('p', { class: 'muted small' }, 'Each event is POSTed to TAILOR_WEBHOOK_URL, signed, and retried until the receiver accepts it.'),
      eventsBox,
    ),
  );

  async function run() {
    summary.textContent = 'Running the checks…';
    const report = /** @type {HealthReport} */ (await api('GET', '/health/checks'));
    const failed = report.checks.filter((c) => c.status === 'fail').length;
    const warned = report.checks.filter((c) => c.status === 'warn').length;
    const words =
      failed > 0 ? `${failed} failed, ${warned} with a warning.` : warned > 0 ? `No check failed; ${warned} with a warning.` : 'Every check passed.';
    summary.replaceChildren(h('strong', {}, words), ' Checked ', timeEl(report.checked_at), '.');
    replaceKeepingFocus(checksBox, [
      h(
        'ul',
        { class: 'checks' },
        report.checks.map((c) =>
          h(
            'li',
            { class: `check ${c.status}` },
            h('span', { class: `badge ${STATUS_CLASS[c.status]}` }, STATUS_WORDS[c.status]),
            h('strong', {}, ` ${c.title}`),
            h('p', {}, c.detail),
            c.fix ? h('p', { class: 'fix' }, h('span', { class: 'visually-hidden' }, 'What to do: '), c.fix) : null,
          ),
        ),
      ),
    ]);
    announce(`Setup checks: ${words}`);
  }

  /** @param {AlertEvent[]} events */
  function renderEvents(events) {
    if (events.length === 0) {
      replaceKeepingFocus(eventsBox, [h('p', { class: 'muted' }, 'No alert event yet.')]);
      return;
    }
    const rows = events.map((e) =>
      h(
        'tr',
        { class: e.delivery === 'pending' ? 'needs-attention' : null },
        h('td', { 'data-label': 'When' }, timeEl(e.time)),
        h('td', { 'data-label': 'Event' }, h('code', {}, e.type)),
        h('td', { 'data-label': 'What happened', class: 'event-text' }, e.text.replace(/^Tailor: /, '')),
        h(
          'td',
          { 'data-label': 'Delivery' },
          h('span', { class: `badge ${e.delivery === 'delivered' ? 'ok' : e.delivery === 'pending' ? 'warn' : ''}` }, DELIVERY_WORDS[e.delivery]),
          e.attempts > 0
            ? h('div', { class: 'muted small' }, `${e.attempts} attempt${e.attempts === 1 ? '' : 's'}${e.last_status ? `, last HTTP ${e.last_status}` : ''}`)
            : null,
          // The error says more than the status only when no answer came (refused, timed out).
          e.delivery === 'pending' && e.last_error && e.last_status === null ? h('div', { class: 'small' }, e.last_error) : null,
          e.delivery === 'pending' && e.next_attempt_at ? h('div', { class: 'muted small' }, 'Next try ', timeEl(e.next_attempt_at)) : null,
        ),
      ),
    );
    replaceKeepingFocus(eventsBox, [
      // Cards on a phone (status.css, table.cards): each cell labelled, nothing to scroll sideways.
      h(
        'table',
        { class: 'cards' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['When', 'Event', 'What happened', 'Delivery'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h('tbody', {}, rows),
      ),
    ]);
  }

  void act(runButton, run);
  poll(async () => {
    const list = /** @type {import('./types.js').List<AlertEvent>} */ (await api('GET', '/events?limit=50'));
    const json = JSON.stringify(list.data);
    if (json !== lastEvents) {
      lastEvents = json;
      renderEvents(list.data);
    }
  });
}
