// @ts-check
// Live updates: polls the JSON API every couple of seconds (slower while the tab is hidden or
// Tailor does not answer), and says so when contact is lost or back; a lasting banner says how
// old the figures are while it is lost (offline.js).
import { announce } from './dom.js';
import { lostTailor, reachedTailor } from './offline.js';

/** Every 2 s: fresh enough to watch a batch go out, light on a two-core server. */
const EVERY_MS = 2000;
/** A hidden tab checks in every 20 s. */
const HIDDEN_MS = 20000;

/**
 * Calls fn now and then every EVERY_MS (backing off while it fails), one call at a time.
 * @param {() => Promise<void>} fn
 * @returns {{ refresh: () => Promise<void> }}
 */
export function poll(fn) {
  /** @type {number | undefined} */
  let timer;
  /** @type {Promise<void> | null} */
  let running = null;
  let failures = 0;

  const schedule = () => {
    window.clearTimeout(timer);
    const delay = document.hidden ? HIDDEN_MS : EVERY_MS * Math.min(8, 2 ** failures);
    timer = window.setTimeout(() => void tick(), delay);
  };

  /** @returns {Promise<void>} */
  const tick = () => {
    if (running) return running;
    running = (async () => {
      try {
        await fn();
        // The page's figures are in: it is no longer loading (the views show "Loading…" until then).
        document.getElementById('view')?.removeAttribute('aria-busy');
        reachedTailor();
        if (failures > 0) announce('Back in contact with Tailor.');
        failures = 0;
      } catch (err) {
        failures += 1;
        if (!(err && /** @type {{ status?: number }} */ (err).status === 401)) lostTailor();
        // Usually an ApiFailure (a 401 is already on its way to the sign-in page), else any Error.
        const e = /** @type {{ status?: number, message?: string } | null | undefined} */ (err);
        if (failures === 1 && e && e.status !== 401) announce(`Lost contact with Tailor. ${sentence(e.message)} Retrying.`, { warn: true });
      } finally {
        running = null;
        schedule();
      }
    })();
    return running;
  };

  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void tick();
  });
  void tick();
  // After an action: wait out a poll already in flight (its data may predate the action), then fetch anew.
  const refresh = async () => {
    if (running) await running;
    return tick();
  };
  return { refresh };
}

/**
 * An error's message as a sentence of its own (it may end in a bracket or a stop already).
 * @param {string | undefined} message
 */
function sentence(message) {
  const m = (message ?? 'no answer').trim();
  return /[.!?]$/.test(m) ? m : `${m}.`;
}
