// @ts-check
// The header's "needs attention" count (issue 16): audiences with an X audience paused,
// failing, being re-created or not targetable. A link to the list filtered to them.

/** @param {number} n */
export function showAttention(n) {
  const el = document.getElementById('attention-count');
  if (!(el instanceof HTMLAnchorElement)) return;
  el.hidden = n === 0;
  el.textContent = `${n} need${n === 1 ? 's' : ''} attention`;
  el.setAttribute('aria-label', `${n} audience${n === 1 ? '' : 's'} need attention: show them`);
}
