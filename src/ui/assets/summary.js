// @ts-check
// Health at a glance (issue 16): one line per audience, "3 X audiences · all targetable · 540
// members · last sync 3 s ago · no errors", from the audience view alone.
import { fmtAgo, fmtNumber } from './dom.js';

/** @typedef {import('./types.js').Audience} Audience */
/** @typedef {import('./types.js').Downstream} Downstream */

/** @param {Audience} a */
function liveDownstreams(a) {
  return a.connections.flatMap((c) => c.downstream_audiences).filter((d) => d.state !== 'deleting' && d.state !== 'deleted');
}

/**
 * The parts of the line, each a short phrase; `attention` says whether anything needs the user.
 * @param {Audience} a
 * @returns {{ parts: string[], attention: boolean }}
 */
export function healthParts(a) {
  const live = liveDownstreams(a);
  if (a.connections.length === 0) return { parts: [`${fmtNumber(a.members)} members`, 'not connected to X'], attention: false };
  // One that waits for its first member is not on X yet: it is not counted as an X audience.
  const ds = live.filter((d) => d.state !== 'waiting_for_member');
  const waiting = live.length - ds.length;
  const parts = [`${ds.length} X audience${ds.length === 1 ? '' : 's'}`];
  if (waiting) parts.push(`${waiting} waiting for a first member`);
  const sized = ds.filter((d) => d.targetable !== null);
  const targetable = sized.filter((d) => d.targetable).length;
  if (ds.length === 0) parts.push('no X audience yet');
  else if (sized.length === 0) parts.push('not sized by X yet');
  else if (targetable === ds.length) parts.push('all targetable');
  else parts.push(`${targetable} of ${ds.length} targetable`);
  parts.push(`${fmtNumber(a.members)} members`);
  const pending = ds.reduce((n, d) => n + d.pending, 0);
  if (pending) parts.push(`${fmtNumber(pending)} waiting`);
  const synced = ds.map((d) => d.last_synced_at).filter((t) => t !== null);
  const last = synced.length ? synced.reduce((x, y) => (Date.parse(String(x)) > Date.parse(String(y)) ? x : y)) : null;
  parts.push(last ? `last sync ${fmtAgo(last)}` : 'nothing sent yet');
  const paused = ds.filter((d) => d.state === 'paused').length;
  const failing = ds.filter((d) => d.last_error && !d.last_error_resolved_at && d.state !== 'paused').length;
  if (paused) parts.push(`${paused} paused (re-authorize)`);
  parts.push(failing ? `${failing} failing` : 'no errors');
  return { parts, attention: live.some((d) => d.needs_attention) };
}

/** @param {Audience} a */
export function healthLine(a) {
  return healthParts(a).parts.join(' · ');
}
