// @ts-check
// What one X audience's status says, as the API reports it (downstreamView, issue 16): on X
// against the target, pending adds and removes, uncertain, the oldest waiting change and the next
// send; X's last size kept while X processes, with the match rate over the membership X sized;
// a re-created audience's old and new ids. The audience page's cards are built from these.
import { fmtAge, fmtNumber, fmtPercent, h, timeEl } from './dom.js';
import { reasonWords } from './words.js';

/** @typedef {import('./types.js').Downstream} Downstream */
/** @typedef {import('./dom.js').Child} Child */

/** X's Ads UI, where Tools › Audiences lists an account's audiences. */
export const X_ADS_URL = 'https://ads.x.com/';

/**
 * @param {string} label
 * @param {Child} value
 * @param {Child} [extra]
 */
export function fact(label, value, extra) {
  return h('div', { class: 'field-row' }, h('dt', {}, label), h('dd', {}, value, extra || null));
}

/** @param {Downstream} d */
export function targetableFact(d) {
  const reasons = d.reasons_not_targetable || [];
  const value =
    d.targetable === null || (d.audience_size === null && reasons.length === 0 && !d.targetable)
      ? h('span', { class: 'muted' }, 'not reported by X yet')
      : d.targetable
        ? h('span', { class: 'badge ok' }, 'Targetable')
        : [
            h('span', { class: 'badge warn' }, 'Not targetable'),
            h(
              'ul',
              { class: 'reasons' },
              reasons.map((r) => h('li', {}, reasonWords(r))),
            ),
          ];
  return fact('Targetable', value);
}

/** @param {Downstream} d */
export function processingNote(d) {
  if (!d.processing_since) return null;
  return h(
    'p',
    { class: 'note small processing' },
    'X is processing changes (it started ',
    timeEl(d.processing_since),
    ')',
    d.sized_at ? ['; the size and targetability shown are X’s last report, from ', timeEl(d.sized_at), '.'] : '.',
  );
}

/** @param {Downstream} d */
export function figureFacts(d) {
  const gap = d.target - d.members;
  return [
    fact(
      'On X',
      h('strong', {}, fmtNumber(d.members)),
      h(
        'span',
        { class: 'muted small' },
        d.uncertain ? ` confirmed by X, ${fmtNumber(d.uncertain)} uncertain (answer never came; sent again)` : ' confirmed by X',
      ),
    ),
    fact(
      'Target',
      fmtNumber(d.target),
      h(
        'span',
        { class: 'muted small' },
        gap === 0 ? ' in the audience: X has them all' : ` in the audience (${gap > 0 ? '+' : '−'}${fmtNumber(Math.abs(gap))} to go)`,
      ),
    ),
    fact(
      'Pending',
      d.pending ? `${fmtNumber(d.pending_adds)} adds, ${fmtNumber(d.pending_removes)} removes` : 'nothing waiting',
      d.pending
        ? h(
            'span',
            { class: 'muted small' },
            ` · oldest waiting ${fmtAge(d.oldest_pending_at)}`,
            d.next_send_at ? [' · next send ', timeEl(d.next_send_at)] : ' · waits for re-authorization',
          )
        : null,
    ),
    fact(
      'X audience size',
      d.audience_size === null ? h('span', { class: 'muted' }, d.sized_at ? 'below X’s threshold' : 'not reported by X yet') : fmtNumber(d.audience_size),
      d.sized_at ? h('span', { class: 'muted small' }, ' as of ', timeEl(d.sized_at)) : null,
    ),
    targetableFact(d),
    fact(
      'Match rate',
      fmtPercent(d.match_rate),
      d.sized_members !== null ? h('span', { class: 'muted small' }, ` (X size ÷ the ${fmtNumber(d.sized_members)} on X when X sized it)`) : null,
    ),
    fact(
      'Sent in total',
      `${fmtNumber(d.sent_adds)} adds, ${fmtNumber(d.sent_removes)} removes`,
      d.renewed ? ` · ${fmtNumber(d.renewed)} renewed before X’s expiry` : null,
    ),
  ];
}

/**
 * X lost the audience and Tailor re-created it: both ids, and what the marketer must do.
 * @param {Downstream} d
 */
export function recreatedNote(d) {
  if (!d.previous_x_audience_id) return null;
  return h(
    'div',
    { class: 'alert-inline recreated', role: 'note' },
    h('p', {}, 'This X audience was deleted on X', d.recreated_at ? [' (', timeEl(d.recreated_at), ')'] : '', ' and Tailor re-created it under a new id.'),
    h(
      'dl',
      { class: 'facts' },
      fact('Old X id', h('span', { class: 'mono' }, d.previous_x_audience_id)),
      fact('New X id', d.x_audience_id ? h('span', { class: 'mono' }, d.x_audience_id) : h('span', { class: 'muted' }, 'being created')),
    ),
    h(
      'p',
      {},
      'Campaigns that targeted the old id no longer reach anyone: re-point them to the new one in ',
      h('a', { href: X_ADS_URL, target: '_blank', rel: 'noopener noreferrer' }, 'X Ads › Tools › Audiences'),
      '.',
    ),
  );
}

/**
 * Recent errors, each marked resolved once a later call succeeded.
 * @param {Downstream} d
 */
export function errorList(d) {
  const errors = d.recent_errors || [];
  if (errors.length === 0) return h('p', { class: 'small ok-text' }, 'No errors.');
  const open = errors.filter((e) => !e.resolved);
  return h(
    'div',
    { class: open.length ? 'errors' : 'errors resolved' },
    h('h5', {}, open.length ? 'Recent errors' : 'Recent errors (all resolved)'),
    h(
      'ul',
      {},
      errors.map((e) =>
        h('li', { class: e.resolved ? 'resolved' : '' }, timeEl(e.at), ' — ', e.message, e.resolved ? h('span', { class: 'badge ok' }, 'resolved') : null),
      ),
    ),
  );
}
