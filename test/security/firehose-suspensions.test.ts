/**
 * The Firehose suspension list is bounded (issue 11): any sender holding the Firehose token can
 * name any number of unknown accounts, and each used to add one entry for the life of the process
 * and one warn line per message. Now at most 1,000 accounts are kept (least recently suspended
 * forgotten first) and an account's warn line is written at most once a minute. The clock is the
 * services' `now`, moved by hand: nothing sleeps.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FirehoseStatus, LOG_EVERY_MS, MAX_LINES, MAX_SUSPENSIONS } from '../../src/sources/firehose/status.ts';
import { fixture, forAccount, startInProcess, type Harness } from '../firehose/helpers.ts';

const ADMIN = { authorization: 'Bearer admin-token-0123456789' };
const ping = (accountId: string) => forAccount(fixture('verification-ping.json'), accountId);

describe('Firehose suspensions, over HTTP', () => {
  let h: Harness;
  let clock: number;
  let warnings: Record<string, unknown>[];
  beforeEach(async () => {
    clock = Date.UTC(2026, 0, 1);
    warnings = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split('\n')) {
          if (!l) continue;
          const line = JSON.parse(l) as Record<string, unknown>;
          if (typeof line.msg === 'string' && line.msg.includes('suspend_subscription')) warnings.push(line);
        }
        done();
      },
    });
    h = await startInProcess({ now: () => clock, log: pino({ level: 'warn' }, sink) });
  });
  afterEach(async () => {
    await h.close();
  });
  const view = async () => (await h.app.inject({ method: 'GET', url: '/api/v1/firehose', headers: ADMIN })).json();

  it('writes one warn line per account per minute, counting the answers in between', async () => {
    for (let i = 0; i < 5; i++) expect((await h.post(ping('nobody'))).body.suspend_subscription).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ accountId: 'nobody', reason: 'unknown_account', suspended: 1 });

    clock += LOG_EVERY_MS - 1;
    await h.post(ping('nobody'));
    expect(warnings).toHaveLength(1);
    clock += 1;
    await h.post(ping('nobody'));
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toMatchObject({ accountId: 'nobody', suspended: 6 }); // 4 + 1 unlogged, and this one
    expect((await view()).suspensions).toEqual([expect.objectContaining({ account_id: 'nobody', count: 7, last_at: new Date(clock).toISOString() })]);

    // Another account has its own minute.
    await h.post(ping('somebody'));
    expect(warnings).toHaveLength(3);
  });

  it(`keeps at most ${MAX_SUSPENSIONS} accounts, forgetting the least recently suspended`, async () => {
    for (let i = 0; i <= MAX_SUSPENSIONS; i++) {
      expect((await h.post(ping(`acct-${i}`))).body.suspend_subscription).toBe(true);
      clock += 1;
      if (i === 1) {
        await h.post(ping('acct-0')); // acct-0 is now more recent than acct-1
        clock += 1;
      }
    }
    const v = await view();
    expect(v.suspensions).toHaveLength(MAX_SUSPENSIONS);
    expect(v.suspensions_forgotten).toBe(1);
    const accounts = new Set(v.suspensions.map((s: { account_id: string }) => s.account_id));
    expect(accounts.has('acct-1')).toBe(false);
    expect(accounts.has('acct-0')).toBe(true);
    expect(v.suspensions[0].account_id).toBe(`acct-${MAX_SUSPENSIONS}`); // most recent first
    // Every account's first line is within the minute, so the overall cap applied.
    expect(warnings).toHaveLength(MAX_LINES);
  });
});

describe('FirehoseStatus', () => {
  it('caps the warn lines of all accounts together per minute, and the cap renews', () => {
    const status = new FirehoseStatus(10);
    let now = 0;
    const lines = () => {
      let n = 0;
      for (let i = 0; i < 50; i++) if (status.suspended(`a${i}`, 'unknown_account', 'm', now) > 0) n += 1;
      return n;
    };
    expect(lines()).toBe(Math.min(50, MAX_LINES));
    now += LOG_EVERY_MS;
    expect(lines()).toBe(Math.min(50, MAX_LINES));
    const v = status.view();
    expect(v.suspensions).toHaveLength(10);
    expect(v.suspensions_forgotten).toBe(90);
  });
});
