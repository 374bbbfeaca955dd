/**
 * DNS rebinding (issue 11): the UI and /api/v1 answer only to the Host names Tailor is reached
 * by; anything else is a 421 in the error envelope, even with the admin token. /healthz, /readyz,
 * /metrics and /firehose answer any Host (probes, scrapers and mParticle use whatever name they
 * were given). Before this issue every Host was answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawRequest } from './raw-http.ts';
import { ADMIN, FIREHOSE, startServer, type TestServer } from './listening.ts';

const bearer = { authorization: `Bearer ${ADMIN}` };

describe('the Host check', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.close();
  });
  const start = async (opts: Parameters<typeof startServer>[0]) => {
    const s = await startServer(opts);
    servers.push(s);
    return s;
  };
  const get = (s: TestServer, target: string, host: string | null, headers: Record<string, string> = bearer) =>
    rawRequest(s.port, { method: 'GET', target, host, headers });

  describe('listening on loopback', () => {
    let s: TestServer;
    beforeAll(async () => {
      s = await start({ listenHost: '127.0.0.1' });
    });

    it('refuses a foreign Host on /api/v1 and the UI with 421, token or not', async () => {
      for (const host of [
        'evil.example',
        'evil.example:8080',
        'localhost.evil.example',
        '127.0.0.1.nip.io',
        'localhost.',
        'evil.example@127.0.0.1',
        '',
        '[::2]',
      ]) {
        for (const target of ['/api/v1/configurations', '/api/v1/firehose', '/', '/outputs', '/sign-in', '/assets/app.js', '/oauth/x/callback']) {
          const res = await get(s, target, host);
          expect(res.status, `${target} Host: ${host} → ${res.status} ${res.body}`).toBe(421);
          expect(JSON.parse(res.body)).toEqual({ error: { code: 'misdirected', message: expect.stringContaining('TAILOR_ALLOWED_HOSTS') } });
        }
      }
      const post = await rawRequest(s.port, {
        method: 'POST',
        target: '/sign-in',
        host: 'evil.example',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `token=${ADMIN}`,
      });
      expect(post.status).toBe(421);
      expect(post.headers['set-cookie']).toBeUndefined();
      expect(s.calls).toEqual([]);
    });

    it('answers the loopback names, any port, any case', async () => {
      for (const host of ['localhost', 'localhost:8080', 'LOCALHOST:1', '127.0.0.1', `127.0.0.1:${s.port}`, '[::1]', '[::1]:8080']) {
        expect((await get(s, '/api/v1/configurations', host)).status, host).toBe(200);
        expect((await get(s, '/sign-in', host, {})).status, host).toBe(200);
      }
    });

    it('checks the authority of an absolute-form target too (RFC 9112 3.2.2)', async () => {
      expect((await get(s, 'http://evil.example/api/v1/configurations', '127.0.0.1')).status).toBe(421);
      expect((await get(s, 'https://evil.example:443/outputs', 'localhost')).status).toBe(421);
      expect((await get(s, 'http://localhost/api/v1/configurations', 'evil.example')).status).toBe(421);
      expect((await get(s, 'http://user@localhost/api/v1/configurations', 'localhost')).status).toBe(421);
      expect((await get(s, `http://127.0.0.1:${s.port}/api/v1/configurations`, '127.0.0.1')).status).toBe(200);
    });

    it('does not check the Host of /healthz, /readyz, /metrics and /firehose', async () => {
      for (const target of ['/healthz', '/readyz', '/metrics']) expect((await get(s, target, 'evil.example', {})).status, target).toBe(200);
      const registration = await rawRequest(s.port, {
        method: 'POST',
        target: '/firehose',
        host: '10.9.8.7',
        headers: { 'content-type': 'application/json' },
        body: '{"type":"module_registration_request","id":"r1","timestamp_ms":1}',
      });
      expect(registration.status).toBe(200);
      const status = await rawRequest(s.port, {
        method: 'POST',
        target: '/firehose',
        host: 'mparticle-name.example',
        headers: { 'content-type': 'application/json', authorization: `Token ${FIREHOSE}` },
        body: '{"type":"audience_subscription_request"}',
      });
      expect(status.status).toBe(400); // reached the handler: the body is incomplete
    });
  });

  it('answers TAILOR_PUBLIC_URL and TAILOR_ALLOWED_HOSTS names', async () => {
    const s = await start({ listenHost: '127.0.0.1', publicUrl: 'https://Tailor.Example.com', allowedHosts: ['tailor.internal', '10.0.0.5', '[fd00::5]'] });
    for (const host of ['tailor.example.com', 'tailor.example.com:443', 'tailor.internal:8080', '10.0.0.5', '[fd00::5]:80', 'localhost']) {
      expect((await get(s, '/api/v1/configurations', host)).status, host).toBe(200);
    }
    for (const host of ['evil.example', 'example.com', 'sub.tailor.example.com', '10.0.0.6'])
      expect((await get(s, '/api/v1/configurations', host)).status, host).toBe(421);
  });

  it('listening on one address: that address, not the loopback names', async () => {
    const s = await start({ listenHost: '10.1.2.3' });
    expect((await get(s, '/api/v1/configurations', '10.1.2.3:8080')).status).toBe(200);
    for (const host of ['localhost', '127.0.0.1', '10.1.2.4', 'evil.example']) expect((await get(s, '/api/v1/configurations', host)).status, host).toBe(421);
  });

  it('listening on every interface: any IP literal and the loopback names, no other name', async () => {
    const s = await start({ listenHost: '0.0.0.0' });
    for (const host of ['192.0.2.7', '192.0.2.7:8080', '[2001:db8::1]:8080', 'localhost', '127.0.0.1'])
      expect((await get(s, '/api/v1/configurations', host)).status, host).toBe(200);
    for (const host of ['evil.example', 'my-laptop', '192.0.2.7.evil.example']) expect((await get(s, '/api/v1/configurations', host)).status, host).toBe(421);
  });
});
