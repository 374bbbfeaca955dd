/**
 * The composition root: one Config in, a running Tailor out. Builds the store, the X client, the
 * sync workers and the HTTP server by hand, in that order, and takes them down in reverse.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { ConfigError, type Config } from './config.ts';
import { SecretBox } from './core/secret-box.ts';
import { MemberKeys } from './membership/member-key.ts';
import { buildServer } from './server/app.ts';
import type { Services } from './services/deps.ts';
import { openStore } from './store/open.ts';
import type { Store } from './store/port.ts';
import { meteredX } from './sync/metered-x.ts';
import { RateGate } from './sync/rate.ts';
import { SyncWorker } from './sync/worker.ts';
import { XClient } from './x/client.ts';

export interface Tailor {
  services: Services;
  store: Store;
  server: FastifyInstance | null;
  worker: SyncWorker | null;
  /** http://host:port once serving. */
  url: string | null;
  close(): Promise<void>;
}

export interface StartOptions {
  serve: boolean;
  work: boolean;
  log: Logger;
}

export async function startTailor(config: Config, opts: StartOptions): Promise<Tailor> {
  const log = opts.log;
  // Both derive their keys from it: without it, tokens could not be opened and member keys would not match.
  if (config.secretKey === null) throw new ConfigError(['TAILOR_SECRET_KEY: is required to encrypt X tokens and key members at rest']);
  const memberKeys = new MemberKeys(config.secretKey);
  const store = await openStore(config.database, { memberKey: (kind, raw) => memberKeys.of(kind, raw), notice: (m) => log.warn(m) });
  const box = new SecretBox(config.secretKey);
  const x = new XClient({
    apiUrl: config.xApiUrl,
    oauthUrl: config.xOauthUrl,
    app: { consumerKey: config.xConsumerKey ?? '', consumerSecret: config.xConsumerSecret ?? '' },
    timeoutMs: config.xTimeoutMs,
  });
  let worker: SyncWorker | null = null;
  const services: Services = { store, box, memberKeys, phoneRegion: config.defaultPhoneRegion, x, log, now: Date.now, notify: () => worker?.notify() };

  if (opts.work) {
    worker = new SyncWorker(
      {
        store,
        x: meteredX(x),
        rate: new RateGate(store, { usersPerMinute: config.xRequestsPerMinute }),
        box,
        log: log.child({ part: 'sync' }),
        now: Date.now,
        installationId: await store.installationId(),
        // A deletion held back by campaigns is looked at again as often as X's size is read.
        deleteRecheckMs: config.refreshIntervalMs,
      },
      {
        concurrency: config.workerConcurrency,
        flushIntervalMs: config.flushIntervalMs,
        refreshIntervalMs: config.refreshIntervalMs,
        renewAfterMs: config.renewAfterMs,
        xTimeoutMs: config.xTimeoutMs,
      },
    );
    worker.start();
  }

  let server: FastifyInstance | null = null;
  let url: string | null = null;
  if (opts.serve) {
    // Off loopback the config already refused to start without it (config.ts).
    if (config.firehoseToken === null)
      log.warn(
        'TAILOR_FIREHOSE_TOKEN is not set: /firehose accepts every message from any process on this machine; set it before mParticle or anything else can reach Tailor',
      );
    server = await buildServer(services, {
      adminToken: config.adminToken ?? '',
      firehoseToken: config.firehoseToken,
      firehoseEncoding: config.firehoseEncoding,
      publicUrl: config.publicUrl,
      listenHost: config.host,
      allowedHosts: config.allowedHosts,
      limits: { requestTimeoutMs: config.requestTimeoutMs, maxConnections: config.maxConnections },
    });
    await server.listen({ host: config.host, port: config.port });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  }

  let closing: Promise<void> | null = null;
  return {
    services,
    store,
    server,
    worker,
    url,
    close() {
      closing ??= (async () => {
        // Stop taking changes first, then let in-flight batches finish, then close the database.
        await server?.close();
        await worker?.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
