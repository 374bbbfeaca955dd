/**
 * What a sync loop's look for work costs on PostgreSQL with many X audiences (issue 13): the
 * claim and nextDueAt of an idle installation, and the claim while many X audiences hold changes
 * not yet due (younger than the flush interval, fewer than a full batch), which the claim must
 * tell from a full batch without counting every pending row. Run alone, not by `npm run bench`:
 * `npx tsx bench/claims.ts [audiences]` (10,000 by default, two X audiences each, as the audience
 * list's benchmark has them; a tenth of them get 100 waiting changes for the second part).
 *
 * The X audiences are written as X would have left them (created, named as Tailor names them,
 * sized now, ten members confirmed each), so nothing is due but their far refresh and renewals.
 * Each figure is the median of 15 looks, after one that is not counted; a look that finds work fails
 * the run.
 */
import pg from 'pg';
import { downstreamName } from '../src/core/names.ts';
import type { IdentityType } from '../src/core/terms.ts';
import { openStore } from '../src/store/open.ts';
import type { ClaimOptions, MemberChange } from '../src/store/port.ts';
import { BATCH_BY_TYPE, MAX_BATCH } from '../src/sync/worker.ts';
import { createTestDatabase } from '../test/store/pg.ts';
import { int, log, quantile, sha } from './lib.ts';

const audiences = Number(process.argv[2] ?? 10_000);
const LOOKS = 15;
/**
 * A flush interval of ten minutes (the default is 10 s), so that the waiting changes stay not yet
 * due while they are written and looked at; a day between refreshes, so none comes due either.
 */
const FLUSH = 600_000;
const REFRESH = 86_400_000;
const RENEW = 330 * 86_400_000;

const tdb = await createTestDatabase();
const store = await openStore({ kind: 'postgres', url: tdb.url });
const client = new pg.Client({ connectionString: tdb.url });
await client.connect();
try {
  const now = Date.now();
  log(`claims (PostgreSQL): preparing ${int(audiences)} audiences, ${int(2 * audiences)} X audiences`);
  const { configuration } = await store.putConfiguration(
    { name: 'Bench', accountId: 'bench-claims', accountName: null, xUserId: null, screenName: null, tokens: 'unused' },
    now,
    'cli',
  );
  for (let i = 0; i < audiences; i++) {
    await store.putAudience(`aud-${i}`, `Audience ${i}`, now, 'admin_token');
    await store.putConnection(
      `aud-${i}`,
      configuration.id,
      { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: false, forwardPhoneNumbers: false },
      now,
      'admin_token',
    );
  }
  const rows = (
    await client.query<{ id: number; identity_type: IdentityType; name: string }>(
      'SELECT d.id, d.identity_type, a.name FROM downstreams d JOIN audiences a ON a.id = d.audience_id',
    )
  ).rows;
  await client.query('UPDATE downstreams d SET x_name = u.name FROM unnest($1::bigint[], $2::text[]) AS u(id, name) WHERE d.id = u.id', [
    rows.map((r) => r.id),
    rows.map((r) => downstreamName(r.name, r.identity_type, 1)),
  ]);
  await client.query("UPDATE downstreams SET state = 'active', x_audience_id = 'x' || id, refreshed_at = $1, last_synced_at = $1, last_claimed_at = $1 - id", [
    now,
  ]);
  await client.query(
    'INSERT INTO x_members (downstream_id, hash, confirmed, confirmed_at) SELECT d.id, sha256((d.id * 100 + g)::text::bytea), true, $1 FROM downstreams d, generate_series(1, 10) g',
    [now],
  );
  await client.query('ANALYZE');

  const opts = (): ClaimOptions => ({
    owner: 'bench',
    now: Date.now(),
    leaseMs: 60_000,
    flushIntervalMs: FLUSH,
    fullBatch: MAX_BATCH,
    maxChanges: MAX_BATCH,
    maxChangesByType: BATCH_BY_TYPE,
    refreshIntervalMs: REFRESH,
    renewAfterMs: RENEW,
  });
  const median = async (what: () => Promise<unknown>): Promise<number> => {
    await what();
    const times: number[] = [];
    for (let i = 0; i < LOOKS; i++) {
      const started = performance.now();
      await what();
      times.push(performance.now() - started);
    }
    return quantile(
      times.sort((a, b) => a - b),
      0.5,
    );
  };
  const due = () => store.nextDueAt({ now: Date.now(), flushIntervalMs: FLUSH, refreshIntervalMs: REFRESH, renewAfterMs: RENEW });
  const claimNone = async (): Promise<void> => {
    const c = await store.claim(opts());
    if (c !== null) {
      const o = await client.query('SELECT count(*) AS n, min(enqueued_at) AS oldest FROM outbox WHERE downstream_id = $1', [c.downstream.id]);
      throw new Error(
        `claims bench: nothing should be due, got a ${c.task} of ${c.downstream.id} with ${c.changes.length} changes and ${c.renewals.length} renewals; outbox ${JSON.stringify(o.rows)}; now ${Date.now()}`,
      );
    }
  };
  const idleClaim = await median(claimNone);
  const idleDue = await median(due);

  const waiting = Math.ceil(audiences / 10);
  log(`claims (PostgreSQL): ${int(waiting * 100)} changes waiting in ${int(waiting)} X audiences`);
  for (let i = 0; i < waiting; i++) {
    const changes: MemberChange[] = Array.from({ length: 100 }, (_, j) => ({
      memberKey: `m${i}-${j}`,
      action: 'add',
      identities: [{ type: 'email', hash: sha(`member ${i} ${j}`) }],
    }));
    await store.applyMemberChanges(`aud-${i * 10}`, changes, Date.now());
  }
  const waitingClaim = await median(claimNone);
  const waitingDue = await median(due);
  const result = {
    audiences,
    downstreams: rows.length,
    idleClaimMs: idleClaim,
    idleNextDueMs: idleDue,
    waiting,
    waitingClaimMs: waitingClaim,
    waitingNextDueMs: waitingDue,
  };
  log(
    `claims (PostgreSQL), ${int(rows.length)} X audiences: idle claim ${idleClaim.toFixed(1)} ms, nextDueAt ${idleDue.toFixed(1)} ms; ` +
      `with ${int(waiting * 100)} changes waiting in ${int(waiting)}: claim ${waitingClaim.toFixed(1)} ms, nextDueAt ${waitingDue.toFixed(1)} ms (medians of ${LOOKS})`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await client.end();
  await store.close();
  await tdb.drop();
}
