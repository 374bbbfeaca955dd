// @ts-check
// Audience tools (issue 18), kept apart from the views that show them: find a person, the
// deletions waiting on campaigns, a connection's cadence and its resync. Each piece builds its own
// nodes; view-audiences.js and view-audience.js only place them.
import { api } from './api.js';
import { act, announce, confirmDialog, fmtNumber, h, replaceKeepingFocus, timeEl } from './dom.js';

/** @typedef {import('./types.js').LookupResult} LookupResult */
/** @typedef {import('./types.js').LookupIdentity} LookupIdentity */
/** @typedef {import('./types.js').WaitingDeletion} WaitingDeletion */
/** @typedef {import('./types.js').Downstream} Downstream */

/** The lookup's states in words. */
export const LOOKUP_WORDS = {
  on_x: 'On X',
  pending_add: 'Waiting to be added',
  pending_remove: 'Waiting to be removed',
  uncertain: 'Sent; X’s answer never came (sent again with the next change)',
  suppressed: 'Suppressed (held back from X)',
  not_forwarded: 'Not forwarded (the connection does not forward this type)',
  rejected: 'Refused by X',
};

const LOOKUP_FIELDS = [
  { key: 'email', label: 'E-mail' },
  { key: 'twitter_handle', label: 'X handle' },
  { key: 'ios_advertising_id', label: 'IDFA (Apple)' },
  { key: 'google_advertising_id', label: 'Google advertising id' },
  { key: 'phone_number', label: 'Phone number' },
];

/** The cadences offered (minutes; '' is near real time). X advises 360–480. */
export const CADENCES = [
  { value: '', label: 'Near real time' },
  { value: '60', label: 'Every hour' },
  { value: '360', label: 'Every 6 hours (X’s advice)' },
  { value: '480', label: 'Every 8 hours (X’s advice)' },
  { value: '1440', label: 'Once a day' },
];

/**
 * Find a person: a form with one field per identity; the values go in a POST body (never a URL)
 * and Tailor hashes them in memory. The answer lists where each identity is, never the value.
 */
export function findPersonSection() {
  const inputs = LOOKUP_FIELDS.map((f) => ({ ...f, input: h('input', { id: `find-${f.key}`, name: f.key, autocomplete: 'off', maxlength: 1024 }) }));
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Find');
  const results = h('div', { class: 'lookup-results', 'aria-live': 'polite' });
  const form = h(
    'form',
    { class: 'inline-form lookup', 'aria-labelledby': 'find-title' },
    inputs.map((f) => h('div', { class: 'field' }, h('label', { for: `find-${f.key}` }, f.label), f.input)),
    h('div', { class: 'field end' }, submit),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(submit, async () => {
      /** @type {Record<string, string>} */
      const body = {};
      for (const f of inputs) if (f.input.value.trim() !== '') body[f.key] = f.input.value;
      if (Object.keys(body).length === 0) throw new Error('Enter at least one identity.');
      /** @type {{ results: LookupResult[], identities: LookupIdentity[] }} */
      const res = await api('POST', '/lookup', body);
      const alone = suppressedAlone(res.identities);
      replaceKeepingFocus(results, [...(alone ? [alone] : []), h('div', { class: 'table-box' }, lookupTable(res.results))]);
      const found = res.results.length ? `Found in ${res.results.length} place${res.results.length === 1 ? '' : 's'}.` : 'Not found in any audience.';
      announce(alone ? `${found} ${alone.textContent}` : found);
    });
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'find-title' },
    h('h2', { id: 'find-title' }, 'Find a person'),
    h('p', { class: 'muted small' }, 'Raw values or SHA-256 hashes. Tailor hashes raw values in memory and never stores or logs them.'),
    form,
    results,
  );
}

/**
 * Identities on the suppression list that no audience holds: the table has no row for them, yet
 * the answer is not "absent" but "suppressed".
 * @param {LookupIdentity[]} identities
 */
function suppressedAlone(identities) {
  const alone = identities.filter((i) => i.suppressed && !i.held);
  if (alone.length === 0) return null;
  const names = alone.map((i) => LOOKUP_FIELDS.find((f) => f.key === i.field)?.label || i.field);
  return h(
    'p',
    { class: 'lookup-suppressed' },
    h('span', { class: 'badge lookup-suppressed' }, 'Suppressed'),
    ` ${names.join(', ')}: on the suppression list, so kept off every X audience; no audience holds ${alone.length === 1 ? 'it' : 'them'}.`,
  );
}

/** @param {LookupResult[]} rows */
function lookupTable(rows) {
  if (rows.length === 0) return h('p', { class: 'muted' }, 'No audience or X audience holds these identities.');
  return h(
    'div',
    { class: 'table-box' },
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Identity', 'Audience', 'X audience', 'State', 'Last sent'].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            h('td', {}, LOOKUP_FIELDS.find((f) => f.key === r.field)?.label || r.field),
            h(
              'th',
              { scope: 'row' },
              h('a', { href: `/audiences/${encodeURIComponent(r.audience_id)}` }, r.audience_name),
              r.in_audience ? null : h('span', { class: 'muted small' }, ' (left)'),
            ),
            h('td', { class: 'mono' }, r.x_audience_id || '—'),
            h('td', {}, h('span', { class: `badge lookup-${r.state}` }, LOOKUP_WORDS[r.state] || r.state)),
            h('td', {}, timeEl(r.last_sent_at)),
          ),
        ),
      ),
    ),
  );
}

/**
 * The X audiences of deleted audiences still on X. Those that active campaigns target wait, named
 * with their campaigns, and can be deleted anyway after a confirmation. Returns the section and its
 * refresh (for the page's poller).
 */
export function waitingDeletionsSection() {
  const box = h('div', { class: 'waiting-deletions', 'aria-live': 'polite' });
  let lastJson = '';
  async function refresh() {
    /** @type {{ data: WaitingDeletion[] }} */
    const res = await api('GET', '/deletions');
    const json = JSON.stringify(res.data);
    if (json === lastJson) return;
    lastJson = json;
    const blocked = res.data.filter((d) => d.blocked_by && d.blocked_by.length);
    if (blocked.length === 0) {
      box.replaceChildren();
      return;
    }
    /** @type {Map<string, WaitingDeletion[]>} */
    const byAudience = new Map();
    for (const d of blocked) byAudience.set(d.audience_id, [...(byAudience.get(d.audience_id) || []), d]);
    replaceKeepingFocus(box, [
      h(
        'section',
        { class: 'card warn', 'aria-labelledby': 'waiting-title' },
        h('h2', { id: 'waiting-title' }, 'Deletions waiting on campaigns'),
        h(
          'p',
          { class: 'muted small' },
          'These X audiences belong to deleted audiences, but active campaigns target them, so Tailor has not deleted them on X.',
        ),
        h(
          'ul',
          { class: 'plain' },
          [...byAudience].map(([audienceId, items]) => {
            const force = h('button', { type: 'button', class: 'danger-quiet', 'data-key': `force-${audienceId}` }, 'Delete anyway');
            force.addEventListener('click', () => {
              void act(force, async () => {
                const yes = await confirmDialog({
                  title: `Delete the X audiences of “${audienceId}” anyway?`,
                  body: [h('p', {}, 'The campaigns below lose them:'), campaignList(items.flatMap((d) => d.blocked_by || []))],
                  confirmLabel: 'Delete on X',
                  danger: true,
                });
                if (!yes) return;
                await api('DELETE', `/audiences/${encodeURIComponent(audienceId)}?force=true`);
                lastJson = '';
                await refresh();
                announce(`Deleting the X audiences of “${audienceId}” on X.`);
              });
            });
            return h(
              'li',
              {},
              h('strong', {}, audienceId),
              h(
                'ul',
                { class: 'plain' },
                items.map((d) =>
                  h('li', { class: 'x-audience' }, `${d.name || '(unnamed)'} (X id ${d.x_audience_id}) — used by `, campaignList(d.blocked_by || [])),
                ),
              ),
              force,
            );
          }),
        ),
      ),
    ]);
  }
  return { section: box, refresh };
}

/** @param {NonNullable<WaitingDeletion['blocked_by']>} campaigns */
function campaignList(campaigns) {
  return h(
    'ul',
    { class: 'campaigns' },
    campaigns.map((c) =>
      h('li', {}, h('strong', {}, c.campaign_name || c.campaign_id), ` (${c.line_items.length} active line item${c.line_items.length === 1 ? '' : 's'})`),
    ),
  );
}

/**
 * The cadence select of a connection form; read it back with readCadence.
 * @param {string} prefix of the input ids
 * @param {number | null} minutes the connection's cadence
 */
export function cadenceField(prefix, minutes) {
  const value = minutes === null ? '' : String(minutes);
  const options = CADENCES.some((c) => c.value === value) ? CADENCES : [...CADENCES, { value, label: `Every ${fmtNumber(Number(value))} minutes` }];
  return h(
    'div',
    { class: 'field cadence' },
    h('label', { for: `${prefix}-cadence` }, 'Send to X'),
    h(
      'select',
      { id: `${prefix}-cadence`, name: 'send_interval_minutes', 'aria-describedby': `${prefix}-cadence-help` },
      options.map((c) => h('option', { value: c.value, selected: c.value === value }, c.label)),
    ),
    h(
      'p',
      { id: `${prefix}-cadence-help`, class: 'muted small' },
      'X processes audiences every 6–8 hours and advises one add and one remove update per audience in that window.',
    ),
  );
}

/**
 * @param {HTMLFormElement} form with a cadenceField
 * @returns {{ send_interval_minutes: number | null }}
 */
export function readCadence(form) {
  const select = form.elements.namedItem('send_interval_minutes');
  if (!(select instanceof HTMLSelectElement)) throw new Error('The form has no cadence setting; reload the page.');
  return { send_interval_minutes: select.value === '' ? null : Number(select.value) };
}

/**
 * Re-send everything X holds for a connection, after a confirmation.
 * @param {string} audienceId
 * @param {string} configurationId
 * @param {() => Promise<void>} after
 */
export function resyncButton(audienceId, configurationId, after) {
  const button = h('button', { type: 'button', 'data-key': `resync-${configurationId}` }, 'Resync to X');
  button.addEventListener('click', () => {
    void act(button, async () => {
      const yes = await confirmDialog({
        title: 'Send every member to X again?',
        body: [
          h('p', {}, 'Tailor re-sends every member X holds for this connection, as updates, packed and within X’s rate limits. Removals are not affected.'),
          h('p', { class: 'muted small' }, 'Use it when X lost data on its side. Progress shows on each X audience below.'),
        ],
        confirmLabel: 'Resync',
      });
      if (!yes) return;
      /** @type {{ resyncing_x_audiences: number }} */
      const res = await api('POST', `/audiences/${encodeURIComponent(audienceId)}/connections/${encodeURIComponent(configurationId)}/resync`);
      await after();
      announce(`Resync started on ${res.resyncing_x_audiences} X audience${res.resyncing_x_audiences === 1 ? '' : 's'}.`);
    });
  });
  return button;
}

/**
 * The downstream card's lines for the tools: next send under a cadence, a resync's progress, and
 * the campaigns holding a deletion back. Null when none applies.
 * @param {Downstream} d
 */
export function downstreamToolFacts(d) {
  const lines = [];
  // With changes waiting, the figures show their next send; with none, only a cadence gives a time: its next window.
  if (d.next_send_at && d.pending === 0) lines.push(h('p', { class: 'small' }, 'Next send to X ', timeEl(d.next_send_at), ' (connection cadence).'));
  if (d.resync)
    lines.push(
      h(
        'p',
        { class: 'small' },
        `Resync: ${fmtNumber(d.resync.total - d.resync.remaining)} of ${fmtNumber(d.resync.total)} sent again`,
        h('progress', { max: String(Math.max(1, d.resync.total)), value: String(d.resync.total - d.resync.remaining), 'aria-label': 'Resync progress' }),
      ),
    );
  if (d.deletion_blocked_by && d.deletion_blocked_by.length)
    lines.push(h('div', { class: 'alert-inline' }, 'Not deleted on X: active campaigns target it: ', campaignList(d.deletion_blocked_by)));
  return lines.length ? h('div', { class: 'tool-facts' }, lines) : null;
}
