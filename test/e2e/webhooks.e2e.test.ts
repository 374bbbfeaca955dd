/**
 * Alert webhooks end to end: a real `tailor serve`, the X emulator, and a receiver on 127.0.0.1
 * that checks every signature itself (its own HMAC, not Tailor's code). An event raised while the
 * receiver answers 500 is retried, survives Tailor being killed, and is delivered after the
 * restart; each transition is one event (a paused and resumed configuration, a re-created X
 * audience, one failing past TAILOR_ALERT_AFTER_MINUTES and recovering), and no two delivered
 * events share an id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Receiver } from '../support/webhook-receiver.ts';
import { Emu, TailorProcess, waitFor } from './harness.ts';

const SECRET = 'webhook-test-secret-0123456789';

describe('alert webhooks', () => {
  let emu: Emu;
  let receiver: Receiver;
  let tailor: TailorProcess;
  const env = (): Record<string, string> => ({ TAILOR_WEBHOOK_URL: receiver.url, TAILOR_WEBHOOK_SECRET: SECRET, TAILOR_ALERT_AFTER_MINUTES: '0.01' });

  beforeAll(async () => {
    emu = await Emu.start();
    receiver = await Receiver.start(SECRET);
    tailor = await TailorProcess.start(emu, { env: env() });
  });
  afterAll(async () => {
    await tailor?.stop();
    await receiver?.close();
    await emu?.close();
  });

  it('delivers signed events through a receiver answering 500 and a restart of Tailor, once per transition', async () => {
    const { user, accountId } = emu.admin();
    const configId = await tailor.addConfiguration(emu);
    expect((await tailor.api('PUT', '/audiences/hooks', { name: 'Hooks' })).status).toBe(201);
    expect((await tailor.api('PUT', `/audiences/hooks/connections/${configId}`, {})).status).toBe(201);
    await tailor.api('POST', '/audiences/hooks/members', { add: [{ user_id: 'u1', email: 'one@example.com' }] });
    const first = await waitFor('the X audience to exist', async () => (await tailor.downstreams('hooks')).email?.x_audience_id);

    // X stops accepting the token: the next refresh pauses the configuration, which raises the event.
    await emu.faults({ revoke_tokens: [user.access_token] });
    const failures = await waitFor('two refused deliveries of configuration.needs_reauth', async () => {
      const seen = receiver.received.filter((r) => r.type === 'configuration.needs_reauth');
      return seen.length >= 2 && seen;
    });
    expect(new Set(failures.map((r) => r.id)).size).toBe(1);
    expect(failures.every((r) => r.signed && r.answered === 500)).toBe(true);
    const event = failures[0]!.body;
    expect(event).toMatchObject({ type: 'configuration.needs_reauth', objects: { configuration: { id: configId, account_id: accountId } } });
    expect(event.text).toMatch(/needs re-authorization/);
    expect(Date.parse(event.time)).toBeGreaterThan(0);
    // The receiver sees a request before Tailor has read its answer and recorded the attempt.
    const listed = await waitFor('the second refused attempt recorded', async () => {
      const row = (await tailor.api('GET', '/events')).body.data.find((e: any) => e.id === event.id);
      return row?.attempts >= 2 && row;
    });
    expect(listed).toMatchObject({ delivery: 'pending', last_status: 500 });

    // Killed with the event still pending; the receiver recovers while Tailor is down.
    await tailor.kill('SIGKILL');
    receiver.status = 204;
    tailor = await TailorProcess.start(emu, { dir: tailor.dir, env: env() });
    await waitFor('the pending event delivered after the restart', async () => receiver.delivered().some((r) => r.id === event.id));

    // Re-authorized: configuration.resumed. X loses the audience: x_audience.recreated with both ids.
    await emu.faults({ restore_tokens: [user.access_token] });
    expect(
      (await tailor.api('POST', '/configurations', { account_id: accountId, access_token: user.access_token, access_token_secret: user.access_token_secret }))
        .status,
    ).toBe(200);
    await waitFor('configuration.resumed delivered', async () => receiver.delivered().some((r) => r.type === 'configuration.resumed'));
    await emu.faults({ delete_audiences: [{ account_id: accountId, id: first }] });
    await tailor.api('POST', '/audiences/hooks/members', { add: [{ user_id: 'u2', email: 'two@example.com' }] });
    const recreated = await waitFor('x_audience.recreated delivered', async () => receiver.delivered().find((r) => r.type === 'x_audience.recreated'));
    const second = (await tailor.downstreams('hooks')).email.x_audience_id;
    expect(recreated.body.details).toEqual({ old_x_audience_id: first, new_x_audience_id: second });
    expect(recreated.body.objects).toMatchObject({ audience: { id: 'hooks', name: 'Hooks' }, x_audience: { id: second, identity_type: 'email' } });

    // X fails every users call for longer than TAILOR_ALERT_AFTER_MINUTES (0.6 s here): failing; X recovers: recovered.
    await emu.faults({ error_rate: 1, only: 'users' });
    await tailor.api('POST', '/audiences/hooks/members', { add: [{ user_id: 'u3', email: 'three@example.com' }] });
    const failing = await waitFor('x_audience.failing delivered', async () => receiver.delivered().find((r) => r.type === 'x_audience.failing'));
    expect(failing.body).toMatchObject({ objects: { audience: { id: 'hooks' }, x_audience: { id: second, identity_type: 'email' } } });
    expect(failing.body.details.attempts).toBeGreaterThanOrEqual(1);
    expect(failing.body.text).toMatch(/has been failing for .* Changes wait and are retried\.$/);
    await emu.faults({ reset: true });
    await waitFor('x_audience.recovered delivered', async () => receiver.delivered().some((r) => r.type === 'x_audience.recovered'), 60_000);

    // Every request was signed; each delivered id once; one event per transition.
    expect(receiver.received.every((r) => r.signed)).toBe(true);
    const ids = receiver.delivered().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const types = receiver.delivered().map((r) => r.type);
    for (const type of ['configuration.needs_reauth', 'configuration.resumed', 'x_audience.recreated', 'x_audience.failing', 'x_audience.recovered'])
      expect(types.filter((t) => t === type)).toHaveLength(1);
    // As above: the last answer reaches the receiver before Tailor records it.
    const events = await waitFor('every event recorded as delivered', async () => {
      const data = (await tailor.api('GET', '/events')).body.data;
      return data.every((e: any) => e.delivery === 'delivered') && data;
    });
    expect(events.map((e: any) => e.id).sort()).toEqual([...ids].sort());
  }, 120_000);
});
