// @ts-check
// The chart's time axis: ticks at round times of the browser's own clock (every 10 s, 5 min,
// 1 h, 1 day…, chosen so a handful fit), labelled in its time zone and locale.

const S = 1000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** @typedef {'second' | 'minute' | 'hour' | 'day'} Unit */

/** Tick spacings, finest first: [how many, unit, its length in ms]. @type {[number, Unit, number][]} */
const STEPS = [
  [1, 'second', S],
  [5, 'second', 5 * S],
  [10, 'second', 10 * S],
  [15, 'second', 15 * S],
  [30, 'second', 30 * S],
  [1, 'minute', MIN],
  [2, 'minute', 2 * MIN],
  [5, 'minute', 5 * MIN],
  [10, 'minute', 10 * MIN],
  [15, 'minute', 15 * MIN],
  [30, 'minute', 30 * MIN],
  [1, 'hour', HOUR],
  [2, 'hour', 2 * HOUR],
  [3, 'hour', 3 * HOUR],
  [6, 'hour', 6 * HOUR],
  [12, 'hour', 12 * HOUR],
  [1, 'day', DAY],
  [2, 'day', 2 * DAY],
  [7, 'day', 7 * DAY],
  [14, 'day', 14 * DAY],
];

/** @type {[number, Unit, number]} */
const COARSEST = [28, 'day', 28 * DAY];

const seconds = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });
const minutes = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' });
const days = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });
const full = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' });

/** The browser's time zone, as the axis is drawn in it (e.g. "Europe/Paris"). */
export const TIME_ZONE = new Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * A time in full, for tooltips and the event list: "Mar 3, 10:42:05 AM" in the browser's zone.
 * @param {number} t epoch ms
 */
export function fullTime(t) {
  return full.format(t);
}

/**
 * The first tick at or after t: t rounded up to a multiple of n units on the local clock.
 * Local fields (not epoch arithmetic) keep ticks on the hour in zones a half hour off UTC and
 * across daylight-saving changes.
 * @param {number} t
 * @param {number} n
 * @param {Unit} unit
 */
function firstTick(t, n, unit) {
  const d = new Date(t);
  if (unit === 'second') d.setSeconds(Math.floor(d.getSeconds() / n) * n, 0);
  else if (unit === 'minute') d.setMinutes(Math.floor(d.getMinutes() / n) * n, 0, 0);
  else if (unit === 'hour') d.setHours(Math.floor(d.getHours() / n) * n, 0, 0, 0);
  else d.setHours(0, 0, 0, 0);
  while (d.getTime() < t) advance(d, n, unit);
  return d;
}

/**
 * @param {Date} d moved n units on
 * @param {number} n
 * @param {Unit} unit
 */
function advance(d, n, unit) {
  if (unit === 'second') d.setSeconds(d.getSeconds() + n);
  else if (unit === 'minute') d.setMinutes(d.getMinutes() + n);
  else if (unit === 'hour') d.setHours(d.getHours() + n);
  else d.setDate(d.getDate() + n);
}

/**
 * @param {Date} d
 * @param {Unit} unit
 */
function label(d, unit) {
  if (unit === 'day' || (d.getHours() === 0 && d.getMinutes() === 0 && d.getSeconds() === 0)) return days.format(d);
  return unit === 'second' ? seconds.format(d) : minutes.format(d);
}

/**
 * Ticks between t0 and t1 (epoch ms): the finest spacing whose labels fit side by side in
 * `width` (in the units of `charWidth`, the width of one character of a label, gap included).
 * @param {number} t0
 * @param {number} t1
 * @param {number} width
 * @param {number} charWidth
 * @returns {{ t: number, label: string }[]}
 */
export function timeTicks(t0, t1, width, charWidth) {
  const span = Math.max(1, t1 - t0);
  // The longest label a unit can have (a date where a day begins), plus two characters of gap.
  const room = (/** @type {Unit} */ unit) => (Math.max(label(new Date(t1), unit).length, days.format(t1).length) + 2) * charWidth;
  const [n, unit] = STEPS.find(([, u, ms]) => (Math.floor(span / ms) + 1) * room(u) <= width) ?? COARSEST;
  const ticks = [];
  for (const d = firstTick(t0, n, unit); d.getTime() <= t1; advance(d, n, unit)) ticks.push({ t: d.getTime(), label: label(d, unit) });
  return ticks;
}
