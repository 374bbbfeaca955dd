/**
 * `GET /metrics`: Prometheus text. No authentication, like /healthz and /readyz: it holds counts,
 * reasons, statuses and audience / configuration ids, never identifiers, hashes or tokens. Tailor
 * listens on 127.0.0.1 by default; where it listens more widely, keep /metrics to the scraper's
 * network at the proxy (docs/benchmarks.md, "Observability").
 *
 * Also times every HTTP answer (tailor_http_request_duration_seconds), which is how the Firehose
 * bar (p99 under 100 ms) is watched in production.
 */
import type { FastifyInstance } from 'fastify';
import {
  configurationsNeedingReauth,
  httpDuration,
  oldestPendingAge,
  pendingChanges,
  privacyOldestPendingAge,
  privacyPending,
  privacyWaitingOnReauth,
  registry,
} from '../metrics.ts';
import type { Services } from '../services/deps.ts';

/** Times every answer of the app; on the root, before any route, so every scope inherits it. */
export function timeRequests(app: FastifyInstance): void {
  app.addHook('onResponse', async (req, reply) => {
    httpDuration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });
}

export function registerMetrics(app: FastifyInstance, s: Services): void {
  app.get('/metrics', async (_req, reply) => {
    await readStore(s);
    return reply.header('content-type', registry.contentType).send(await registry.metrics());
  });
}

/** The store's gauges, read fresh at each scrape so they never drift from the database. */
async function readStore(s: Services): Promise<void> {
  const now = s.now();
  await readPrivacy(s, now);
  if (s.store.metricsSnapshot) {
    const snapshot = await s.store.metricsSnapshot();
    // Reset first: a deleted downstream audience must disappear rather than keep its last value.
    pendingChanges.reset();
    oldestPendingAge.reset();
    for (const p of snapshot.pending) {
      const labels = { audience: p.audienceId, configuration: p.configurationId, identity_type: p.identityType };
      pendingChanges.set(labels, p.count);
      oldestPendingAge.set(labels, p.oldestEnqueuedAt === null ? 0 : Math.max(0, now - p.oldestEnqueuedAt) / 1000);
    }
    configurationsNeedingReauth.set(snapshot.configurationsNeedingReauth);
    return;
  }
  const configurations = await s.store.listConfigurations();
  configurationsNeedingReauth.set(configurations.filter((c) => c.state === 'needs_reauth').length);
}

/** The 24-hour clock: unfinished erasures and suppressions and the age of the oldest of each. */
async function readPrivacy(s: Services, now: number): Promise<void> {
  const p = await s.store.privacySnapshot();
  const age = (at: number | null): number => (at === null ? 0 : Math.max(0, now - at) / 1000);
  privacyPending.set({ kind: 'erasure' }, p.pendingErasures);
  privacyPending.set({ kind: 'suppression' }, p.pendingSuppressions);
  privacyOldestPendingAge.set({ kind: 'erasure' }, age(p.oldestPendingErasureAt));
  privacyOldestPendingAge.set({ kind: 'suppression' }, age(p.oldestPendingSuppressionAt));
  privacyWaitingOnReauth.set(p.reauthBlocking.length);
}
