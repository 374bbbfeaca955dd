// @ts-check
// The audience list's search, sort, "needs attention" filter and paging (issue 16), all done by
// the server (GET /api/v1/audiences?q=&state=&sort=&limit=&cursor=). The query lives in the
// page's address, so a reload or a shared link shows the same list.
import { h } from './dom.js';

const PAGE_SIZE = 50;

/** @type {[string, string][]} */
const SORTS = [
  ['name', 'Name, A to Z'],
  ['-name', 'Name, Z to A'],
  ['-members', 'Most members'],
  ['members', 'Fewest members'],
  ['-updated', 'Recently changed'],
  ['created', 'Oldest first'],
  ['-created', 'Newest first'],
];

/**
 * @param {() => void} changed called when the user changes the query or the page
 */
export function listControls(changed) {
  const params = new URLSearchParams(window.location.search);
  const search = h('input', { id: 'list-q', type: 'search', name: 'q', value: params.get('q') || '', autocomplete: 'off', maxlength: 200 });
  const sort = h(
    'select',
    { id: 'list-sort', name: 'sort' },
    SORTS.map(([v, label]) => h('option', { value: v, selected: (params.get('sort') || 'name') === v }, label)),
  );
  const attention = h('input', { id: 'list-attention', type: 'checkbox', name: 'state', checked: params.get('state') === 'attention' });
  const form = h(
    'form',
    { class: 'list-controls', role: 'search', 'aria-label': 'Find audiences' },
    h('div', { class: 'field' }, h('label', { for: 'list-q' }, 'Search name or ID'), search),
    h('div', { class: 'field' }, h('label', { for: 'list-sort' }, 'Sort'), sort),
    h('div', { class: 'field check' }, attention, h('label', { for: 'list-attention' }, 'Needs attention only')),
  );
  const prev = h('button', { type: 'button', 'data-key': 'page-prev' }, 'Previous page');
  const next = h('button', { type: 'button', 'data-key': 'page-next' }, 'Next page');
  const where = h('span', { class: 'muted small', 'aria-live': 'polite' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of audiences' }, prev, where, next);

  /** Cursors of the pages before the current one ('' is the first page). */
  /** @type {string[]} */
  let stack = [];
  let current = '';
  /** @type {string | null} */
  let nextCursor = null;

  const reset = () => {
    stack = [];
    current = '';
    const p = new URLSearchParams();
    if (search.value.trim()) p.set('q', search.value.trim());
    if (sort.value !== 'name') p.set('sort', sort.value);
    if (attention.checked) p.set('state', 'attention');
    const qs = p.toString();
    window.history.replaceState(null, '', qs ? `?${qs}` : window.location.pathname);
    changed();
  };
  /** @type {number | undefined} */
  let typing;
  search.addEventListener('input', () => {
    window.clearTimeout(typing);
    typing = window.setTimeout(reset, 300);
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    reset();
  });
  sort.addEventListener('change', reset);
  attention.addEventListener('change', reset);
  prev.addEventListener('click', () => {
    current = stack.pop() || '';
    changed();
  });
  next.addEventListener('click', () => {
    if (nextCursor === null) return;
    stack.push(current);
    current = nextCursor;
    changed();
  });

  return {
    form,
    pager,
    /** True when a search or the filter narrows the list. */
    filtered: () => search.value.trim() !== '' || attention.checked,
    /** The query string of the page to show. */
    query() {
      const p = new URLSearchParams({ sort: sort.value, limit: String(PAGE_SIZE) });
      if (search.value.trim()) p.set('q', search.value.trim());
      if (attention.checked) p.set('state', 'attention');
      if (current) p.set('cursor', current);
      return p.toString();
    },
    /**
     * The page arrived: enable the buttons it allows.
     * @param {string | null} cursor
     * @param {number} count
     */
    paged(cursor, count) {
      nextCursor = cursor;
      prev.disabled = stack.length === 0;
      next.disabled = cursor === null;
      pager.hidden = stack.length === 0 && cursor === null;
      const first = stack.length * PAGE_SIZE + 1;
      where.textContent = count ? `Audiences ${first}–${first + count - 1}` : '';
    },
  };
}
