import { ConfigError } from '../../config.ts';
import type { Store } from '../port.ts';

/** PostgreSQL arrives with the scale-out issue; until then a postgres URL is a clear startup error. */
export async function openPostgresStore(_url: string): Promise<Store> {
  throw new ConfigError(['TAILOR_DATABASE_URL: PostgreSQL is not supported yet in this version; use sqlite:PATH']);
}
