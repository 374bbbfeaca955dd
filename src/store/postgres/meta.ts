import type { Reader } from './db.ts';

/* The installation's identity and the health probe; one row each in `meta`. */

export async function installationId(c: Reader): Promise<string> {
  return (await c.query<{ value: string }>("SELECT value FROM meta WHERE key = 'installation_id'")).rows[0]!.value;
}

/** A real write (autocommit): a read-only or unreachable database fails it. */
export async function ping(c: Reader): Promise<void> {
  await c.query("INSERT INTO meta (key, value) VALUES ('ping', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [String(Date.now())]);
}
