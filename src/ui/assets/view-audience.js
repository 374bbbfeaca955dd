// @ts-check
// One audience: Connect (add X as an output with the four Forward settings, edit, remove) and
// the Status of each connection, down to every X audience, with a chart; updated live.
import { api, ApiFailure } from './api.js';
import { chart } from './chart.js';
import { act, announce, confirmDialog, fmtNumber, h, loading, replaceKeepingFocus, timeEl } from './dom.js';
import { deliveryLog } from './deliveries.js';
import { errorList, fact, figureFacts, processingNote, recreatedNote } from './figures.js';
import { healthParts } from './summary.js';
import { showAttention } from './attention.js';
import { taggedGetter } from './tagged.js';
import { cadenceField, downstreamToolFacts, readCadence, resyncButton } from './tools.js';
import { poll } from './poll.js';
import { deleteAudience, rememberDeletion, renameAudience } from './view-audiences.js';
import { CONFIG_STATE_WORDS, IDENTITY_WORDS, rejectionWords, STATE_HELP, STATE_WORDS } from './words.js';

/** @typedef {import('./types.js').Audience} Audience */
/** @typedef {import('./types.js').Configuration} Configuration */
/** @typedef {import('./types.js').Connection} Connection */
/** @typedef {import('./types.js').Downstream} Downstream */
/** @typedef {import('./types.js').ToggleKey} ToggleKey */
/** @typedef {import('./types.js').Toggles} Toggles */
/** @typedef {import('./dom.js').Child} Child */

/** @type {{ key: ToggleKey, label: string, help: string, byDefault: boolean }[]} */
const TOGGLES = [
  { key: 'forward_emails', label: 'Forward Emails', help: 'SHA-256 of each member’s email address, to “<audience> (email)”.', byDefault: true },
  {
    key: 'forward_twitter_handles',
    label: 'Forward Twitter Handles',
    help: 'SHA-256 of each member’s Twitter handle, to “<audience> (handle)”.',
    byDefault: true,
  },
  {
    key: 'forward_device_ids',
    label: 'Forward Device IDs',
    help: 'SHA-256 of IDFA (Apple) and Google Advertising ID (Android), to “<audience> (device id)”.',
    byDefault: true,
  },
  {
    key: 'forward_phone_numbers',
    label: 'Forward Phone Numbers',
    help: 'SHA-256 of each member’s phone number in international form (+ and country code), to “<audience> (phone)”. Off unless you turn it on.',
    byDefault: false,
  },
];

/**
 * @param {string} prefix of the inputs' ids
 * @param {Partial<Toggles>} values what is on (a missing setting takes the API's default: on, phone numbers off)
 * @param {string} legend
 */
function togglesFieldset(prefix, values, legend) {
  return h(
    'fieldset',
    { class: 'toggles' },
    h('legend', {}, legend),
    TOGGLES.map((t) => {
      const id = `${prefix}-${t.key}`;
      return h(
        'div',
        { class: 'toggle' },
        h('input', { type: 'checkbox', id, name: t.key, checked: values[t.key] ?? t.byDefault, 'aria-describedby': `${id}-help` }),
        h('label', { for: id }, t.label),
        h('p', { id: `${id}-help`, class: 'muted small' }, t.help),
      );
    }),
  );
}

/**
 * @param {HTMLFormElement} form built with togglesFieldset
 * @returns {Toggles}
 */
function readToggles(form) {
  /** @type {Partial<Toggles>} */
  const out = {};
  for (const t of TOGGLES) {
    const input = form.elements.namedItem(t.key);
    if (!(input instanceof HTMLInputElement)) throw new Error(`The form has no ${t.label} setting; reload the page.`);
    out[t.key] = input.checked;
  }
  // A connection that forwards nothing would do nothing: say what to do instead.
  if (!TOGGLES.some((t) => out[t.key]))
    throw new Error('Turn on at least one Forward setting. To stop forwarding to this X account, use Remove connection (its X audiences stay on X).');
  return /** @type {Toggles} */ (out);
}

/** @typedef {{ samples: import('./types.js').Sample[], events: import('./types.js').ChartEvent[] }} Series */

/**
 * After the first load the page asks only for what came since the newest it holds, less this
 * much: a sample is stamped when its refresh starts and may commit a moment after a newer one of
 * another X audience, so the overlap catches it (duplicates are merged away).
 */
const HISTORY_OVERLAP_MS = 60_000;
/** Samples kept per X audience on the page, as many as the server keeps (SAMPLES_KEPT). */
const SAMPLES_SHOWN = 2000;

/**
 * Merges `incoming` into `list` (both oldest first), replacing an item `same` says it already
 * holds; returns whether anything changed.
 * @template {{ at: string }} T
 * @param {T[]} list
 * @param {T[]} incoming
 * @param {(a: T, b: T) => boolean} same
 */
function mergeByTime(list, incoming, same) {
  let changed = false;
  for (const item of incoming) {
    const t = Date.parse(item.at);
    let i = list.length - 1;
    while (i >= 0 && Date.parse(list[i]?.at ?? '') > t) i--;
    let found = -1;
    for (let j = i; j >= 0 && Date.parse(list[j]?.at ?? '') === t; j--) if (same(/** @type {T} */ (list[j]), item)) found = j;
    if (found >= 0) {
      if (JSON.stringify(list[found]) !== JSON.stringify(item)) {
        list[found] = item;
        changed = true;
      }
      continue;
    }
    list.splice(i + 1, 0, item);
    changed = true;
  }
  return changed;
}

/**
 * @param {Downstream} d
 * @param {Series} data
 * @param {string} chartKey
 */
function downstreamCard(d, data, chartKey) {
  const title = d.name || `${IDENTITY_WORDS[d.identity_type] || d.identity_type} audience (not created yet)`;
  const key = `ds-${d.identity_type}-${d.x_audience_id || 'new'}`;
  return h(
    'article',
    { class: `downstream state-${d.state}${d.needs_attention ? ' attention' : ''}`, 'aria-labelledby': key },
    h('header', {}, h('h4', { id: key }, title), h('span', { class: `badge state ${d.state}` }, STATE_WORDS[d.state] || d.state)),
    h('p', { class: 'muted small' }, `${IDENTITY_WORDS[d.identity_type] || d.identity_type}. ${STATE_HELP[d.state] || ''}`),
    downstreamToolFacts(d),
    d.name_suffix && d.name_suffix > 1
      ? h('p', { class: 'small' }, `X refused the plain name (already used on the account, perhaps by a deleted audience), so Tailor named it “${d.name}”.`)
      : null,
    recreatedNote(d),
    processingNote(d),
    h(
      'div',
      { class: 'downstream-body' },
      h(
        'div',
        {},
        h(
          'dl',
          { class: 'facts' },
          fact('X audience id', d.x_audience_id ? h('span', { class: 'mono' }, d.x_audience_id) : h('span', { class: 'muted' }, 'not created yet')),
          figureFacts(d),
          fact('Last sync', timeEl(d.last_synced_at)),
          fact('Last checked on X', timeEl(d.last_refreshed_at)),
          d.rejected ? fact('Rejected by X', fmtNumber(d.rejected)) : null,
        ),
        errorList(d),
      ),
      chart({ samples: data.samples, events: data.events, label: title, key: chartKey }),
    ),
  );
}

/**
 * Identity types switched off that never had an X audience: say so rather than show nothing.
 * @param {Connection} c
 */
function notForwarded(c) {
  const off = /** @type {[import('./types.js').IdentityType, ToggleKey, string][]} */ ([
    ['email', 'forward_emails', 'Forward Emails'],
    ['handle', 'forward_twitter_handles', 'Forward Twitter Handles'],
    ['device_id', 'forward_device_ids', 'Forward Device IDs'],
    ['phone_number', 'forward_phone_numbers', 'Forward Phone Numbers'],
  ]).filter(([type, key]) => c[key] === false && !c.downstream_audiences.some((d) => d.identity_type === type));
  if (off.length === 0) return null;
  return h('p', { class: 'muted small' }, off.map(([type, , label]) => `${IDENTITY_WORDS[type]}: not forwarded (${label} is off).`).join(' '));
}

/** @param {HTMLElement} view */
export function startAudience(view) {
  // The server renders the audience page with its id (src/server/ui.ts).
  const id = document.body.dataset.audienceId ?? '';
  const title = document.getElementById('page-title');
  /** @type {Audience | null} null until the first answer */
  let audience = null;
  /** @type {Configuration[]} */
  let configurations = [];
  /** Each X audience's samples and events, by `seriesKey`: loaded whole once, then only what is new is appended. @type {Map<string, Series>} */
  const history = new Map();
  /** The newest sample or event loaded, epoch ms; null before the first load. @type {number | null} */
  let newestAt = null;
  /** Bumped when history changes, so the status is redrawn. */
  let historyVersion = 0;
  let connectKey = '';
  let statusJson = '';

  const headBox = h('div', { class: 'audience-head' });
  const connectBox = h('div', {}, loading());
  const statusBox = h('div', {}, loading());
  const deliveries = deliveryLog(id);
  const connectSection = h(
    'section',
    { id: 'connect', 'aria-labelledby': 'connect-title', class: 'card' },
    h('h2', { id: 'connect-title' }, 'Connect'),
    connectBox,
  );
  view.replaceChildren(
    headBox,
    h(
      'section',
      { id: 'status-section', 'aria-labelledby': 'status-title' },
      h('h2', { id: 'status-title' }, 'Status'),
      h(
        'p',
        { class: 'note' },
        // Short: on a phone it stands between the health line and the figures.
        'Members reach X within seconds. X reports a size later, it can take hours (mParticle says up to 60), and targets an audience only from at least 100 matched users: until then “not reported” and “Not targetable” are normal.',
      ),
      statusBox,
    ),
    deliveries.section,
    connectSection,
  );

  let headJson = '';
  function renderHead() {
    if (!audience) return;
    const health = healthParts(audience);
    const json = JSON.stringify([audience.name, audience.members, health]);
    if (json === headJson) return;
    headJson = json;
    if (title) title.textContent = audience.name;
    document.title = `${audience.name} · Tailor`;
    replaceKeepingFocus(headBox, [
      h('p', { class: 'crumbs' }, h('a', { href: '/' }, 'Audiences'), ' › ', audience.name),
      h('p', { class: `health${health.attention ? ' attention' : ''}`, id: 'health' }, health.parts.join(' · ')),
      h(
        'div',
        { class: 'head-row' },
        h(
          'p',
          { class: 'wrap' },
          'ID ',
          h('span', { class: 'mono' }, audience.id),
          ' · ',
          h('strong', { id: 'member-count' }, fmtNumber(audience.members)),
          ' members',
        ),
        h(
          'div',
          { class: 'row-actions' },
          h(
            'button',
            {
              type: 'button',
              'data-key': 'rename',
              onclick: (e) =>
                void act(e.currentTarget, async () => {
                  if (!audience) return;
                  const res = await renameAudience(audience);
                  if (res) {
                    await poller.refresh();
                    announce(`Renamed to “${res.name}”. Its X audiences follow.`);
                  }
                }),
            },
            'Rename',
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'danger-quiet',
              'data-key': 'delete',
              onclick: (e) =>
                void act(e.currentTarget, async () => {
                  const snapshot = audience;
                  if (!snapshot) return;
                  const res = await deleteAudience(snapshot);
                  if (res) {
                    rememberDeletion(snapshot, res);
                    window.location.assign('/');
                  }
                }),
            },
            'Delete audience',
          ),
        ),
      ),
    ]);
  }

  /** @param {Connection} c */
  function connectionForm(c) {
    const prefix = `conn-${c.configuration_id}`;
    // data-keys let focus find these buttons again after the form is rebuilt (dom.js focusReturn).
    const save = h('button', { type: 'submit', class: 'primary', 'data-key': `save-${c.configuration_id}` }, 'Save settings');
    const remove = h('button', { type: 'button', class: 'danger-quiet', 'data-key': `remove-${c.configuration_id}` }, 'Remove connection');
    const form = h(
      'form',
      { class: 'connection', 'aria-labelledby': `${prefix}-title` },
      h(
        'h3',
        { id: `${prefix}-title` },
        `X · ${c.configuration_name || c.configuration_id}`,
        h('span', { class: 'muted small' }, ` account ${c.account_id || '?'}`),
      ),
      c.configuration_state === 'needs_reauth'
        ? h(
            'p',
            { class: 'alert-inline' },
            'Paused: this configuration needs re-authorization. ',
            h('a', { href: '/outputs' }, 'Re-authorize in Setup › Outputs'),
            '.',
          )
        : null,
      togglesFieldset(prefix, c, 'Forward to X'),
      h('p', { class: 'muted small' }, 'Turning a setting off keeps that X audience on X, detached. Removing the connection keeps all of them on X.'),
      cadenceField(prefix, c.send_interval_minutes ?? null),
      h(
        'div',
        { class: 'actions' },
        save,
        resyncButton(id, c.configuration_id, () => poller.refresh()),
        remove,
      ),
    );
    form.addEventListener('input', () => {
      form.dataset.dirty = '1';
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void act(save, async () => {
        await api('PUT', `/audiences/${encodeURIComponent(id)}/connections/${encodeURIComponent(c.configuration_id)}`, {
          ...readToggles(form),
          ...readCadence(form),
        });
        delete form.dataset.dirty;
        await poller.refresh();
        announce('Connection settings saved.');
      });
    });
    remove.addEventListener('click', () => {
      void act(remove, async () => {
        const names = c.downstream_audiences.filter((d) => d.x_audience_id).map((d) => d.name);
        const yes = await confirmDialog({
          title: `Remove the connection to “${c.configuration_name}”?`,
          body: [
            h('p', {}, 'Tailor stops forwarding this audience to this X account.'),
            names.length ? h('p', {}, `The X audiences stay on X (live campaigns may use them): ${names.join(', ')}.`) : null,
          ],
          confirmLabel: 'Remove connection',
          danger: true,
        });
        if (!yes) return;
        await api('DELETE', `/audiences/${encodeURIComponent(id)}/connections/${encodeURIComponent(c.configuration_id)}`);
        connectKey = '';
        await poller.refresh();
        announce('Connection removed. Its X audiences are kept on X.');
      });
    });
    return form;
  }

  /** @param {Configuration[]} available the configurations this audience is not connected to */
  function addForm(available) {
    if (configurations.length === 0) {
      return h(
        'p',
        {},
        'There is no X configuration yet. ',
        h('a', { href: '/outputs' }, 'Add one in Setup › Outputs'),
        ', then come back to connect this audience.',
      );
    }
    if (available.length === 0) return h('p', { class: 'muted' }, 'This audience is connected to every X configuration.');
    const select = h(
      'select',
      { id: 'add-config', name: 'configuration', required: true },
      available.map((c) => h('option', { value: c.id }, `${c.name} — account ${c.account_id}${c.state === 'needs_reauth' ? ' (needs re-authorization)' : ''}`)),
    );
    const submit = h('button', { type: 'submit', class: 'primary', 'data-key': 'add-connection' }, 'Add Connection');
    const form = h(
      'form',
      { class: 'connection add', 'aria-labelledby': 'add-title' },
      h('h3', { id: 'add-title' }, 'Add X as an output'),
      h('div', { class: 'field' }, h('label', { for: 'add-config' }, 'X configuration'), select),
      togglesFieldset('add', {}, 'Connection settings'),
      h('div', { class: 'actions' }, submit),
    );
    form.addEventListener('input', () => {
      form.dataset.dirty = '1';
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void act(submit, async () => {
        const configurationId = select.value;
        await api('PUT', `/audiences/${encodeURIComponent(id)}/connections/${encodeURIComponent(configurationId)}`, readToggles(form));
        connectKey = '';
        delete form.dataset.dirty;
        await poller.refresh();
        announce('Connection added. Tailor creates the X audiences and starts sending members.');
      });
    });
    return form;
  }

  function renderConnect() {
    // Forms the user is editing are left alone; everything else follows the server.
    if (!audience || connectBox.querySelector('form[data-dirty]')) return;
    const key = JSON.stringify([
      audience.connections.map((c) => [
        c.configuration_id,
        c.configuration_name,
        c.configuration_state,
        c.forward_emails,
        c.forward_twitter_handles,
        c.forward_device_ids,
      ]),
      configurations.map((c) => [c.id, c.name, c.state]),
    ]);
    if (key === connectKey) return;
    connectKey = key;
    const connected = new Set(audience.connections.map((c) => c.configuration_id));
    replaceKeepingFocus(connectBox, [...audience.connections.map(connectionForm), addForm(configurations.filter((c) => !connected.has(c.id)))]);
  }

  /**
   * @param {string} configurationId
   * @param {string} identityType
   */
  const seriesKey = (configurationId, identityType) => `${configurationId}-${identityType}`;
  /**
   * @param {string} configurationId
   * @param {Downstream} d
   * @returns {Series}
   */
  const seriesOf = (configurationId, d) => history.get(seriesKey(configurationId, d.identity_type)) ?? { samples: [], events: [] };

  /** Loads the history: all of it the first time, then what came since (the API's `since`), appended. */
  async function loadHistory() {
    const since = newestAt === null ? '' : `?since=${encodeURIComponent(new Date(newestAt - HISTORY_OVERLAP_MS).toISOString())}`;
    /** @type {import('./types.js').History} */
    const hist = await api('GET', `/audiences/${encodeURIComponent(id)}/history${since}`);
    let changed = false;
    for (const d of hist.downstream_audiences) {
      const k = seriesKey(d.configuration_id, d.identity_type);
      const series = history.get(k) ?? { samples: [], events: [] };
      history.set(k, series);
      if (mergeByTime(series.samples, d.samples, (a, b) => a.at === b.at)) changed = true;
      if (mergeByTime(series.events, d.events, (a, b) => a.at === b.at && a.kind === b.kind && a.detail === b.detail)) changed = true;
      if (series.samples.length > SAMPLES_SHOWN) series.samples.splice(0, series.samples.length - SAMPLES_SHOWN);
      for (const item of [...d.samples, ...d.events]) newestAt = Math.max(newestAt ?? 0, Date.parse(item.at));
    }
    // The first answer sets the start even when it is empty: later polls ask only for what is new.
    if (newestAt === null) newestAt = Date.now() - HISTORY_OVERLAP_MS;
    if (changed) historyVersion += 1;
  }

  let statusAt = 0;
  function renderStatus() {
    if (!audience) return;
    const json = JSON.stringify([audience.connections, audience.other_downstream_audiences, audience.rejected_identities, historyVersion]);
    // Unchanged data is redrawn only now and then, to keep "12 s ago" honest.
    if (json === statusJson && Date.now() - statusAt < 15000) return;
    statusJson = json;
    statusAt = Date.now();
    const parts = [];
    if (audience.connections.length === 0) parts.push(h('p', { class: 'muted' }, 'Not connected to X yet: use Connect below.'));
    for (const c of audience.connections) {
      parts.push(
        h(
          'section',
          { class: 'connection-status', 'aria-labelledby': `st-${c.configuration_id}` },
          h(
            'h3',
            { id: `st-${c.configuration_id}` },
            `X · ${c.configuration_name || c.configuration_id}`,
            h('span', { class: 'muted small' }, ` account ${c.account_id || '?'}`),
          ),
          c.configuration_state === 'needs_reauth'
            ? h(
                'p',
                { class: 'alert-inline' },
                `${CONFIG_STATE_WORDS.needs_reauth}: ${c.configuration_state_reason || 'X refused the tokens.'} Changes are kept and go out after you `,
                h('a', { href: '/outputs' }, 're-authorize in Setup › Outputs'),
                '.',
              )
            : null,
          c.downstream_audiences.length === 0
            ? h('p', { class: 'muted' }, 'No X audience yet: Tailor creates one per enabled identity type when there are members to send.')
            : h(
                'div',
                { class: 'downstreams' },
                c.downstream_audiences.map((d) => downstreamCard(d, seriesOf(c.configuration_id, d), seriesKey(c.configuration_id, d.identity_type))),
              ),
          notForwarded(c),
        ),
      );
    }
    const others = audience.other_downstream_audiences || [];
    if (others.length) {
      parts.push(
        h(
          'section',
          { class: 'connection-status', 'aria-labelledby': 'st-others' },
          h('h3', { id: 'st-others' }, 'Kept on X, no longer connected'),
          h(
            'div',
            { class: 'downstreams' },
            others.map((d) => downstreamCard(d, seriesOf(d.configuration_id, d), seriesKey(d.configuration_id, d.identity_type))),
          ),
        ),
      );
    }
    const rejected = audience.rejected_identities || [];
    if (rejected.length) {
      parts.push(
        h(
          'section',
          { class: 'connection-status', 'aria-labelledby': 'st-rejected' },
          h('h3', { id: 'st-rejected' }, 'Identifiers Tailor could not use'),
          h('p', { class: 'muted small' }, 'Dropped before hashing; the rest of each batch went through.'),
          h(
            'table',
            {},
            h(
              'thead',
              {},
              h('tr', {}, h('th', { scope: 'col' }, 'Reason'), h('th', { scope: 'col', class: 'num' }, 'Count'), h('th', { scope: 'col' }, 'Last seen')),
            ),
            h(
              'tbody',
              {},
              rejected.map((r) =>
                h('tr', {}, h('td', {}, rejectionWords(r.reason)), h('td', { class: 'num' }, fmtNumber(r.count)), h('td', {}, timeEl(r.last_at))),
              ),
            ),
          ),
        ),
      );
    }
    replaceKeepingFocus(statusBox, parts);
  }

  let gone = false;
  /** @type {(path: string) => Promise<{ data: import('./types.js').AudiencePage, changed: boolean }>} */
  const getAttention = taggedGetter();
  const poller = poll(async () => {
    if (gone) return;
    /** @type {Audience} */
    let a;
    try {
      a = await api('GET', `/audiences/${encodeURIComponent(id)}`);
    } catch (err) {
      if (err instanceof ApiFailure && err.status === 404) {
        gone = true;
        if (title) title.textContent = 'Audience not found';
        view.replaceChildren(h('p', {}, `There is no audience “${id}” (it may have been deleted). `, h('a', { href: '/' }, 'Back to Audiences'), '.'));
        return;
      }
      throw err;
    }
    // In a .js file an uninferred type parameter is any, not unknown: name each promise's T.
    const [c] = await Promise.all([/** @type {Promise<import('./types.js').List<Configuration>>} */ (api('GET', '/configurations')), loadHistory()]);
    audience = a;
    configurations = c.data;
    renderHead();
    renderConnect();
    renderStatus();
    await deliveries.refresh();
    showAttention((await getAttention('/audiences?limit=1&state=attention')).data.needs_attention);
  });
}
