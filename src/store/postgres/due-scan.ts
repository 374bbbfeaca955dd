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
 * - Renewals: each downstream row keeps a bound of its oldest confirmation and its renewal pass
 *   (../renewals.ts, migration 0023), so the pick and nextDueAt read them with the row. (Until
 *   0023 this process kept each X audience's oldest confirmation, read through an index by
 *   confirmation time once a minute.)
 */

/** The oldest pending change of every downstream audience with one, as the CTE `pending(downstream_id, oldest)`. */
export const PENDING_SQL = `pending(downstream_id, oldest) AS (
    (SELECT o.downstream_id, o.enqueued_at FROM outbox o ORDER BY o.downstream_id, o.enqueued_at LIMIT 1)
    UNION ALL
    SELECT n.downstream_id, n.enqueued_at FROM pending p
    CROSS JOIN LATERAL (SELECT o.downstream_id, o.enqueued_at FROM outbox o WHERE o.downstream_id > p.downstream_id
      ORDER BY o.downstream_id, o.enqueued_at LIMIT 1) n
  )`;
