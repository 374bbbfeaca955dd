// @ts-check
// Audiences: the list with member counts and connections; create, rename, delete.
import { api, ApiFailure, uiGet } from './api.js';
import { showAttention } from './attention.js';
import { act, announce, confirmDialog, fmtNumber, h, loading, promptDialog, replaceKeepingFocus } from './dom.js';
import { listControls } from './list-controls.js';
import { poll } from './poll.js';
import { healthParts } from './summary.js';
import { taggedGetter } from './tagged.js';
import { STATE_WORDS } from './words.js';
import { findPersonSection, waitingDeletionsSection } from './tools.js';

/** @typedef {import('./types.js').Audience} Audience */
/** @typedef {import('./types.js').AudienceDeleted} AudienceDeleted */
/** @typedef {import('./types.js').Deletion} Deletion */

// The server's id rule (src/core/ids.ts), served on the page: the form allows exactly what the API takes.
const ID_MAX = Number(document.body.dataset.audienceIdMax) || undefined;
const ID_PATTERN = document.body.dataset.audienceIdPattern;

/**
 * Every X audience that deleting this audience deletes on X.
 * @param {Audience} audience
 */
export function xAudiencesOf(audience) {
  const all = [...audience.connections.flatMap((c) => c.downstream_audiences), ...(audience.other_downstream_audiences || [])];
  return all.filter((d) => d.x_audience_id && d.state !== 'deleted' && d.state !== 'deleting');
}

const DELETIONS_KEY = 'tailor.deletions';

/**
 * Remembers a deletion for the Audiences page, which follows its X audiences until X confirms.
 * @param {{ id: string, name: string }} audience
 * @param {AudienceDeleted} response
 */
export function rememberDeletion(audience, response) {
  const all = Object.fromEntries(takeDeletions());
  all[audience.id] = { name: audience.name, xAudiences: response.deleting_x_audiences };
  window.sessionStorage.setItem(DELETIONS_KEY, JSON.stringify(all));
}

/** @returns {Map<string, Deletion>} the deletions remembered, forgotten from storage */
function takeDeletions() {
  /** @type {Record<string, Deletion>} */
  let all;
  try {
    /** @type {unknown} */
    const stored = JSON.parse(window.sessionStorage.getItem(DELETIONS_KEY) || '{}');
    all = /** @type {Record<string, Deletion>} */ (stored);
  } catch {
    all = {};
  }
  window.sessionStorage.removeItem(DELETIONS_KEY);
  return new Map(Object.entries(all));
}

/**
 * Asks, naming the X audiences that go with it; deletes; returns the response or null.
 * @param {Audience} audience
 * @returns {Promise<AudienceDeleted | null>}
 */
export async function deleteAudience(audience) {
  const doomed = xAudiencesOf(audience);
  const body = [
    h('p', {}, `Delete the audience “${audience.name}” (${audience.id}) and its ${fmtNumber(audience.members)} members from Tailor?`),
    doomed.length
      ? [
          h('p', {}, `These ${doomed.length} X audiences will be deleted on X too (campaigns that use them lose them):`),
          h(
            'ul',
            { class: 'doomed' },
            doomed.map((d) => h('li', {}, h('strong', {}, d.name || '(unnamed)'), ' ', h('span', { class: 'mono' }, `X id ${d.x_audience_id}`))),
          ),
        ]
      : h('p', {}, 'No X audience exists for it yet, so nothing is deleted on X.'),
    h('p', { class: 'muted small' }, 'This cannot be undone.'),
  ];
  const yes = await confirmDialog({
    title: `Delete “${audience.name}”?`,
    body,
    confirmLabel: doomed.length ? 'Delete audience and X audiences' : 'Delete audience',
    cancelLabel: 'Keep it',
    danger: true,
  });
  if (!yes) return null;
  return api('DELETE', `/audiences/${encodeURIComponent(audience.id)}`);
}

/**
 * Asks for the new name; renames; returns the audience as renamed, or null when nothing changed.
 * @param {Audience} audience
 * @returns {Promise<Audience | null>}
 */
export async function renameAudience(audience) {
  const name = await promptDialog({
    title: `Rename “${audience.name}”`,
    label: 'New name',
    value: audience.name,
    submitLabel: 'Rename',
    help: 'The X audiences are renamed to match: “<name> (email)” and so on.',
  });
  if (name === null || name === audience.name) return null;
  return api('PUT', `/audiences/${encodeURIComponent(audience.id)}`, { name });
}

/** @param {Audience} a */
function connectionsCell(a) {
  if (a.connections.length === 0)
    return h('a', { href: `/audiences/${encodeURIComponent(a.id)}#connect`, 'data-key': `connect-${a.id}` }, 'Not connected — connect to X');
  return h(
    'ul',
    { class: 'plain' },
    a.connections.map((c) => {
      const states = c.downstream_audiences.map((d) => STATE_WORDS[d.state] || d.state);
      /** @type {Record<string, number>} */
      const counts = {};
      for (const st of states) counts[st] = (counts[st] || 0) + 1;
      const summary = Object.entries(counts)
        .map(([st, n]) => `${n} ${st.toLowerCase()}`)
        .join(', ');
      return h(
        'li',
        {},
        `X · ${c.configuration_name || c.configuration_id}`,
        c.configuration_state === 'needs_reauth' ? h('span', { class: 'badge warn' }, 'needs re-authorization') : null,
        h(
          'span',
          { class: 'muted small' },
          ` — ${c.downstream_audiences.length} X audience${c.downstream_audiences.length === 1 ? '' : 's'}${summary ? ` (${summary})` : ''}`,
        ),
      );
    }),
  );
}

/** @param {HTMLElement} view */
export function startAudiences(view) {
  /** @type {Audience[]} */
  let audiences = [];
  let lastJson = '';
  // Audiences deleted in this tab (here or on their own page), whose X audiences are shown until gone.
  const deletions = takeDeletions();

  const idInput = h('input', {
    id: 'new-id',
    name: 'id',
    required: true,
    pattern: ID_PATTERN,
    maxlength: ID_MAX,
    autocomplete: 'off',
    'aria-describedby': 'new-id-help',
  });
  const nameInput = h('input', { id: 'new-name', name: 'name', required: true, maxlength: 200, autocomplete: 'off' });
  const createButton = h('button', { type: 'submit', class: 'primary' }, 'Create audience');
  const form = h(
    'form',
    { class: 'inline-form', 'aria-labelledby': 'create-title' },
    h('div', { class: 'field' }, h('label', { for: 'new-name' }, 'Name'), nameInput),
    h(
      'div',
      { class: 'field' },
      h('label', { for: 'new-id' }, 'Audience ID'),
      idInput,
      h(
        'p',
        { id: 'new-id-help', class: 'muted small' },
        `Letters, digits and . _ ~ -${ID_MAX ? `, at most ${ID_MAX}` : ''}; the id your API calls and mParticle use.`,
      ),
    ),
    h('div', { class: 'field end' }, createButton),
  );
  nameInput.addEventListener('input', () => {
    // Suggest an id from the name until the user types one.
    if (idInput.dataset.touched) return;
    idInput.value = nameInput.value
      .toLowerCase()
      .trim()
      .replace(/[^a-z0-9._~-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, ID_MAX);
  });
  idInput.addEventListener('input', () => {
    idInput.dataset.touched = '1';
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void act(createButton, async () => {
      const id = idInput.value.trim();
      const name = nameInput.value.trim();
      // The list shows one page: ask the server whether the id is taken (a PUT would rename it).
      const taken = await api('GET', `/audiences/${encodeURIComponent(id)}`).then(
        () => true,
        (err) => {
          if (err instanceof ApiFailure && err.status === 404) return false;
          throw err;
        },
      );
      if (taken) throw new Error(`An audience with the ID “${id}” already exists; choose another ID.`);
      await api('PUT', `/audiences/${encodeURIComponent(id)}`, { name });
      form.reset();
      delete idInput.dataset.touched;
      await poller.refresh();
      announce(`Audience “${name}” created. Open it to connect it to X.`);
      const link = view.querySelector(`a[data-key="open-${CSS.escape(id)}"]`);
      if (link instanceof HTMLElement) link.focus();
    });
  });

  const tableBox = h('div', { class: 'table-box' }, loading());
  const deletingBox = h('div', { class: 'deleting', 'aria-live': 'polite' });
  const waiting = waitingDeletionsSection();
  const controls = listControls(() => void poller.refresh());
  view.replaceChildren(
    h('section', { 'aria-labelledby': 'list-title' }, h('h2', { id: 'list-title' }, 'All audiences'), controls.form, tableBox, controls.pager),
    deletingBox,
    waiting.section,
    h('section', { 'aria-labelledby': 'create-title', class: 'card' }, h('h2', { id: 'create-title' }, 'Create an audience'), form),
    findPersonSection(),
  );

  function renderTable() {
    if (audiences.length === 0) {
      replaceKeepingFocus(tableBox, [
        h(
          'p',
          { class: 'muted' },
          controls.filtered() ? 'No audience matches.' : 'No audiences yet. Create one below, or send one from mParticle or the REST API.',
        ),
      ]);
      return;
    }
    const rows = audiences.map((a) => {
      const health = healthParts(a);
      return h(
        'tr',
        { class: health.attention ? 'attention' : '' },
        h('th', { scope: 'row', 'data-label': 'Name' }, h('a', { href: `/audiences/${encodeURIComponent(a.id)}`, 'data-key': `open-${a.id}` }, a.name)),
        h('td', { class: 'mono', 'data-label': 'ID' }, a.id),
        h('td', { class: 'num', 'data-label': 'Members' }, fmtNumber(a.members)),
        h(
          'td',
          { 'data-label': 'Health' },
          health.attention ? h('span', { class: 'badge warn' }, 'needs attention') : null,
          h('span', { class: 'small' }, ` ${health.parts.slice(0, -1).join(' · ')}`),
          h('span', { class: health.parts.at(-1) === 'no errors' ? 'small' : 'small warn-text' }, ` · ${health.parts.at(-1)}`),
        ),
        h('td', { 'data-label': 'Connections' }, connectionsCell(a)),
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
                'data-key': `rename-${a.id}`,
                'aria-label': `Rename ${a.name}`,
                onclick: (e) =>
                  void act(e.currentTarget, async () => {
                    const res = await renameAudience(a);
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
                'data-key': `delete-${a.id}`,
                'aria-label': `Delete ${a.name}`,
                onclick: (e) =>
                  void act(e.currentTarget, async () => {
                    const res = await deleteAudience(a);
                    if (res) {
                      deletions.set(a.id, { name: a.name, xAudiences: res.deleting_x_audiences });
                      await poller.refresh();
                      announce(
                        `Deleted “${a.name}”.${res.deleting_x_audiences.length ? ` Deleting ${res.deleting_x_audiences.length} X audiences on X.` : ''}`,
                      );
                    }
                  }),
              },
              'Delete',
            ),
          ),
        ),
      );
    });
    replaceKeepingFocus(tableBox, [
      h(
        'table',
        { class: 'cards' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'Name'),
            h('th', { scope: 'col' }, 'ID'),
            h('th', { scope: 'col', class: 'num' }, 'Members'),
            h('th', { scope: 'col' }, 'Health'),
            h('th', { scope: 'col' }, 'Connections'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')),
          ),
        ),
        h('tbody', {}, rows),
      ),
    ]);
  }

  /** Audiences just deleted here: their X audiences, until X confirms they are gone. */
  async function renderDeletions() {
    const items = [];
    for (const [id, d] of deletions) {
      if (d.xAudiences.length === 0) {
        deletions.delete(id);
        continue;
      }
      /** @type {import('./types.js').StillDeleting} */
      const left = await uiGet(`/ui/deleting/${encodeURIComponent(id)}`);
      const pending = new Map(left.x_audiences.map((x) => [x.x_audience_id, x]));
      items.push(
        h(
          'li',
          {},
          h('strong', {}, `“${d.name}”: `),
          h(
            'ul',
            { class: 'plain' },
            d.xAudiences.map((x) => {
              const still = pending.get(x.x_audience_id);
              return h(
                'li',
                { class: 'x-audience' },
                `${x.name} (X id ${x.x_audience_id}): `,
                still
                  ? h('span', { class: 'badge' }, still.last_error ? `deleting on X — last error: ${still.last_error}` : 'deleting on X…')
                  : h('span', { class: 'badge ok' }, 'deleted on X'),
              );
            }),
          ),
        ),
      );
    }
    deletingBox.replaceChildren(
      ...(items.length
        ? [
            h(
              'section',
              { class: 'card', 'aria-labelledby': 'deleting-title' },
              h('h2', { id: 'deleting-title' }, 'Deleted audiences'),
              h('ul', { class: 'plain' }, items),
            ),
          ]
        : []),
    );
  }

  /** @type {(path: string) => Promise<{ data: import('./types.js').AudiencePage, changed: boolean }>} */
  const getPage = taggedGetter();
  let renderedAt = 0;
  const poller = poll(async () => {
    const { data: res } = await getPage(`/audiences?${controls.query()}`);
    audiences = res.data;
    controls.paged(res.next_cursor, audiences.length);
    showAttention(res.needs_attention);
    const json = JSON.stringify(audiences);
    // Unchanged data is redrawn only now and then, to keep "12 s ago" honest.
    if (json !== lastJson || Date.now() - renderedAt > 15000) {
      lastJson = json;
      renderedAt = Date.now();
      renderTable();
    }
    if (deletions.size) await renderDeletions();
    await waiting.refresh();
  });
}
