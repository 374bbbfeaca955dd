/**
 * Bounded work per client (issue 11): a request must arrive within the request timeout (headers
 * within min(10 s, that)), idle connections are closed, and the number of open connections is
 * capped. With 500 idle or dripping connections open, /healthz still answers at once, and every
 * slow request is cut off. The test runs with a 1.5 s timeout (an option of buildServer) instead
 * of the default 30 s. Before this issue requests never timed out: the slow clients stayed.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer, DEFAULT_LIMITS } from '../../src/server/app.ts';
import type { Services } from '../../src/services/deps.ts';
import { waitFor } from '../e2e/harness.ts';
import { holdSocket, rawRequest, type HeldSocket } from './raw-http.ts';
import { ADMIN, startServer, type TestServer } from './listening.ts';

const TIMEOUT_MS = 1_500;

describe('slow and idle clients', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startServer({ limits: { requestTimeoutMs: TIMEOUT_MS } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('the defaults: 30 s per request, 1000 connections, and they reach Node', async () => {
    expect(DEFAULT_LIMITS).toEqual({ requestTimeoutMs: 30_000, connectionTimeoutMs: 600_000, keepAliveTimeoutMs: 72_000, maxConnections: 1000 });
    const app = await buildServer({ log: pino({ level: 'silent' }) } as unknown as Services, { adminToken: ADMIN, firehoseToken: null });
    expect(app.server.requestTimeout).toBe(30_000);
    expect(app.server.headersTimeout).toBe(10_000);
    expect(app.server.keepAliveTimeout).toBe(72_000);
    expect(app.server.timeout).toBe(600_000);
    expect(app.server.maxConnections).toBe(1000);
    await app.close();
  });

  it('/healthz keeps answering under 500 idle or dripping connections, and the slow ones are cut off', async () => {
    const before = t.changes();
    const started = Date.now();
    const idle: HeldSocket[] = [];
    const slowHeaders: HeldSocket[] = [];
    const slowBodies: HeldSocket[] = [];
    for (let i = 0; i < 200; i++) idle.push(await holdSocket(t.port));
    for (let i = 0; i < 150; i++) slowHeaders.push(await holdSocket(t.port, 'GET /api/v1/audiences HTTP/1.1\r\nhost: 127.0.0.1\r\n'));
    const body = JSON.stringify({ add: [{ user_id: 'slow', email: 'slow@example.com' }], pad: 'x'.repeat(2000) });
    for (let i = 0; i < 150; i++) {
      slowBodies.push(
        await holdSocket(
          t.port,
          `POST /api/v1/audiences/slow/members HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${ADMIN}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        ),
      );
    }
    // Drip: a header line or ten body bytes per socket every 100 ms, never finishing.
    let sent = 10;
    const drip = setInterval(() => {
      for (const h of slowHeaders) if (!h.socket.destroyed) h.socket.write(`x-slow-${sent}: 1\r\n`);
      for (const h of slowBodies) if (!h.socket.destroyed) h.socket.write(body.slice(sent, sent + 10));
      sent += 10;
    }, 100);
    try {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const res = await rawRequest(t.port, { method: 'GET', target: '/healthz' }, 2_000);
        expect(res.status).toBe(200);
        times.push(res.ms);
      }
      console.log(`slow clients: /healthz in ${Math.max(...times)} ms at most, with 500 slow connections open`);
      expect(Math.max(...times)).toBeLessThan(500);

      // Every slow connection is closed soon after the timeout: Node answers 408 where it can.
      const deadline = new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), TIMEOUT_MS * 4).unref());
      const all = await Promise.race([Promise.all([...idle, ...slowHeaders, ...slowBodies].map((h) => h.closed)), deadline]);
      if (all === 'still open') expect.fail(`slow connections still open ${Date.now() - started} ms after they were opened`);
      const cut = await Promise.all(slowBodies.map((h) => h.closed));
      for (const r of cut) {
        expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
        expect([0, 408]).toContain(r.status);
      }
      expect(all.filter((r) => r.status === 200)).toEqual([]);
    } finally {
      clearInterval(drip);
      for (const h of [...idle, ...slowHeaders, ...slowBodies]) h.socket.destroy();
    }
    expect(t.calls).toEqual([]);
    expect(t.changes()).toBe(before);
  });

  it('caps open connections: the one over the cap is dropped, the next after a close is served', async () => {
    const capped = await startServer({ limits: { maxConnections: 20 } });
    try {
      const held = await Promise.all(Array.from({ length: 20 }, () => holdSocket(capped.port)));
      const over = await rawRequest(capped.port, { method: 'GET', target: '/healthz' }, 2_000);
      expect(over.status).toBe(0); // closed without an answer
      held[0]!.socket.destroy();
      await held[0]!.closed;
      await waitFor(
        'a connection under the cap is served',
        async () => (await rawRequest(capped.port, { method: 'GET', target: '/healthz' }, 2_000)).status === 200,
        5_000,
      );
      for (const h of held) h.socket.destroy();
    } finally {
      await capped.close();
    }
  });
});
