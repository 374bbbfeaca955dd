import type { Reader } from './db.ts';

/*
 * "Which downstream audiences may have work, and when is the next due?" (claim.ts's pick and
 * index.ts's nextDueAt) without a look at the outbox and the X ledger for every downstream row.
 * With 10,000 audiences (20,000 X audiences) those two per-row index seeks made an idle claim and
 * its nextDueAt take about 100 ms each, for every sync loop, every second, and for every wake-up
 * under a stream of ingest commits.
 *
 * - Pending changes: PENDING_SQL walks the outbox's (downstream_id, enqueued_at) index from one
 *   downstream id to the next (a recursive CTE: one seek per downstream audience that has pending
 *   changes, one in all when none has), and gives each its oldest enqueue time. Downstream rows
 *   without pending changes cost nothing.
 * - Renewals: when each downstream audience's oldest confirmation on X comes due is a question the
 *   X ledger answers per downstream (its partial (downstream_id, confirmed_at) index), so the
 *   answers are kept per process (OldestConfirmations): read for every downstream audience at most
 *   once a minute, and again for one downstream audience when this process settles a batch of it
 *   (the settle's last statement reads it) or claims removes from it. A claim whose X audience has
 *   nothing past the renewal age skips the renewal step. What another process did meanwhile can make an entry older than the truth (a
 *   renewal or a removal it settled: the renewal step then finds nothing, which it records, and the
 *   next read puts it right) or miss a first confirmation, whose renewal is due only after the
 *   renewal age (330 days by default), long after the next read. Never a renewal missed.
 */

/** The oldest pending change of every downstream audience with one, as the CTE `pending(downstream_id, oldest)`. */
export const PENDING_SQL = `pending(downstream_id, oldest) AS (
    (SELECT o.downstream_id, o.enqueued_at FROM outbox o ORDER BY o.downstream_id, o.enqueued_at LIMIT 1)
    UNION ALL
    SELECT n.downstream_id, n.enqueued_at FROM pending p
    CROSS JOIN LATERAL (SELECT o.downstream_id, o.enqueued_at FROM outbox o WHERE o.downstream_id > p.downstream_id
      ORDER BY o.downstream_id, o.enqueued_at LIMIT 1) n
  )`;

/** Every downstream audience's entries are read again after this long (ms of the callers' clock). */
export const CONFIRMATIONS_READ_MS = 60_000;

const OLDEST = 'SELECT MIN(x.confirmed_at) AS oldest FROM x_members x WHERE x.downstream_id = $1 AND x.confirmed';
const ALL_OLDEST = `SELECT d.id, (SELECT MIN(x.confirmed_at) FROM x_members x WHERE x.downstream_id = d.id AND x.confirmed) AS oldest
  FROM downstreams d WHERE d.x_audience_id IS NOT NULL`;

/** Each downstream audience's oldest confirmation on X, as this process last read it. */
export class OldestConfirmations {
  private readAt: number | null = null;
  private readonly oldest = new Map<number, number>();

  /** Reads every downstream audience's again when the last read is CONFIRMATIONS_READ_MS old (or in the future). */
  async fresh(db: Reader, now: number): Promise<void> {
    if (this.readAt !== null && now >= this.readAt && now - this.readAt < CONFIRMATIONS_READ_MS) return;
    const rows = (await db.query<{ id: number; oldest: number | null }>(ALL_OLDEST)).rows;
    this.oldest.clear();
    for (const r of rows) if (r.oldest !== null) this.oldest.set(r.id, r.oldest);
    this.readAt = now;
  }

  /** After this process changed a downstream audience's X ledger (a claim, a settle): its entry read again. */
  async reread(db: Reader, downstreamId: number): Promise<void> {
    if (this.readAt === null) return; // nothing kept yet: the first fresh() reads it
    const oldest = (await db.query<{ oldest: number | null }>(OLDEST, [downstreamId])).rows[0]?.oldest ?? null;
    if (oldest === null) this.oldest.delete(downstreamId);
    else this.oldest.set(downstreamId, oldest);
  }

  /** The downstream audiences whose oldest confirmation is at or before `before`. */
  dueBy(before: number): number[] {
    const ids: number[] = [];
    for (const [id, oldest] of this.oldest) if (oldest <= before) ids.push(id);
    return ids;
  }

  /**
   * Whether a renewal of this downstream audience may be due (its oldest confirmation at or before
   * `before`, or not known here: another process's first confirmations). False lets a claim skip
   * the renewal step's two statements.
   */
  mayBeDueBy(downstreamId: number, before: number): boolean {
    const oldest = this.oldest.get(downstreamId);
    return oldest === undefined || oldest <= before;
  }

  /** After this process settled a batch: the downstream audience's oldest confirmation, as the settle read it. */
  set(downstreamId: number, oldest: number | null): void {
    if (this.readAt === null) return;
    if (oldest === null) this.oldest.delete(downstreamId);
    else this.oldest.set(downstreamId, oldest);
  }

  /** Every entry, as two arrays for unnest(). */
  entries(): { ids: number[]; oldest: number[] } {
    return { ids: [...this.oldest.keys()], oldest: [...this.oldest.values()] };
  }
}
