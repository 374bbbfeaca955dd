/**
 * A real, listening Tailor HTTP server (the tests' one in-process app, test/support/in-process.ts)
 * over a temporary SQLite store, for the security tests that need sockets. Every call a handler could make outside the process (the
 * store, X, the workers' wake-up) is counted, so a test can tell that no handler ran.
 */
import type Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import type { ServerOptions } from '../../src/server/app.ts';
import type { Store } from '../../src/store/port.ts';
import type { SqliteStore } from '../../src/store/sqlite/index.ts';
import { startInProcess } from '../support/in-process.ts';
import { testXClient } from '../support/services.ts';

export const ADMIN = 'security-admin-token-0123456789';
export const FIREHOSE = 'security-firehose-token-0123456789';

export interface TestServer {
  app: FastifyInstance;
  port: number;
  store: SqliteStore;
  /** Calls made on the store, X or notify since start, by name. */
  calls: string[];
  /** Rows inserted, updated or deleted on the store's connection since it opened. */
  changes(): number;
  /** Log lines written (pino JSON), for request-id checks. */
  logs: string[];
  close(): Promise<void>;
}

/** Counts every method call of `target` into `calls`. */
function counted<T extends object>(target: T, name: string, calls: string[]): T {
  return new Proxy(target, {
    get(t, key, receiver) {
      const value = Reflect.get(t, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${name}.${String(key)}`);
        return (value as (...a: unknown[]) => unknown).apply(t, args);
      };
    },
  });
}

/** Listens on 127.0.0.1; `opts.listenHost` only tells the Host check where it would listen. */
export async function startServer(opts: Partial<ServerOptions> = {}): Promise<TestServer> {
  const calls: string[] = [];
  const logs: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void logs.push(line) });
  // Nothing listens where X is: a handler that reached X would fail, and be counted first.
  const h = await startInProcess({
    secretKey: 'security-secret-key-0123456789abcdef',
    wrapStore: (store) => counted<Store>(store, 'store', calls),
    x: counted(testXClient(), 'x', calls),
    log,
    notify: () => void calls.push('notify'),
    server: { adminToken: ADMIN, firehoseToken: FIREHOSE, ...opts },
    listen: true,
  });
  const store = h.store as SqliteStore;
  const db = (store as unknown as { db: Database.Database }).db;
  return {
    app: h.app,
    port: h.port!,
    store,
    calls,
    changes: () => db.prepare('SELECT total_changes()').pluck().get() as number,
    logs,
    close: h.close,
  };
}
