// @ts-check
// The header's "needs attention" count (issue 16): audiences with an X audience paused,
// failing, being re-created or not targetable. A link to the list filtered to them.

/** @param {number} n */
export function showAttention(n) {
  const el = document.getElementById('attention-count');
  if (!(el instanceof HTMLAnchorElement)) return;
  el.hidden = n === 0;
  const text = `${n} need${n === 1 ? 's' : ''} attention`;
  el.textContent = text;
  // The accessible name starts with the visible text (WCAG 2.5.3, axe label-content-name-mismatch),
  // so a voice user can say what they see.
  el.setAttribute('aria-label', `${text}: show ${n === 1 ? 'that audience' : 'those audiences'}`);
}
