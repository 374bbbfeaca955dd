import type pg from 'pg';

/** A transaction's client or the pool (Db): reads and single-statement deletes need no transaction. */
interface Sql {
  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>>;
}

/*
 * Web UI sessions and single-use keys (port.ts), shared by every process on the database. A
 * single-use key is claimed by INSERT … ON CONFLICT DO NOTHING: of two processes presenting the
 * same key at once, the second waits on the first's row and then inserts nothing.
 */

export async function putSession(c: Sql, idHash: string, expiresAt: number, now: number): Promise<void> {
  await c.query('DELETE FROM ui_sessions WHERE expires_at <= $1', [now]);
  await c.query(
    'INSERT INTO ui_sessions (id_hash, expires_at, created_at) VALUES ($1, $2, $3) ON CONFLICT (id_hash) DO UPDATE SET expires_at = excluded.expires_at',
    [idHash, expiresAt, now],
  );
}

export async function getSession(c: Sql, idHash: string, now: number): Promise<number | null> {
  const r = await c.query<{ expires_at: number }>('SELECT expires_at FROM ui_sessions WHERE id_hash = $1 AND expires_at > $2', [idHash, now]);
  return r.rows[0]?.expires_at ?? null;
}

export async function deleteSession(c: Sql, idHash: string): Promise<boolean> {
  return ((await c.query('DELETE FROM ui_sessions WHERE id_hash = $1', [idHash])).rowCount ?? 0) > 0;
}

export async function useOnce(c: Sql, key: string, expiresAt: number, now: number): Promise<boolean> {
  await c.query('DELETE FROM single_use WHERE expires_at <= $1', [now]);
  return (await c.query('INSERT INTO single_use (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, expiresAt])).rowCount === 1;
}
