/**
 * The typed client (`tailor/client`, the compiled dist file the package exports) against the real
 * app in process, over a socket: calls, the error envelope as `TailorApiError`, the bearer token,
 * and cursor paging.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TailorApiError, TailorClient } from 'tailor/client';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.ts';
import { startInProcess, type InProcess } from '../support/in-process.ts';

describe('TailorClient', () => {
  let x: RunningEmulator;
  let tailor: InProcess;
  let client: TailorClient;
  let admin: { access_token: string; access_token_secret: string; accounts: { id: string; permissions: string[] }[] };

  beforeAll(async () => {
    x = await startEmulator({ port: 0, sizingDelayMs: 60_000 });
    const creds = (await (await fetch(`${x.url}/_emulator/credentials`)).json()) as { consumer_key: string; consumer_secret: string; users: (typeof admin)[] };
    admin = creds.users.find((u) => u.accounts.some((a) => a.permissions.includes('ACCOUNT_ADMIN')))!;
    tailor = await startInProcess({ listen: true, emu: { url: x.url, creds } });
    client = tailor.client();
  });
  afterAll(async () => {
    await tailor?.close();
    await x?.close();
  });

  it('makes typed calls: a configuration checked with X, an audience, a connection, members', async () => {
    const configuration = await client.addConfiguration({
      account_id: admin.accounts[0]!.id,
      access_token: admin.access_token,
      access_token_secret: admin.access_token_secret,
    });
    expect(configuration.account_id).toBe(admin.accounts[0]!.id);
    expect((await client.listConfigurations()).map((c) => c.id)).toEqual([configuration.id]);

    const created = await client.putAudience('client-test', { name: 'Client test' });
    expect(created).toMatchObject({ id: 'client-test', name: 'Client test' });
    const connected = await client.connect('client-test', configuration.id, { forward_device_ids: false });
    expect(connected.connections.map((c) => c.configuration_id)).toEqual([configuration.id]);
    const answer = await client.changeMembers('client-test', { add: [{ user_id: 'u1', email: 'a@example.com' }] });
    expect(answer.accepted).toEqual({ add: 1, remove: 0 });
    expect((await client.getAudience('client-test')).members).toBe(1);
    expect((await client.listAudiences()).map((a) => a.id)).toEqual(['client-test']);

    await client.disconnect('client-test', configuration.id);
    const deleted = await client.deleteAudience('client-test');
    expect(deleted.deleted).toBe(true);
  });

  it('throws the error envelope as a TailorApiError with its status, code and request id', async () => {
    const err = await client.getAudience('no-such-audience').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TailorApiError);
    const e = err as TailorApiError;
    expect([e.status, e.code]).toEqual([404, 'not_found']);
    expect(e.message).toContain('does not exist');
    expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const bad = (await client.putAudience('bad id!', { name: 'x' }).catch((x: unknown) => x)) as TailorApiError;
    expect([bad.status, bad.code]).toEqual([400, 'invalid_request']);
  });

  it('sends the bearer token, and a wrong one is refused as unauthorized', async () => {
    const wrong = new TailorClient({ baseUrl: tailor.url!, token: 'not-the-token' });
    const err = (await wrong.listAudiences().catch((e: unknown) => e)) as TailorApiError;
    expect(err).toBeInstanceOf(TailorApiError);
    expect([err.status, err.code]).toEqual([401, 'unauthorized']);
  });

  it('reports an answer that is not the envelope with a null code', async () => {
    const proxy = new TailorClient({
      baseUrl: 'http://127.0.0.1:1',
      token: 't',
      fetch: async () => new Response('<html>Bad gateway</html>', { status: 502, headers: { 'content-type': 'text/html' } }),
    });
    const err = (await proxy.listAudiences().catch((e: unknown) => e)) as TailorApiError;
    expect([err.status, err.code]).toEqual([502, null]);
    expect(err.message).toContain('Bad gateway');
  });
});
