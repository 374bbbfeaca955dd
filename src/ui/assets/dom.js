// @ts-check
// Small DOM helpers for Tailor's pages: element building (never innerHTML with data), the live
// status and alert regions, focus-keeping re-renders, dialogs and formatting.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * What h() and s() take as children: nodes, text (numbers too), nested arrays; null, undefined
 * and false are skipped.
 * @typedef {import('./types.js').Tree<Node | string | number | boolean | null | undefined>} Child
 */

/**
 * Attributes by name; `class` and `text` are special, `on<event>` functions become listeners,
 * true is a bare attribute and null, undefined and false leave it out. `onclick` is typed so a
 * handler's event.currentTarget is the element it was set on.
 * @template {Element} E
 * @typedef {{ [name: string]: string | number | boolean | null | undefined | ((event: never) => void), onclick?: (event: MouseEvent & { currentTarget: E }) => void } | null | undefined} Attrs
 */

/**
 * @template {Element} E
 * @param {E} el
 * @param {Attrs<E>} attrs
 * @param {Child[]} children
 * @returns {E}
 */
function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.setAttribute('class', String(value));
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, ...children);
  return el;
}

/**
 * Appends children (nodes, text, nested arrays; null, undefined and false skipped).
 * @param {Element} el
 * @param {Child[]} children
 */
export function append(el, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, ...child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * h('a', { href: '/x', class: 'y', onclick: fn }, 'text', otherNode, [more])
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs<HTMLElementTagNameMap[K]>} attrs
 * @param {Child[]} children
 * @returns {HTMLElementTagNameMap[K]}
 */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/**
 * The same for SVG elements.
 * @template {keyof SVGElementTagNameMap} K
 * @param {K} tag
 * @param {Attrs<SVGElementTagNameMap[K]>} attrs
 * @param {Child[]} children
 * @returns {SVGElementTagNameMap[K]}
 */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** What a box shows until its first answer from Tailor arrives. */
export function loading() {
  return h('p', { class: 'muted loading' }, 'Loading…');
}

/** @param {string} id */
export function byId(id) {
  return document.getElementById(id);
}

/** @type {number | undefined} */
let announceTimer;

/**
 * Says something to screen readers and sighted users alike (role=status, polite); it fades after 10 s.
 * A warning (contact lost) is shown as one, not in the green of a done action.
 * @param {string} text
 * @param {{ warn?: boolean }} [opts]
 */
export function announce(text, opts = {}) {
  const el = byId('status');
  if (!el) return;
  el.textContent = '';
  el.classList.toggle('status-warn', opts.warn === true);
  window.clearTimeout(announceTimer);
  // A fresh text node makes screen readers read a repeated message again.
  window.setTimeout(() => {
    el.textContent = text;
  }, 30);
  announceTimer = window.setTimeout(() => {
    el.textContent = '';
  }, 10000);
}

/**
 * Shows an error in the alert region (role=alert), or clears it with null.
 * @param {string | null} text
 */
export function showError(text) {
  const el = byId('alert');
  if (!el) return;
  el.textContent = text || '';
  el.hidden = !text;
}

/**
 * Replaces a container's children, then gives focus back to the element with the same
 * data-key as the one focused before, so a live update never steals a keyboard user's place.
 * @param {Element} container
 * @param {Node[]} nodes
 */
export function replaceKeepingFocus(container, nodes) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.getAttribute('data-key') : null;
  container.replaceChildren(...nodes);
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again instanceof HTMLElement) again.focus();
  }
}

/**
 * Where keyboard focus goes back to once an action that took it away is over (a dialog closed,
 * its button disabled meanwhile, a re-render): the element itself while it is on the page and
 * enabled; else the one that replaced it in a re-render (the same data-key); else, when it is gone
 * for good (the row of a deleted audience), the heading of the nearest section still on the page;
 * else the page's main region.
 * @typedef {{ settle: () => void }} FocusReturn
 */

/**
 * @param {Element | null} opener the element focus should come back to
 * @returns {FocusReturn}
 */
export function focusReturn(opener) {
  const el = opener instanceof HTMLElement && opener !== document.body ? opener : null;
  const key = el ? el.getAttribute('data-key') : null;
  /** @type {Element[]} */
  const sections = [];
  for (let s = el ? el.closest('section') : null; s; s = s.parentElement ? s.parentElement.closest('section') : null) sections.push(s);
  return {
    settle() {
      if (!el) return;
      // Someone put focus somewhere on purpose (a new audience's link, a field with an error): leave it.
      const active = document.activeElement;
      if (active && active !== document.body && active.isConnected && !active.closest('dialog')) return;
      const twin = key ? document.querySelector(`[data-key="${CSS.escape(key)}"]`) : null;
      const live = el.isConnected ? el : twin instanceof HTMLElement ? twin : null;
      // Its action is still running (act() disabled it): act() settles again when it is done.
      if (live && 'disabled' in live && live.disabled) return;
      const section = sections.find((s) => s.isConnected);
      const heading = section ? section.querySelector('h2, h3') : null;
      const target = live || heading || document.getElementById('main');
      if (!(target instanceof HTMLElement)) return;
      // Headings and <main> take focus from script only.
      if (target === heading || target.id === 'main') target.setAttribute('tabindex', '-1');
      target.focus();
    },
  };
}

/**
 * A modal dialog that gives focus back to its opener when it closes, however it closes
 * (Escape, a cancel or a submit button). When the opener is disabled meanwhile (act() disables
 * the button that opened it until its action is done), act() gives focus back instead.
 * @param {string} title
 * @param {Child[]} content
 */
function dialogShell(title, ...content) {
  const back = focusReturn(document.activeElement);
  const heading = h('h2', { id: 'dialog-title' }, title);
  const dialog = h('dialog', { 'aria-labelledby': 'dialog-title', class: 'dialog' }, heading, content);
  dialog.addEventListener('close', () => {
    dialog.remove();
    back.settle();
  });
  document.body.appendChild(dialog);
  return dialog;
}

/**
 * A modal confirmation. Resolves true when confirmed; Escape or the cancel button resolve false.
 * Focus starts on the safe choice.
 * @param {{ title: string, body: Child, confirmLabel: string, cancelLabel?: string, danger?: boolean }} options
 * @returns {Promise<boolean>}
 */
export function confirmDialog({ title, body, confirmLabel, cancelLabel = 'Cancel', danger = false }) {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: danger ? 'danger' : 'primary' }, confirmLabel);
    const no = h('button', { type: 'button' }, cancelLabel);
    const dialog = dialogShell(title, h('div', { class: 'dialog-body' }, body), h('div', { class: 'actions' }, ok, no));
    let answer = false;
    ok.addEventListener('click', () => {
      answer = true;
      dialog.close();
    });
    no.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => resolve(answer));
    dialog.showModal();
    no.focus();
  });
}

/**
 * A modal with one text field. Resolves the trimmed value, or null when cancelled.
 * @param {{ title: string, label: string, value?: string, submitLabel: string, maxLength?: number, help?: string }} options
 * @returns {Promise<string | null>}
 */
export function promptDialog({ title, label, value = '', submitLabel, maxLength = 200, help }) {
  return new Promise((resolve) => {
    const input = h('input', { id: 'dialog-input', name: 'value', value, maxlength: maxLength, required: true, autocomplete: 'off' });
    const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    /** @type {string | null} */
    let answer = null;
    const form = h(
      'form',
      { class: 'stack', method: 'dialog' },
      h('label', { for: 'dialog-input' }, label),
      input,
      help ? h('p', { class: 'muted small' }, help) : null,
      h('div', { class: 'actions' }, submit, cancel),
    );
    const dialog = dialogShell(title, form);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const v = input.value.trim();
      if (!v) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      answer = v;
      dialog.close();
    });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => resolve(answer));
    dialog.showModal();
    input.focus();
    input.select();
  });
}

const numberFormat = new Intl.NumberFormat('en-US');

/** @param {number | null | undefined} n */
export function fmtNumber(n) {
  return n === null || n === undefined ? '—' : numberFormat.format(n);
}

/** @param {number | null | undefined} rate a fraction: 0.5 is 50% */
export function fmtPercent(rate) {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 1000) / 10}%`;
}

/**
 * "12 s ago" or "in 20 s" for times near now, else the local date and time (the browser's zone).
 * @param {string | null | undefined} iso
 */
export function fmtAgo(iso) {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  const ahead = t - Date.now() > 1000;
  const s = Math.round(Math.abs(Date.now() - t) / 1000);
  const span = s < 60 ? `${s} s` : s < 3600 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 3600)} h`;
  if (s >= 86400) return new Date(t).toLocaleString();
  if (ahead) return `in ${span}`;
  if (s < 5) return 'just now';
  return `${span} ago`;
}

/**
 * How long ago, without the "ago": the age of something waiting ("3 min").
 * @param {string | null | undefined} iso
 */
export function fmtAge(iso) {
  if (!iso) return '—';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

/**
 * A <time> element showing fmtAgo, with the exact local time on hover.
 * @param {string | null | undefined} iso
 */
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: iso, title: new Date(iso).toLocaleString() }, fmtAgo(iso));
}

/**
 * Runs an action from a button: disables it meanwhile, shows failures in the alert region.
 * @template T
 * @param {HTMLButtonElement | null} button
 * @param {() => Promise<T>} fn
 * @returns {Promise<T | undefined>} what fn returned, or undefined when it failed
 */
export async function act(button, fn) {
  // Focus comes back here when the action is over: a disabled button loses focus, and a dialog
  // the action opens cannot give it back to a disabled button.
  const back = focusReturn(button);
  if (button) button.disabled = true;
  showError(null);
  try {
    return await fn();
  } catch (err) {
    // Everything thrown here is an Error (ApiFailure included; DOMException is one too).
    showError(err instanceof Error && err.message ? err.message : String(err));
    return undefined;
  } finally {
    if (button && button.isConnected) button.disabled = false;
    back.settle();
  }
}
