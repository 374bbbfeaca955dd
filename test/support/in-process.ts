/**
 * The one in-process Tailor of the tests: the real HTTP app (`buildServer`) over a store of the
 * test's choosing (a fresh SQLite file on tmpfs by default, or any store the test opened: a
 * PostgreSQL one from test/store/helpers.ts), with `Services` from test/support/services.ts, its
 * log lines captured, and optionally listening on 127.0.0.1 (for sockets, fetch and the typed
 * client). The Firehose, security, audit and client tests build on it; test/e2e/harness.ts is the
 * other harness, for real `tailor` processes.
 */
import Database from 'better-sqlite3';
import type { FastifyInstance } from 'fastify';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { TailorClient } from 'tailor/client';
import { buildServer, type ServerOptions } from '../../src/server/app.ts';
import type { Services } from '../../src/services/deps.ts';
import type { Configuration, Store } from '../../src/store/port.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { testServices, type TestServicesOptions } from './services.ts';

export const ADMIN_TOKEN = 'in-process-admin-token-0123456789';

// tmpfs when there is one: the store fsyncs every commit, which is slow on a shared disk.
export const TMP = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export interface InProcessOptions extends Omit<TestServicesOptions, 'log'> {
  /** A store the test opened (closed by the test, not by `close()`); a fresh SQLite file otherwise. */
  store?: Store;
  /** Wraps the store the services see (a counting or failing proxy). */
  wrapStore?: (store: Store) => Store;
  /** The logger; by default one at `logLevel` whose lines `logs()` returns. */
  log?: Services['log'];
  logLevel?: pino.LevelWithSilent;
  /** Server options besides the admin token (ADMIN_TOKEN unless given). */
  server?: Partial<ServerOptions>;
  /** Listen on 127.0.0.1 (a free port), for tests that need sockets or fetch. */
  listen?: boolean;
  /** A configuration stored before start, for routes that need one: its X account id (no X call; its tokens are a placeholder). */
  configurationAccount?: string;
  configurationName?: string;
}

export interface InProcess {
  app: FastifyInstance;
  /** The store as opened (unwrapped). */
  store: Store;
  services: Services;
  adminToken: string;
  /** The SQLite directory (null for a store the test passed). */
  dir: string | null;
  configuration: Configuration | null;
  /** Where it listens (`listen: true`), else null. */
  url: string | null;
  port: number | null;
  /** Every log line written so far (pino JSON). */
  logs: () => string;
  /** A request with the admin token; an object payload is sent as JSON, a string as is. */
  api(
    method: string,
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any; raw: string; headers: Record<string, unknown> }>;
  /** The typed client (tailor/client) on this app's socket; needs `listen: true`. */
  client(): TailorClient;
  /** A read-only connection to the SQLite file (SQLite stores only), opened on first use. */
  reader(): Database.Database;
  /** The database files' bytes (SQLite), to look for raw values. */
  files: () => Buffer[];
  close: () => Promise<void>;
}

export async function startInProcess(opts: InProcessOptions = {}): Promise<InProcess> {
  const dir = opts.store ? null : mkdtempSync(join(TMP, 'tailor-in-process-'));
  const real: Store = opts.store ?? SqliteStore.open(join(dir!, 'tailor.db'));
  const store = opts.wrapStore ? opts.wrapStore(real) : real;
  let logText = '';
  const log = opts.log ?? pino({ level: opts.logLevel ?? 'debug' }, { write: (line: string) => void (logText += line) });
  const services = testServices(store, { ...opts, log });
  const adminToken = opts.server?.adminToken ?? ADMIN_TOKEN;
  let configuration: Configuration | null = null;
  if (opts.configurationAccount !== undefined) {
    ({ configuration } = await real.putConfiguration(
      { name: opts.configurationName ?? 'Test', accountId: opts.configurationAccount, accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
      services.now(),
      'cli',
    ));
  }
  const app = await buildServer(services, { firehoseToken: null, ...opts.server, adminToken });
  let port: number | null = null;
  if (opts.listen) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  } else {
    await app.ready();
  }
  const url = port === null ? null : `http://127.0.0.1:${port}`;
  let reader: Database.Database | null = null;

  return {
    app,
    store: real,
    services,
    adminToken,
    dir,
    configuration,
    url,
    port,
    logs: () => logText,
    async api(method, path, payload, headers = {}) {
      const res = await app.inject({
        method: method as 'POST',
        url: path,
        headers: { authorization: `Bearer ${adminToken}`, ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        payload: payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
      });
      let body: unknown;
      try {
        body = res.body ? JSON.parse(res.body) : null;
      } catch {
        body = res.body;
      }
      return { status: res.statusCode, body, raw: res.body, headers: res.headers };
    },
    client() {
      if (url === null) throw new Error('startInProcess({ listen: true }) for the typed client');
      return new TailorClient({ baseUrl: url, token: adminToken });
    },
    reader() {
      if (dir === null) throw new Error('reader(): only for the SQLite store the harness opened');
      reader ??= new Database(join(dir, 'tailor.db'), { readonly: true });
      return reader;
    },
    files: () => (dir === null ? [] : readdirSync(dir).map((f) => readFileSync(join(dir, f)))),
    async close() {
      await app.close();
      reader?.close();
      if (!opts.store) await real.close();
      if (dir !== null) rmSync(dir, { recursive: true, force: true });
    },
  };
}
