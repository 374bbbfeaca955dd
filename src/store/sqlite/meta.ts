import type Database from 'better-sqlite3';

/* The installation's identity and the health probe; one row each in `meta`. */

export function installationId(db: Database.Database): string {
  return db.prepare("SELECT value FROM meta WHERE key = 'installation_id'").pluck().get() as string;
}

/** A real write, in the caller's IMMEDIATE transaction: a full disk or a read-only file fails it. */
export function ping(db: Database.Database): void {
  db.prepare("INSERT INTO meta (key, value) VALUES ('ping', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String(Date.now()));
}
