/**
 * The audience list at scale (issue 16): 10,000 audiences, each with two X audiences, served by a
 * real `tailor serve` process. Five "tabs" poll every 2 s as the UI's list does
 * (src/ui/assets/view-audiences.js: the first page with If-None-Match, then the deletions waiting
 * on campaigns), while a measurer asks for pages one after another: the first page, a search, the
 * "needs attention" filter, and pages further down by cursor. The bar: one page under 50 ms at p95.
 * Run alone: `npx tsx bench/status-list.ts [audiences] [--quick]`; in `npm run bench` it is the `status-list`
 * section.
 *
 * The downstream audiences are written as X would have left them (active, sized, refreshed now,
 * nothing pending, one in twenty failing) so no worker calls X during the run: the figure is the
 * list's own cost.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downstreamName } from '../src/core/names.ts';
import type { IdentityType } from '../src/core/terms.ts';
import { SqliteStore } from '../src/store/sqlite/index.ts';
import { ADMIN_TOKEN, Emu, TailorProcess } from '../test/e2e/harness.ts';
import { log, quantile } from './lib.ts';

export interface StatusListResult {
  audiences: number;
  tabs: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  seconds: number;
  /** Bytes of one full first page, and how many tab polls were answered 304. */
  pageBytes: number;
  notModified: number;
  tabPolls: number;
  /** The same times per kind of page, to say which one holds the p95 up. */
  byPage: { page: string; requests: number; p50: number; p95: number }[];
}

export async function prepare(path: string, audiences: number): Promise<void> {
  const store = SqliteStore.open(path);
  const now = Date.now();
  const config = await store.putConfiguration(
    { name: 'Bench', accountId: 'bench-acc', accountName: null, xUserId: null, screenName: null, tokens: 'unused' },
    now,
    'cli',
  );
  for (let i = 0; i < audiences; i++) {
    const id = `aud-${i}`;
    await store.putAudience(id, `${i % 7 === 0 ? 'Winter sale' : 'Audience'} ${i} ${'x'.repeat(i % 20)}`, now + i, 'admin_token');
    await store.putConnection(
      id,
      config.configuration.id,
      { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: false, forwardPhoneNumbers: false },
      now + i,
      'admin_token',
    );
  }
  await store.close();
  const db = new Database(path);
  // The name X holds is the one Tailor gives (core/names.ts): any other would be a rename due,
  // and the workers would spend the run calling X.
  const named = db.prepare('UPDATE downstreams SET x_name = ? WHERE id = ?');
  const rows = db.prepare('SELECT d.id, d.identity_type, a.name FROM downstreams d JOIN audiences a ON a.id = d.audience_id').all() as {
    id: number;
    identity_type: IdentityType;
    name: string;
  }[];
  db.transaction(() => {
    for (const r of rows) named.run(downstreamName(r.name, r.identity_type, 1), r.id);
  })();
  db.prepare(
    `UPDATE downstreams SET state = 'active', x_audience_id = 'x' || id, members = 200 + id % 5000,
       sent_adds = 200 + id % 5000, audience_size = 150 + id % 4000, targetable = 1, reasons_not_targetable = '[]',
       refreshed_at = @now, sized_at = @now, sized_members = 200 + id % 5000, last_synced_at = @now`,
  ).run({ now });
  db.prepare(`UPDATE downstreams SET last_error = 'X is unavailable (503)', last_error_at = @later WHERE id % 20 = 0`).run({ later: now + 1 });
  db.prepare('UPDATE audiences SET member_count = 200 + abs(random()) % 5000').run();
  db.close();
}

export async function statusListBench(opts: { audiences: number; seconds: number; tabs: number }): Promise<StatusListResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tailor-bench-list-'));
  const emu = await Emu.start();
  let tailor: TailorProcess | null = null;
  try {
    log(`status list: preparing ${opts.audiences.toLocaleString('en-US')} audiences`);
    await prepare(join(dir, 'tailor.db'), opts.audiences);
    tailor = await TailorProcess.start(emu, { dir, env: { TAILOR_REFRESH_INTERVAL_MS: '86400000' } });
    const base = tailor.url;
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const served = tailor;
    // A request that fails outright names itself, its cause and what Tailor said last.
    const fetch = async (url: string, init: RequestInit): Promise<Response> => {
      try {
        return await globalThis.fetch(url, init);
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        const exited = served.child.exitCode !== null || served.child.signalCode !== null;
        throw new Error(
          `status list: GET ${url.slice(base.length)} failed (${cause?.code ?? cause?.message ?? String(err)})${exited ? `; tailor exited: ${served.logs.slice(-400)}` : ''}`,
          { cause: err },
        );
      }
    };
    const first = await fetch(`${base}/api/v1/audiences?sort=name&limit=50`, { headers });
    const firstBody = await first.text();
    const cursor = (JSON.parse(firstBody) as { next_cursor: string }).next_cursor;

    const until = Date.now() + opts.seconds * 1000;
    let tabPolls = 0;
    let notModified = 0;
    const tab = async (): Promise<void> => {
      let tag: string | null = null;
      while (Date.now() < until) {
        const res = await fetch(`${base}/api/v1/audiences?sort=name&limit=50`, { headers: { ...headers, ...(tag ? { 'if-none-match': tag } : {}) } });
        await res.arrayBuffer();
        tabPolls += 1;
        if (res.status === 304) notModified += 1;
        tag = res.headers.get('etag');
        await (await fetch(`${base}/api/v1/deletions`, { headers })).arrayBuffer();
        await new Promise((r) => setTimeout(r, 2000));
      }
    };
    const pages = [
      { page: 'first page by name', url: '/api/v1/audiences?sort=name&limit=50' },
      { page: 'search, by members', url: '/api/v1/audiences?q=winter&sort=-members&limit=50' },
      { page: 'needs attention', url: '/api/v1/audiences?state=attention&sort=name&limit=50' },
      { page: 'second page by cursor', url: `/api/v1/audiences?sort=name&limit=50&cursor=${encodeURIComponent(cursor)}` },
      { page: 'latest updated', url: '/api/v1/audiences?sort=-updated&limit=50' },
    ];
    const times: number[] = [];
    const timesOf = pages.map((): number[] => []);
    const measure = async (): Promise<void> => {
      let i = 0;
      while (Date.now() < until) {
        const k = i % pages.length;
        const started = performance.now();
        const res = await fetch(base + pages[k]!.url, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`status list: ${pages[k]!.url} answered ${res.status}`);
        const ms = performance.now() - started;
        times.push(ms);
        timesOf[k]!.push(ms);
        i += 1;
      }
    };
    await Promise.all([...Array.from({ length: opts.tabs }, tab), measure()]);
    times.sort((a, b) => a - b);
    for (const t of timesOf) t.sort((a, b) => a - b);
    return {
      audiences: opts.audiences,
      tabs: opts.tabs,
      seconds: opts.seconds,
      requests: times.length,
      p50: quantile(times, 0.5),
      p95: quantile(times, 0.95),
      p99: quantile(times, 0.99),
      max: times.at(-1) ?? NaN,
      pageBytes: Buffer.byteLength(firstBody),
      notModified,
      tabPolls,
      byPage: pages.map((p, k) => ({ page: p.page, requests: timesOf[k]!.length, p50: quantile(timesOf[k]!, 0.5), p95: quantile(timesOf[k]!, 0.95) })),
    };
  } finally {
    await tailor?.stop();
    await emu.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('status-list.ts')) {
  const quick = process.argv.includes('--quick');
  const r = await statusListBench({
    audiences: Number(process.argv.find((a) => /^\d+$/.test(a)) ?? (quick ? 1000 : 10_000)),
    seconds: quick ? 10 : 30,
    tabs: 5,
  });
  console.log(JSON.stringify(r, null, 2));
}
