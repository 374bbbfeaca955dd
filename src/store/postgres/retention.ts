import type pg from 'pg';

interface Sql {
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
}

/*
 * The retention of X's data (port.ts RetentionStore): two autocommitted statements, each
 * idempotent, in no lock order of their own (a row a refresh is settling waits for that settle;
 * figures it writes are newer than `before` and stay). Run by every worker process; two at once
 * delete the same rows once.
 */

export async function pruneXData(c: Sql, before: number): Promise<{ samples: number; downstreams: number }> {
  const samples = (await c.query('DELETE FROM samples WHERE at < $1', [before])).rowCount ?? 0;
  // refreshed_at is Tailor's own clock (when it last read X) and stays: a refresh is due anyway.
  const downstreams =
    (
      await c.query(
        `UPDATE downstreams SET audience_size = NULL, targetable = NULL, reasons_not_targetable = NULL
          WHERE refreshed_at < $1 AND (audience_size IS NOT NULL OR targetable IS NOT NULL OR reasons_not_targetable IS NOT NULL)`,
        [before],
      )
    ).rowCount ?? 0;
  return { samples, downstreams };
}
