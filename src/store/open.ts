import type { DatabaseTarget } from '../config.ts';
import type { OpenOptions } from './open-options.ts';
import type { Store } from './port.ts';
import { SqliteStore } from './sqlite/index.ts';

/** Opens (and migrates) the store the configuration names. */
export async function openStore(target: DatabaseTarget, opts: OpenOptions = {}): Promise<Store> {
  if (target.kind === 'sqlite') return SqliteStore.open(target.path, opts);
  const { openPostgresStore } = await import('./postgres/index.ts');
  return openPostgresStore(target.url, opts);
}
