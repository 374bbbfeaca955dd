// @ts-check
// The X login popup's own pages: tell the Tailor page that opened the popup how the login ended
// (same origin only), close after a save, and make "Cancel" / "Close" buttons work.

const result = document.body.dataset.popupResult;
// The DOM lib types window.opener as any; name it before use (a JSDoc cast alone hides it from the linter).
/** @type {unknown} */
const openerValue = window.opener;
const openedBy = /** @type {Window | null} */ (openerValue);
const opener = openedBy && !openedBy.closed ? openedBy : null;

/**
 * @param {string | null} outcome 'saved', 'cancelled' or 'failed'
 * @returns {boolean} whether the opener was told
 */
function tell(outcome) {
  if (!opener) return false;
  try {
    opener.postMessage({ type: 'tailor:x-login', result: outcome, configurationId: document.body.dataset.configurationId || null }, window.location.origin);
    return true;
  } catch {
    return false;
  }
}

for (const button of document.querySelectorAll('[data-popup-close]')) {
  button.addEventListener('click', () => {
    tell(button.getAttribute('data-popup-close'));
    if (opener) window.close();
    else window.location.assign('/outputs');
  });
}

if (result) {
  const told = tell(result);
  if (!told) {
    for (const el of document.querySelectorAll('[data-no-opener]')) if (el instanceof HTMLElement) el.hidden = false;
  } else if (result === 'saved') {
    window.close();
  }
}
