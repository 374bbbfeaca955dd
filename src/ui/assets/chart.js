// @ts-check
// A small inline SVG line chart of one X audience: members Tailor has sent and X's audience_size
// over time (GET /api/v1/audiences/:id/history), on a time axis in the browser's zone, with
// markers for what happened (paused, resumed, re-created, renamed) and a tooltip on each sample,
// by pointer or by keyboard (arrow keys once the chart has focus). No library; styled by
// status.css and style.css (.chart-*).
import { append, fmtNumber, h, s } from './dom.js';
import { TIME_ZONE, fullTime, timeTicks } from './time-axis.js';

/** @typedef {import('./types.js').Sample} Sample */
/** @typedef {import('./types.js').ChartEvent} ChartEvent */

// The card shows the chart about 500 px wide, or the screen's width on a phone: a viewBox near
// that keeps its labels legible (it is drawn anew at each update, so a rotated phone follows).
const NARROW = '(max-width: 720px)';
const size = () => (window.matchMedia(NARROW).matches ? { W: 360, H: 210 } : { W: 520, H: 240 });
const PAD = { left: 52, right: 14, top: 24, bottom: 30 };
/** A chart shorter than this (one sample) is widened to it, back in time, so its axis has ticks. */
const MIN_SPAN_MS = 60_000;
/** Events listed under the chart, newest first; older ones stay marked on it. */
const EVENTS_LISTED = 6;
/** The width of one character of a 12 px label, in viewBox units (a little over the average, so labels never touch). */
const CHAR_W = 7;

/** @type {Record<ChartEvent['kind'], string>} */
const MARK = { paused: 'paused', resumed: 'resumed', recreated: 're-created', renamed: 'renamed' };

/** @param {ChartEvent} e */
export function eventWords(e) {
  if (e.kind === 'paused') return 'Paused: its X configuration needs re-authorization; changes wait.';
  if (e.kind === 'resumed') return 'Resumed: the X configuration was re-authorized.';
  if (e.kind === 'recreated')
    return `Re-created: X lost ${e.detail ? `the X audience ${e.detail}` : 'the X audience'}; campaigns must be re-pointed to the new id.`;
  return `Renamed on X to “${e.detail || ''}”.`;
}

/**
 * Where each chart's tooltip points (its sample's time), by chart key: a chart redrawn with new
 * samples keeps the tooltip its reader is looking at.
 * @type {Map<string, number>}
 */
const selected = new Map();

/**
 * Splits a series at missing values (X had no size yet), so the line shows the gap.
 * @param {{ t: number, y: number | null | undefined }[]} points
 * @returns {{ t: number, y: number }[][]}
 */
function segments(points) {
  /** @type {{ t: number, y: number }[][]} */
  const out = [];
  /** @type {{ t: number, y: number }[]} */
  let current = [];
  for (const p of points) {
    if (p.y === null || p.y === undefined) {
      if (current.length) out.push(current);
      current = [];
    } else current.push({ t: p.t, y: p.y });
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Paused spans: from each pause to the next resume, or to the chart's end while still paused.
 * @param {{ t: number, e: ChartEvent }[]} marks oldest first
 * @param {number} end
 */
function pausedSpans(marks, end) {
  /** @type {[number, number][]} */
  const spans = [];
  /** @type {number | null} */
  let from = null;
  for (const m of marks) {
    if (m.e.kind === 'paused' && from === null) from = m.t;
    if (m.e.kind === 'resumed' && from !== null) {
      spans.push([from, m.t]);
      from = null;
    }
  }
  if (from !== null) spans.push([from, end]);
  return spans;
}

/**
 * @param {{ t: number, e: ChartEvent }[]} marks oldest first
 * @param {(t: number) => number} x
 * @param {number} bottom
 * @param {number} W the chart's width
 */
function markers(marks, x, bottom, W) {
  // Named newest first: when names would collide, the latest events keep theirs.
  /** @type {Set<number>} */
  const named = new Set();
  let limit = Infinity;
  for (let i = marks.length - 1; i >= 0; i--) {
    const m = marks[i];
    if (!m) continue;
    const { from, width } = markerLabel(m, x, W);
    if (from + width + MARK_GAP <= limit) {
      named.add(i);
      limit = from;
    }
  }
  return marks.map((m, i) => {
    const mx = x(m.t);
    const { end } = markerLabel(m, x, W);
    return s(
      'g',
      { class: `chart-marker chart-marker-${m.e.kind}` },
      s('title', {}, `${fullTime(m.t)}: ${eventWords(m.e)}`),
      s('line', { x1: mx.toFixed(1), y1: PAD.top - 4, x2: mx.toFixed(1), y2: bottom }),
      named.has(i) ? s('text', { x: mx.toFixed(1), y: PAD.top - 8, 'text-anchor': end ? 'end' : 'start', class: 'chart-marker-label' }, MARK[m.e.kind]) : null,
    );
  });
}

/** Room between two marker names, in viewBox units. */
const MARK_GAP = 8;

/**
 * Where a marker's name goes: right of its line, or left of it by the chart's right edge.
 * @param {{ t: number, e: ChartEvent }} m
 * @param {(t: number) => number} x
 * @param {number} W
 */
function markerLabel(m, x, W) {
  const mx = x(m.t);
  // 11 px bold: a little over 7 units a character.
  const width = MARK[m.e.kind].length * 7.4;
  const end = mx > W - PAD.right - width;
  return { from: end ? mx - width : mx, width, end };
}

/**
 * The time axis's ticks and labels. A label by an edge is set against it (so it stays inside);
 * one that would then run into its neighbour is left out, its tick kept.
 * @param {{ t: number, label: string }[]} ticks
 * @param {(t: number) => number} x
 * @param {number} bottom
 * @param {number} W
 * @param {number} H
 */
function tickMarks(ticks, x, bottom, W, H) {
  let free = -Infinity;
  return ticks.map((tk) => {
    const tx = x(tk.t);
    const width = tk.label.length * CHAR_W;
    const anchor = tx - width / 2 < 0 ? 'start' : tx + width / 2 > W ? 'end' : 'middle';
    const from = anchor === 'start' ? tx : anchor === 'end' ? tx - width : tx - width / 2;
    const labelled = from >= free;
    if (labelled) free = from + width + CHAR_W;
    return [
      s('line', { x1: tx.toFixed(1), y1: bottom, x2: tx.toFixed(1), y2: bottom + 4, class: 'chart-axis chart-tick-mark', 'data-t': tk.t }),
      labelled ? s('text', { x: tx.toFixed(1), y: H - 10, class: 'chart-label chart-tick', 'text-anchor': anchor, 'data-t': tk.t }, tk.label) : null,
    ];
  });
}

/** @param {Sample} p */
const sampleWords = (p) => `${fmtNumber(p.members)} members sent · X size ${p.audience_size === null ? 'not reported' : fmtNumber(p.audience_size)}`;

/**
 * @param {{ samples: Sample[], events: ChartEvent[], label: string, key: string }} o samples and events oldest first
 */
export function chart({ samples, events, label, key }) {
  const figure = h('figure', { class: 'chart' });
  if (samples.length === 0 && events.length === 0) {
    figure.appendChild(h('p', { class: 'muted small' }, 'The chart fills in as Tailor checks X (every refresh).'));
    return figure;
  }
  const { W, H } = size();
  const times = samples.map((p) => Date.parse(p.at));
  const marks = events.map((e) => ({ t: Date.parse(e.at), e }));
  const all = [...times, ...marks.map((m) => m.t)];
  let t0 = Math.min(...all);
  const t1 = Math.max(...all);
  // A young chart shows the last minute: its samples at the right, where new ones arrive.
  if (t1 - t0 < MIN_SPAN_MS) t0 = t1 - MIN_SPAN_MS;
  const top = Math.max(1, ...samples.map((p) => Math.max(p.members || 0, p.audience_size || 0)));
  const yMax = Math.ceil((top * 1.1) / 10) * 10 || 10;
  /** @param {number} t */
  const x = (t) => PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right);
  /** @param {number} v */
  const y = (v) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const bottom = H - PAD.bottom;

  const series = [
    { key: 'sent', points: samples.map((p, i) => ({ t: times[i] ?? 0, y: p.members })) },
    { key: 'size', points: samples.map((p, i) => ({ t: times[i] ?? 0, y: p.audience_size })) },
  ];
  const last = samples.at(-1);
  const summary = [
    `${label}: ${samples.length} samples`,
    samples.length ? ` from ${fullTime(times[0] ?? t0)} to ${fullTime(times.at(-1) ?? t1)}` : '',
    last ? `. Latest: ${sampleWords(last)}` : '',
    marks.length ? `. Marked: ${marks.map((m) => `${MARK[m.e.kind]} at ${fullTime(m.t)}`).join(', ')}` : '',
    '. Use the arrow keys to read each sample.',
  ].join('');

  const id = `chart-${key.replace(/[^\w-]/g, '-')}`;
  const ticks = timeTicks(t0, t1, W - PAD.left - PAD.right, CHAR_W);
  const guide = s('line', { x1: 0, y1: PAD.top, x2: 0, y2: bottom, class: 'chart-guide', visibility: 'hidden' });
  const hot = series.map((line) => s('circle', { r: 5, class: `chart-hot chart-${line.key}`, visibility: 'hidden' }));
  const tip = h('div', { class: 'chart-tip', id: `${id}-tip`, role: 'status', hidden: true });
  const svg = s(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-labelledby': `${id}-t`,
      class: 'chart-svg',
      preserveAspectRatio: 'xMidYMid meet',
      tabindex: samples.length ? '0' : null,
      'data-key': id,
    },
    s('title', { id: `${id}-t` }, summary),
    pausedSpans(marks, t1).map(([a, b]) =>
      s('rect', { x: x(a).toFixed(1), y: PAD.top, width: Math.max(1, x(b) - x(a)).toFixed(1), height: bottom - PAD.top, class: 'chart-paused' }),
    ),
    // Value axis and guides.
    s('line', { x1: PAD.left, y1: bottom, x2: W - PAD.right, y2: bottom, class: 'chart-axis' }),
    s('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: bottom, class: 'chart-axis' }),
    [yMax / 2, yMax].map((v) => s('line', { x1: PAD.left, y1: y(v), x2: W - PAD.right, y2: y(v), class: 'chart-grid' })),
    [0, yMax / 2, yMax].map((v) => s('text', { x: PAD.left - 6, y: y(v) + 4, class: 'chart-label', 'text-anchor': 'end' }, fmtNumber(v))),
    // Time axis: round times of the browser's clock.
    tickMarks(ticks, x, bottom, W, H),
    // What happened, each a line with its name in words (and in full on hover); a name that
    // would run into the one before is left out (the list below the chart names every event).
    markers(marks, x, bottom, W),
    series.map((line) =>
      segments(line.points).map((seg) => [
        seg.length > 1
          ? s('polyline', { points: seg.map((p) => `${x(p.t).toFixed(1)},${y(p.y).toFixed(1)}`).join(' '), class: `chart-line chart-${line.key}` })
          : null,
        seg.map((p) => s('circle', { cx: x(p.t).toFixed(1), cy: y(p.y).toFixed(1), r: 3, class: `chart-dot chart-${line.key}` })),
      ]),
    ),
    guide,
    hot,
  );

  /** Shows the tooltip on sample i, or hides it (null). @param {number | null} i */
  function show(i) {
    const p = i === null ? undefined : samples[i];
    const t = i === null ? undefined : times[i];
    if (i === null || !p || t === undefined) {
      selected.delete(key);
      tip.hidden = true;
      guide.setAttribute('visibility', 'hidden');
      for (const c of hot) c.setAttribute('visibility', 'hidden');
      return;
    }
    selected.set(key, t);
    const gx = x(t).toFixed(1);
    guide.setAttribute('x1', gx);
    guide.setAttribute('x2', gx);
    guide.setAttribute('visibility', 'visible');
    [p.members, p.audience_size].forEach((v, k) => {
      const c = hot[k];
      if (!c) return;
      c.setAttribute('cx', gx);
      c.setAttribute('cy', v === null ? '0' : y(v).toFixed(1));
      c.setAttribute('visibility', v === null ? 'hidden' : 'visible');
    });
    tip.textContent = `${fullTime(t)} — ${sampleWords(p)}`;
    tip.hidden = false;
    // Beside the sample, kept inside the chart.
    const share = (x(t) - PAD.left) / (W - PAD.left - PAD.right);
    tip.style.left = `${Math.round(Math.min(0.62, Math.max(0.02, share - 0.2)) * 100)}%`;
  }

  /** The sample nearest to time t. @param {number} t */
  const nearest = (t) => {
    let best = 0;
    for (let i = 1; i < times.length; i++) if (Math.abs((times[i] ?? 0) - t) < Math.abs((times[best] ?? 0) - t)) best = i;
    return best;
  };
  const current = () => {
    const t = selected.get(key);
    return t === undefined ? null : nearest(t);
  };

  if (samples.length) {
    svg.addEventListener('pointermove', (event) => {
      const box = svg.getBoundingClientRect();
      const vx = ((event.clientX - box.left) / box.width) * W;
      show(nearest(t0 + ((vx - PAD.left) / (W - PAD.left - PAD.right)) * (t1 - t0)));
    });
    svg.addEventListener('pointerleave', () => show(null));
    svg.addEventListener('focus', () => show(current() ?? samples.length - 1));
    svg.addEventListener('blur', () => show(null));
    svg.addEventListener('keydown', (event) => {
      const i = current() ?? samples.length - 1;
      const to = { ArrowLeft: i - 1, ArrowRight: i + 1, Home: 0, End: samples.length - 1 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      show(Math.max(0, Math.min(samples.length - 1, to)));
    });
  }

  append(
    figure,
    h('div', { class: 'chart-frame' }, svg, tip),
    h(
      'figcaption',
      { class: 'chart-legend' },
      h('span', { class: 'swatch swatch-sent', 'aria-hidden': 'true' }),
      ' Members sent ',
      h('span', { class: 'swatch swatch-size', 'aria-hidden': 'true' }),
      ' X audience size',
      marks.length ? [' ', h('span', { class: 'swatch swatch-paused', 'aria-hidden': 'true' }), ' paused'] : null,
      h('span', { class: 'chart-zone' }, ` · times in ${TIME_ZONE}`),
    ),
    marks.length
      ? h(
          'ul',
          { class: 'chart-events small', 'aria-label': 'What happened, newest first' },
          marks
            .slice(-EVENTS_LISTED)
            .reverse()
            .map((m) => h('li', {}, h('time', { datetime: m.e.at }, fullTime(m.t)), ' ', eventWords(m.e))),
          marks.length > EVENTS_LISTED ? h('li', { class: 'muted' }, `and ${marks.length - EVENTS_LISTED} earlier (marked on the chart)`) : null,
        )
      : null,
  );
  // A chart redrawn while its reader looks at a sample shows that sample again.
  const again = current();
  if (again !== null) show(again);
  return figure;
}
