/**
 * `erasure.overdue` and `erasure.completed` end to end: Tailor (server, sync workers, alert loop;
 * `startTailor` in this process) against the X emulator, and a receiver on 127.0.0.1 checking every
 * signature itself. An erasure waits on a configuration whose token X revoked; 20 hours later the
 * event is posted once, and once the configuration is re-authorized and X has every removal, the
 * completion is posted once.
 *
 * In this process and not a spawned `tailor serve` because only the alert watch's clock moves
 * (StartOptions.alertClock): 20 hours pass for the watch, and for the receiver that checks the
 * signatures' timestamps, while X's OAuth timestamps, the erasure's own time and the database keep
 * the real clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTailor, type Tailor } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { TMP } from '../support/in-process.ts';
import { Receiver } from '../support/webhook-receiver.ts';
import { ADMIN_TOKEN, Emu, sha, tailorEnv, waitFor } from './harness.ts';

const SECRET = 'erasure-alert-secret-0123456789';
const HOUR = 3_600_000;

describe('erasure alerts', () => {
  let emu: Emu;
  let receiver: Receiver;
  let tailor: Tailor;
  let dir: string;
  let logs = '';
  /** The alert watch's clock (and the receiver's): the real one plus what the test adds. */
  let ahead = 0;
  const alertClock = (): number => Date.now() + ahead;

  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${tailor.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };

  beforeAll(async () => {
    emu = await Emu.start();
    receiver = await Receiver.start(SECRET, alertClock);
    receiver.status = 204;
    dir = mkdtempSync(join(TMP, 'tailor-erasure-alerts-'));
    const env = {
      ...tailorEnv(emu, `sqlite:${join(dir, 'tailor.db')}`),
      TAILOR_FLUSH_INTERVAL_MS: '200',
      TAILOR_REFRESH_INTERVAL_MS: '1000',
      TAILOR_X_TIMEOUT_MS: '5000',
      TAILOR_WEBHOOK_URL: receiver.url,
      TAILOR_WEBHOOK_SECRET: SECRET,
      // The watch looks every 200 ms (a fifth of this, at least 200 ms).
      TAILOR_ALERT_AFTER_MINUTES: '0.01',
    };
    const config = loadConfig(env, { adminToken: true, secretKey: true, xApp: true, serves: true });
    const log = pino({ level: 'info' }, { write: (line: string) => void (logs += line) });
    tailor = await startTailor(config, { serve: true, work: true, log, env, alertClock });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(logs.split('\n').slice(-40).join('\n'));
  });
  afterAll(async () => {
    await tailor?.close();
    await receiver?.close();
    await emu?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('posts erasure.overdue once 20 hours after the request, and erasure.completed once X has every removal', async () => {
    const { user, accountId } = emu.admin();
    const tokens = { account_id: accountId, access_token: user.access_token, access_token_secret: user.access_token_secret };
    const added = await api('POST', '/configurations', tokens);
    expect(added.status).toBe(201);
    expect((await api('PUT', '/audiences/buyers', { name: 'Buyers' })).status).toBe(201);
    expect((await api('PUT', `/audiences/buyers/connections/${added.body.id}`, {})).status).toBe(201);
    expect((await api('POST', '/audiences/buyers/members', { add: [{ user_id: 'p-1', email: 'jane@example.com' }] })).status).toBe(202);
    const jane = sha('jane@example.com');
    const onX = async (): Promise<string[]> => {
      const out: string[] = [];
      for (const a of await emu.audiences(accountId)) if (!a.deleted) out.push(...Object.values(await emu.members(accountId, a.id)).flat());
      return out;
    };
    await waitFor('Jane on X', async () => (await onX()).includes(jane));

    // X refuses the token: the erasure's removal cannot be sent, so it stays pending.
    await emu.faults({ revoke_tokens: [user.access_token] });
    const erased = await api('POST', '/erasures', { email: 'jane@example.com' });
    expect(erased.status).toBe(202);
    const erasureId: string = erased.body.id;
    await waitFor('configuration.needs_reauth posted', async () => receiver.delivered().some((r) => r.type === 'configuration.needs_reauth'));
    const privacy = (await api('GET', '/privacy')).body;
    expect(privacy).toMatchObject({ erasures_pending: 1, waiting_on_reauth: [{ configuration_id: added.body.id }] });
    // The watch that saw the pause ran after the erasure was recorded: at the real time it is not overdue.
    expect(receiver.received.filter((r) => r.type.startsWith('erasure.'))).toEqual([]);

    ahead = 20 * HOUR + 60_000;
    const overdue = await waitFor('erasure.overdue posted', async () => receiver.delivered().find((r) => r.type === 'erasure.overdue'));
    expect(overdue.signed).toBe(true);
    expect(overdue.body).toMatchObject({
      type: 'erasure.overdue',
      objects: { erasure: { id: erasureId } },
      details: { requested_at: privacy.erasures[0].received_at },
    });
    expect(Date.parse(overdue.body.time)).toBeGreaterThan(Date.now() + 20 * HOUR);
    expect(overdue.body.text).toMatch(new RegExp(`^Tailor: erasure ${erasureId} is not done 20 h after it was requested; X allows 24 h \\(3 h left\\)`));
    // The receiver sees the request before Tailor has read its answer and recorded it.
    const listed = await waitFor('the delivery recorded', async () => {
      const row = (await api('GET', '/events')).body.data.find((e: any) => e.id === overdue.id);
      return row?.delivery === 'delivered' && row;
    });
    expect(listed).toMatchObject({ type: 'erasure.overdue', delivery: 'delivered', attempts: 1, last_status: 204 });

    // Re-authorized: the removal goes to X, the erasure is done, and that is posted once.
    await emu.faults({ restore_tokens: [user.access_token] });
    expect((await api('POST', '/configurations', tokens)).status).toBe(200);
    const completed = await waitFor('erasure.completed posted', async () => receiver.delivered().find((r) => r.type === 'erasure.completed'));
    expect(completed.signed).toBe(true);
    expect(completed.body).toMatchObject({ objects: { erasure: { id: erasureId } }, details: { requested_at: privacy.erasures[0].received_at } });
    expect((await api('GET', `/erasures/${erasureId}`)).body.state).toBe('done');
    expect(await onX()).not.toContain(jane);

    // Later looks raise nothing more; each transition was one event, each id delivered once.
    await waitFor('configuration.resumed posted', async () => receiver.delivered().some((r) => r.type === 'configuration.resumed'));
    const types = receiver.delivered().map((r) => r.type);
    expect(types.filter((t) => t === 'erasure.overdue')).toHaveLength(1);
    expect(types.filter((t) => t === 'erasure.completed')).toHaveLength(1);
    const ids = receiver.received.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(receiver.received.every((r) => r.signed)).toBe(true);
  }, 120_000);
});
