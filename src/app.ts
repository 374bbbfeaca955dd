/**
 * The composition root: one Config in, a running Tailor out. Builds the store, the X client, the
 * sync workers and the HTTP server by hand, in that order, and takes them down in reverse.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AlertLoop } from './alerts/loop.ts';
import type { Config } from './config.ts';
import { ConfigError } from './core/config-error.ts';
import { SecretBox } from './core/secret-box.ts';
import { runDoctor } from './doctor/checks.ts';
import { loadPhoneNumbers } from './identity/phone.ts';
import { MemberKeys } from './membership/member-key.ts';
import { buildServer } from './server/app.ts';
import type { Services } from './services/deps.ts';
import { warnIfWaiting } from './services/privacy.ts';

/** How often a worker process logs that erasures wait on a configuration needing re-authorization. */
const PRIVACY_LOG_EVERY_MS = 5 * 60_000;
import { openStore } from './store/open.ts';
import { probeDatabase } from './store/probe.ts';
import type { Store } from './store/port.ts';
import { meteredX } from './sync/metered-x.ts';
import { RateGate } from './sync/rate.ts';
import { RetentionPruner } from './sync/retention.ts';
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
  /** The environment the setup checks (Setup › Health) read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * The alert watch's clock (default Date.now), alone: tests move it hours ahead to see an erasure
   * become overdue while X, OAuth and the database keep the real time.
   */
  alertClock?: () => number;
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
  let retention: RetentionPruner | null = null;
  let alerts: AlertLoop | null = null;
  const env = opts.env ?? process.env;
  // With TAILOR_PORT=0 (any free port) the callback the checks name is on the port actually bound.
  let boundPort: number | null = null;
  const doctorEnv = (): NodeJS.ProcessEnv => (config.port === 0 && boundPort !== null ? { ...env, TAILOR_PORT: String(boundPort) } : env);
  const services: Services = {
    store,
    box,
    memberKeys,
    phoneRegion: config.defaultPhoneRegion,
    x,
    log,
    now: Date.now,
    notify: () => worker?.notify(),
    // The open store answers for the configurations; the probe still checks the database afresh.
    doctor: () => runDoctor({ env: doctorEnv(), probe: probeDatabase, configurations: () => store.listConfigurations() }),
    flushIntervalMs: config.flushIntervalMs,
  };

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
    // X's sizes and targetability are kept no longer than TAILOR_X_DATA_RETENTION_DAYS, the delivery log no longer than its days.
    retention = new RetentionPruner(
      { store, log: log.child({ part: 'retention' }), now: Date.now },
      { retentionMs: config.xDataRetentionMs, deliveryLogMs: config.deliveryLogMs },
    );
    retention.start();
    // Alerts ride with the workers: every process that syncs also watches (the watch's lock keeps one event per transition).
    alerts = new AlertLoop(
      { store, log: log.child({ part: 'alerts' }), now: opts.alertClock ?? Date.now, owner: worker.owner },
      { webhookUrl: config.webhookUrl, webhookSecret: config.webhookSecret, alertAfterMs: config.alertAfterMs },
    );
    alerts.start();
  }

  // The 24-hour clock does not stop for a paused configuration: say so in the logs every few
  // minutes while erasures or opt-outs wait on one (docs/privacy.md).
  const clock = opts.work
    ? setInterval(() => {
        warnIfWaiting(services).catch((err: unknown) => log.warn({ err }, 'could not read the privacy clock'));
      }, PRIVACY_LOG_EVERY_MS)
    : null;
  clock?.unref();

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
    boundPort = port;
    url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // Once answering: the phone library is not part of start-up, but the first number should not wait for it.
    loadPhoneNumbers().catch((err: unknown) => log.error({ err }, 'could not load the phone-number library'));
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
        if (clock) clearInterval(clock);
        await server?.close();
        await alerts?.stop();
        await worker?.stop();
        await retention?.stop();
        await store.close();
      })();
      return closing;
    },
  };
}
