/**
 * docs/alerts/tailor.rules.yml and docs/dashboards/tailor.json: the rules pass `promtool check
 * rules`, and every metric either names is one a real Tailor exposes on GET /metrics.
 *
 * promtool comes from Debian's `prometheus` package (`.ci/run` installs it). Outside CI a machine
 * without it skips that one check and says so; in CI (CI=true) its absence fails the run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { testServices } from '../support/services.ts';

const RULES = 'docs/alerts/tailor.rules.yml';
const DASHBOARD = 'docs/dashboards/tailor.json';

function findPromtool(): string | null {
  const r = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : null;
}
const promtool = findPromtool();
const inCi = process.env.CI === 'true';

/** The `expr:` of every rule: one line, or a `|` block of deeper-indented lines. */
export function ruleExpressions(yaml: string): string[] {
  const lines = yaml.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i += 1) {
    const m = /^(\s*)expr:\s*(.*)$/.exec(lines[i]!);
    if (!m) continue;
    if (m[2] !== '|' && m[2] !== '>') {
      out.push(m[2]!);
      continue;
    }
    const block: string[] = [];
    while (i + 1 < lines.length && (lines[i + 1]!.trim() === '' || lines[i + 1]!.search(/\S/) > m[1]!.length)) block.push(lines[(i += 1)]!.trim());
    out.push(block.join(' '));
  }
  return out;
}

/** PromQL's own words: functions, aggregations, keywords. Anything else bare is a metric name. */
const PROMQL_WORDS = new Set(
  (
    'sum min max avg count stddev stdvar topk bottomk quantile count_values group by without on ignoring group_left group_right bool and or unless offset ' +
    'rate irate increase delta idelta deriv histogram_quantile max_over_time min_over_time avg_over_time sum_over_time count_over_time last_over_time ' +
    'abs ceil floor round clamp clamp_min clamp_max vector scalar time absent absent_over_time changes resets label_replace label_join label_values sort sort_desc humanizePercentage inf nan'
  ).split(' '),
);

export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\boffset\s+\d+[smhdwy]/g, '')
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, '');
  const words = bare.match(/[A-Za-z_:][A-Za-z0-9_:]*/g) ?? [];
  // label_values(metric, label): the second argument is a label.
  const labelArgs = [...expr.matchAll(/label_values\(\s*[A-Za-z_:][A-Za-z0-9_:]*\s*,\s*([A-Za-z_]+)\s*\)/g)].map((m) => m[1]);
  return [...new Set(words.filter((w) => !PROMQL_WORDS.has(w) && !labelArgs.includes(w)))];
}

function dashboardExpressions(): string[] {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of d.templating.list) if (typeof v.query === 'object' && v.query !== null && 'query' in v.query) exprs.push(String(v.query.query));
  return exprs;
}

describe('alerting rules and dashboard', () => {
  let exposed: Set<string>;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tailor-rules-'));
    const store = SqliteStore.open(join(dir, 'tailor.db'));
    const app = await buildServer(testServices(store), { adminToken: 'rules-test-admin-token-0123', firehoseToken: null });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    await app.close();
    await store.close();
    expect(res.statusCode).toBe(200);
    // Every registered metric has its TYPE line, values or not; histograms add their series.
    exposed = new Set(['up']); // Prometheus's own, per scrape target
    for (const m of res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exposed.add(m[1]!);
      if (m[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) exposed.add(`${m[1]}${s}`);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  if (promtool !== null || inCi)
    it('pass promtool check rules', () => {
      expect(promtool, 'promtool is required in CI (apt-get install -y prometheus)').not.toBeNull();
      const out = execFileSync(promtool!, ['check', 'rules', RULES], { encoding: 'utf8' });
      expect(out).toMatch(/SUCCESS: \d+ rules found/);
    });
  else it.skip('pass promtool check rules — SKIPPED: promtool is not installed (apt-get install -y prometheus); CI=true makes this a failure', () => {});

  it('finds metric names the way PromQL reads them', () => {
    expect(metricNames('sum by (le) (rate(tailor_x{route="/a b"}[5m] offset 10m)) / on() max(up{job="t"}) > 0.5')).toEqual(['tailor_x', 'up']);
    expect(metricNames('label_values(tailor_pending_changes, audience)')).toEqual(['tailor_pending_changes']);
  });

  it('use only metrics Tailor exposes, rules and dashboard alike', () => {
    const rules = ruleExpressions(readFileSync(RULES, 'utf8'));
    const panels = dashboardExpressions();
    expect(rules.length).toBeGreaterThanOrEqual(8);
    expect(panels.length).toBeGreaterThanOrEqual(20);
    const used = new Set([...rules, ...panels].flatMap(metricNames));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((m) => !exposed.has(m))).toEqual([]);
  });
});
