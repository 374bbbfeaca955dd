// @ts-check
// A small inline SVG line chart: members Tailor has sent and X's audience_size over time, from
// GET /api/v1/audiences/:id/history. No library; styled by style.css (.chart-*).
import { fmtNumber, h, s } from './dom.js';

/** @typedef {import('./types.js').Sample} Sample */

// The card shows the chart about 500 px wide; a viewBox near that keeps its labels legible.
const W = 520;
const H = 220;
const PAD = { left: 52, right: 14, top: 14, bottom: 30 };

/** @param {number} t epoch ms */
const clock = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });

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
 * @param {Sample[] | null | undefined} samples oldest first
 * @param {string} label what the chart shows, for its accessible summary
 */
export function chart(samples, label) {
  const figure = h('figure', { class: 'chart' });
  if (!samples || samples.length === 0) {
    figure.appendChild(h('p', { class: 'muted small' }, 'The chart fills in as Tailor checks X (every refresh).'));
    return figure;
  }
  const times = samples.map((p) => Date.parse(p.at));
  const t0 = Math.min(...times);
  const t1 = Math.max(...times);
  const top = Math.max(1, ...samples.map((p) => Math.max(p.members || 0, p.audience_size || 0)));
  const yMax = Math.ceil((top * 1.1) / 10) * 10 || 10;
  /** @param {number} t */
  const x = (t) => (t1 === t0 ? PAD.left + (W - PAD.left - PAD.right) / 2 : PAD.left + ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
  /** @param {number} v */
  const y = (v) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);

  const series = [
    { key: 'sent', name: 'Members sent', points: samples.map((p, i) => ({ t: times[i], y: p.members })) },
    { key: 'size', name: 'X audience size', points: samples.map((p, i) => ({ t: times[i], y: p.audience_size })) },
  ];
  const last = samples[samples.length - 1];
  const summary = `${label}: ${samples.length} samples from ${clock(t0)} to ${clock(t1)}. Latest: ${fmtNumber(last.members)} members sent, X size ${last.audience_size === null ? 'not reported yet' : fmtNumber(last.audience_size)}.`;

  const id = `chart-${Math.random().toString(36).slice(2, 9)}`;
  const svg = s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': `${id}-t`, class: 'chart-svg', preserveAspectRatio: 'xMidYMid meet' },
    s('title', { id: `${id}-t` }, summary),
    // Axes and guides.
    s('line', { x1: PAD.left, y1: H - PAD.bottom, x2: W - PAD.right, y2: H - PAD.bottom, class: 'chart-axis' }),
    s('line', { x1: PAD.left, y1: PAD.top, x2: PAD.left, y2: H - PAD.bottom, class: 'chart-axis' }),
    s('line', { x1: PAD.left, y1: y(yMax / 2), x2: W - PAD.right, y2: y(yMax / 2), class: 'chart-grid' }),
    s('line', { x1: PAD.left, y1: y(yMax), x2: W - PAD.right, y2: y(yMax), class: 'chart-grid' }),
    s('text', { x: PAD.left - 6, y: y(0) + 4, class: 'chart-label', 'text-anchor': 'end' }, '0'),
    s('text', { x: PAD.left - 6, y: y(yMax / 2) + 4, class: 'chart-label', 'text-anchor': 'end' }, fmtNumber(yMax / 2)),
    s('text', { x: PAD.left - 6, y: y(yMax) + 4, class: 'chart-label', 'text-anchor': 'end' }, fmtNumber(yMax)),
    s('text', { x: PAD.left, y: H - 8, class: 'chart-label', 'text-anchor': 'start' }, clock(t0)),
    t1 === t0 ? null : s('text', { x: W - PAD.right, y: H - 8, class: 'chart-label', 'text-anchor': 'end' }, clock(t1)),
    series.map((line) =>
      segments(line.points).map((seg) => [
        seg.length > 1
          ? s('polyline', { points: seg.map((p) => `${x(p.t).toFixed(1)},${y(p.y).toFixed(1)}`).join(' '), class: `chart-line chart-${line.key}` })
          : null,
        seg.map((p) => s('circle', { cx: x(p.t).toFixed(1), cy: y(p.y).toFixed(1), r: 3, class: `chart-dot chart-${line.key}` })),
      ]),
    ),
  );
  figure.appendChild(svg);
  figure.appendChild(
    h(
      'figcaption',
      { class: 'chart-legend' },
      h('span', { class: 'swatch swatch-sent', 'aria-hidden': 'true' }),
      ' Members sent ',
      h('span', { class: 'swatch swatch-size', 'aria-hidden': 'true' }),
      ' X audience size',
    ),
  );
  return figure;
}
