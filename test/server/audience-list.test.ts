/**
 * GET /api/v1/audiences at scale (issue 16): paged in the database with a cursor, searched,
 * filtered and sorted there, a fixed number of store reads per page whatever its size, and an
 * ETag so an unchanged page costs a poll no body.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/server/app.ts';
import type { ServiceStore } from '../../src/services/deps.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { testServices } from '../support/services.ts';

const TOKEN = 'list-test-admin-token-0123';

describe('GET /api/v1/audiences, a page at a time', () => {
  let app: FastifyInstance;
  let store: SqliteStore;
  let dir: string;
  const calls: string[] = [];
  const auth = { authorization: `Bearer ${TOKEN}` };
  const get = (url: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url, headers: { ...auth, ...headers } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tailor-list-'));
    store = SqliteStore.open(join(dir, 'tailor.db'));
    const config = await store.putConfiguration(
      { name: 'c', accountId: 'acc1', accountName: null, xUserId: null, screenName: null, tokens: 'sealed' },
      1,
      'cli',
    );
    for (let i = 0; i < 250; i++) {
      const id = `aud-${String(i).padStart(3, '0')}`;
      await store.putAudience(id, i % 10 === 0 ? `Winter sale ${i}` : `Audience ${i}`, 1000 + i, 'admin_token');
      await store.putConnection(
        id,
        config.configuration.id,
        { forwardEmails: true, forwardTwitterHandles: true, forwardDeviceIds: false, forwardPhoneNumbers: false },
        1000 + i,
        'admin_token',
      );
    }
    // Every store method a request calls is counted: each is a fixed number of queries.
    const counted = new Proxy(store, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver) as unknown;
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          calls.push(String(key));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as ServiceStore;
    app = await buildServer(testServices(counted), { adminToken: TOKEN, firehoseToken: null });
  });
  afterAll(async () => {
    await app?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the first page in the old order, and the cursor walks every audience once', async () => {
    const seen: string[] = [];
    let url = '/api/v1/audiences';
    let pages = 0;
    for (;;) {
      const res = await get(url);
      expect(res.statusCode).toBe(200);
      const body: { data: { id: string; connections: unknown[] }[]; next_cursor: string | null; needs_attention: number } = res.json();
      expect(body.data.length).toBeLessThanOrEqual(100);
      expect(body.data.every((a) => a.connections.length === 1)).toBe(true);
      seen.push(...body.data.map((a) => a.id));
      pages += 1;
      if (body.next_cursor === null) break;
      url = `/api/v1/audiences?cursor=${encodeURIComponent(body.next_cursor)}`;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => `aud-${String(i).padStart(3, '0')}`));
  });

  it('searches, sorts and filters in the database', async () => {
    const res = await get('/api/v1/audiences?q=WINTER&sort=-name&limit=3');
    const body: { data: { name: string }[]; next_cursor: string | null } = res.json();
    expect(body.data.map((a) => a.name)).toEqual(['Winter sale 90', 'Winter sale 80', 'Winter sale 70']);
    const next: {
      data: { name: string }[];
    } = (await get(`/api/v1/audiences?q=WINTER&sort=-name&limit=3&cursor=${encodeURIComponent(body.next_cursor!)}`)).json();
    expect(next.data.map((a) => a.name)).toEqual(['Winter sale 60', 'Winter sale 50', 'Winter sale 40']);
    // A cursor belongs to its sort.
    expect((await get(`/api/v1/audiences?q=WINTER&sort=name&cursor=${encodeURIComponent(body.next_cursor!)}`)).statusCode).toBe(400);
    const attention: { data: unknown[]; needs_attention: number } = (await get('/api/v1/audiences?state=attention')).json();
    expect(attention).toMatchObject({ data: [], needs_attention: 0 });
    for (const bad of ['sort=size', 'limit=0', 'limit=201', 'state=broken', 'extra=1'])
      expect((await get(`/api/v1/audiences?${bad}`)).json().error.code, bad).toBe('invalid_request');
  });

  it('reads the store a fixed number of times per page, whatever its size', async () => {
    const readsFor = async (limit: number): Promise<string[]> => {
      calls.length = 0;
      expect((await get(`/api/v1/audiences?limit=${limit}`)).statusCode).toBe(200);
      return [...calls].sort();
    };
    const small = await readsFor(2);
    const large = await readsFor(200);
    expect(large).toEqual(small);
    expect(small.length).toBeLessThanOrEqual(3);
  });

  it('answers 304 to a poll that holds the page, and a new tag once it changes', async () => {
    const first = await get('/api/v1/audiences?limit=5');
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^W\/"/);
    const again = await get('/api/v1/audiences?limit=5', { 'if-none-match': tag });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    await store.putAudience('aud-000', 'Renamed', 5000, 'admin_token');
    const changed = await get('/api/v1/audiences?limit=5', { 'if-none-match': tag });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(tag);
  });
});
