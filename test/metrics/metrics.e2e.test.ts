import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, waitFor } from '../e2e/harness.ts';
import { has, parseMetrics, valueOf, type Sample } from './prometheus.ts';

/**
 * GET /metrics on a real `tailor serve` syncing to the emulator: every metric issue 8 names is
 * exposed, and the counters move when changes arrive and batches go out.
 */
describe('GET /metrics', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let configId: string;

  const scrape = async (): Promise<Sample[]> => {
    const res = await fetch(`${tailor.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return parseMetrics(await res.text());
  };

  beforeAll(async () => {
    emu = await Emu.start();
    tailor = await TailorProcess.start(emu, { env: { TAILOR_FLUSH_INTERVAL_MS: '300' } });
    configId = await tailor.addConfiguration(emu);
    expect((await tailor.api('PUT', '/audiences/m1', { name: 'Metrics' })).status).toBe(201);
    expect((await tailor.api('PUT', `/audiences/m1/connections/${configId}`, { forward_twitter_handles: false, forward_device_ids: false })).status).toBe(201);
  });
  afterAll(async () => {
    await tailor?.stop();
    await emu?.close();
  });

  it('needs no credentials and exposes every named metric, with process metrics', async () => {
    const text = await (await fetch(`${tailor.url}/metrics`)).text();
    for (const name of [
      'tailor_changes_accepted_total',
      'tailor_changes_rejected_total',
      'tailor_pending_changes',
      'tailor_oldest_pending_change_age_seconds',
      'tailor_batches_sent_total',
      'tailor_batch_users',
      'tailor_x_responses_total',
      'tailor_sync_retries_total',
      'tailor_rate_limit_waits_total',
      'tailor_rate_limit_wait_seconds_total',
      'tailor_sync_latency_seconds',
      'tailor_configurations_needing_reauthorization',
      'tailor_http_request_duration_seconds',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect(text, name).toContain(`# TYPE ${name} `);
    }
    const samples = parseMetrics(text);
    expect(valueOf(samples, 'tailor_configurations_needing_reauthorization')).toBe(0);
    // The audience's one forwarded downstream audience is listed, even with nothing pending.
    expect(samples.filter((s) => s.name === 'tailor_pending_changes' && s.labels.audience === 'm1')).toEqual([
      { name: 'tailor_pending_changes', labels: { audience: 'm1', configuration: configId, identity_type: 'email' }, value: 0 },
    ]);
  });

  it('counts accepted and rejected changes, then the batch, its users, X answers and the sync latency', async () => {
    const before = await scrape();
    const res = await tailor.api('POST', '/audiences/m1/members', {
      add: [
        { user_id: 'a', email: 'a@example.com' },
        { user_id: 'b', email: 'b@example.com' },
        { user_id: 'c', email: 'not-an-email' },
      ],
      remove: [{ user_id: 'z' }],
    });
    expect(res.status).toBe(202);

    const after = await scrape();
    expect(
      valueOf(after, 'tailor_changes_accepted_total', { source: 'rest', action: 'add' }) -
        valueOf(before, 'tailor_changes_accepted_total', { source: 'rest', action: 'add' }),
    ).toBe(3);
    expect(
      valueOf(after, 'tailor_changes_accepted_total', { source: 'rest', action: 'remove' }) -
        valueOf(before, 'tailor_changes_accepted_total', { source: 'rest', action: 'remove' }),
    ).toBe(1);
    expect(
      valueOf(after, 'tailor_changes_rejected_total', { source: 'rest', reason: 'invalid_email' }) -
        valueOf(before, 'tailor_changes_rejected_total', { source: 'rest', reason: 'invalid_email' }),
    ).toBe(1);
    expect(has(after, 'tailor_http_request_duration_seconds_bucket')).toBe(true);

    // The batch goes out after the flush interval; the counters follow X's answer.
    const sent = await waitFor('a batch to be sent', async () => {
      const s = await scrape();
      return valueOf(s, 'tailor_batches_sent_total', { identity_type: 'email' }) > valueOf(before, 'tailor_batches_sent_total', { identity_type: 'email' }) &&
        valueOf(s, 'tailor_sync_latency_seconds_count') > valueOf(before, 'tailor_sync_latency_seconds_count')
        ? s
        : null;
    });
    expect(valueOf(sent, 'tailor_batch_users_sum', { identity_type: 'email' }) - valueOf(before, 'tailor_batch_users_sum', { identity_type: 'email' })).toBe(2);
    expect(valueOf(sent, 'tailor_x_responses_total', { operation: 'send_users', status: '2xx' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(sent, 'tailor_x_responses_total', { operation: 'create_audience', status: '2xx' })).toBe(1);
    // Acknowledged ≥ 300 ms (the flush interval) before X's answer, and well under a minute.
    const latencySum = valueOf(sent, 'tailor_sync_latency_seconds_sum') - valueOf(before, 'tailor_sync_latency_seconds_sum');
    expect(latencySum).toBeGreaterThanOrEqual(0.3);
    expect(latencySum).toBeLessThan(60);
    await waitFor('nothing pending', async () => valueOf(await scrape(), 'tailor_pending_changes', { audience: 'm1' }) === 0);
  });

  it('counts X errors by status and code, retries, rate-limit waits and configurations needing re-authorization', async () => {
    const before = await scrape();
    // A 429 on the users endpoint: Tailor waits for X's reset, then sends.
    await emu.faults({ reset: true, only: 'users', rate_limit_burst: { count: 1, reset_after_s: 1 } });
    expect((await tailor.api('POST', '/audiences/m1/members', { add: [{ user_id: 'd', email: 'd@example.com' }] })).status).toBe(202);
    const limited = await waitFor('the 429 to be waited out and the batch sent', async () => {
      const s = await scrape();
      return valueOf(s, 'tailor_rate_limit_waits_total', { family: 'users', cause: 'x' }) >
        valueOf(before, 'tailor_rate_limit_waits_total', { family: 'users', cause: 'x' }) &&
        valueOf(s, 'tailor_batches_sent_total') > valueOf(before, 'tailor_batches_sent_total')
        ? s
        : null;
    });
    expect(valueOf(limited, 'tailor_x_responses_total', { operation: 'send_users', status: '429' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(limited, 'tailor_rate_limit_wait_seconds_total', { cause: 'x' })).toBeGreaterThan(0);

    // 503s on the users endpoint: the batch is retried with backoff until X answers again.
    await emu.faults({ reset: true, only: 'users', error_every: 1, error_status: 503 });
    expect((await tailor.api('POST', '/audiences/m1/members', { add: [{ user_id: 'e', email: 'e@example.com' }] })).status).toBe(202);
    const failed = await waitFor('a 503 to be counted and retried', async () => {
      const s = await scrape();
      return valueOf(s, 'tailor_sync_retries_total', { task: 'send' }) > valueOf(before, 'tailor_sync_retries_total', { task: 'send' }) ? s : null;
    });
    expect(valueOf(failed, 'tailor_x_responses_total', { operation: 'send_users', status: '503', code: 'SERVICE_UNAVAILABLE' })).toBeGreaterThanOrEqual(1);
    await emu.faults({ reset: true });
    await waitFor('the retried batch to be sent', async () => valueOf(await scrape(), 'tailor_pending_changes', { audience: 'm1' }) === 0, 60_000);

    // A revoked token pauses the configuration: the gauge shows it.
    const { user } = emu.admin();
    await emu.faults({ revoke_tokens: [user.access_token] });
    expect((await tailor.api('POST', '/audiences/m1/members', { add: [{ user_id: 'f', email: 'f@example.com' }] })).status).toBe(202);
    await waitFor('the configuration to need re-authorization', async () => valueOf(await scrape(), 'tailor_configurations_needing_reauthorization') === 1);
    const paused = await scrape();
    expect(valueOf(paused, 'tailor_x_responses_total', { status: '401' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(paused, 'tailor_pending_changes', { audience: 'm1' })).toBe(1);
  });
});
