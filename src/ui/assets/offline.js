// @ts-check
// A lasting notice while polling fails (issue 16): "Cannot reach Tailor — figures as of 10:42",
// shown until an answer comes, so figures that stopped moving never pass for live ones.

/** @type {number} when the last poll answered, epoch ms */
let lastOk = Date.now();

function banner() {
  let el = document.getElementById('offline');
  if (el) return el;
  el = document.createElement('div');
  el.id = 'offline';
  el.className = 'offline';
  el.setAttribute('role', 'status');
  el.hidden = true;
  const view = document.getElementById('view');
  if (view && view.parentNode) view.parentNode.insertBefore(el, view);
  else document.body.prepend(el);
  return el;
}

/** A poll answered: the figures are current. */
export function reachedTailor() {
  lastOk = Date.now();
  const el = document.getElementById('offline');
  if (el) el.hidden = true;
  document.body.classList.remove('stale');
}

/** A poll failed: say since when the figures are old. */
export function lostTailor() {
  const el = banner();
  const at = new Date(lastOk).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  el.textContent = `Cannot reach Tailor — figures as of ${at}. Retrying…`;
  el.hidden = false;
  document.body.classList.add('stale');
}
