import type pg from 'pg';

interface Sql {
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
}

/*
 * The retention of X's data (port.ts RetentionStore): autocommitted statements, each
 * idempotent, in no lock order of their own (a row a refresh is settling waits for that settle;
 * figures it writes are newer than `before` and stay). Run by every worker process; two at once
 * delete the same rows once.
 */

export async function pruneXData(c: Sql, before: number, logBefore: number): Promise<{ samples: number; downstreams: number; deliveries: number }> {
  const samples = (await c.query('DELETE FROM samples WHERE at < $1', [before])).rowCount ?? 0;
  // The delivery log: each `users` call with X's answer to it, kept by its own window and never
  // longer than X's data (the pruner passes the sooner of the two cuts).
  const deliveries = (await c.query('DELETE FROM deliveries WHERE at < $1', [logBefore])).rowCount ?? 0;
  // The chart's markers go with the samples they stand among.
  await c.query('DELETE FROM downstream_events WHERE at < $1', [before]);
  // X's figures date from sized_at (when X last reported a size: kept while X processes, so
  // refreshed_at moves on without them), or from refreshed_at before migration 0012. refreshed_at
  // and processing_since are Tailor's own clock and stay: a refresh is due anyway.
  const downstreams =
    (
      await c.query(
        `UPDATE downstreams SET audience_size = NULL, targetable = NULL, reasons_not_targetable = NULL, sized_at = NULL, sized_members = NULL
          WHERE COALESCE(sized_at, refreshed_at) < $1 AND (audience_size IS NOT NULL OR targetable IS NOT NULL OR reasons_not_targetable IS NOT NULL)`,
        [before],
      )
    ).rowCount ?? 0;
  return { samples, downstreams, deliveries };
}
