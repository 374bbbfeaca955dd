import type Database from 'better-sqlite3';

/* Web UI sessions and single-use keys (port.ts); each function runs inside the caller's transaction. */

export function putSession(db: Database.Database, idHash: string, expiresAt: number, now: number): void {
  db.prepare('DELETE FROM ui_sessions WHERE expires_at <= ?').run(now);
  db.prepare(
    'INSERT INTO ui_sessions (id_hash, expires_at, created_at) VALUES (?, ?, ?) ON CONFLICT (id_hash) DO UPDATE SET expires_at = excluded.expires_at',
  ).run(idHash, expiresAt, now);
}

export function getSession(db: Database.Database, idHash: string, now: number): number | null {
  const exp = db.prepare('SELECT expires_at FROM ui_sessions WHERE id_hash = ? AND expires_at > ?').pluck().get(idHash, now) as number | undefined;
  return exp ?? null;
}

export function deleteSession(db: Database.Database, idHash: string): boolean {
  return db.prepare('DELETE FROM ui_sessions WHERE id_hash = ?').run(idHash).changes > 0;
}

export function useOnce(db: Database.Database, key: string, expiresAt: number, now: number): boolean {
  db.prepare('DELETE FROM single_use WHERE expires_at <= ?').run(now);
  return db.prepare('INSERT INTO single_use (key, expires_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING').run(key, expiresAt).changes === 1;
}
