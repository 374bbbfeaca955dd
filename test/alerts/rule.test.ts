/** The alert rule (src/alerts/rule.ts), pure: transitions in, states and events out. */
import { describe, expect, it } from 'vitest';
import { ERASURE_DUE_MS, alertRule } from '../../src/alerts/rule.ts';
import { PRIVACY_WARN_AFTER_MS } from '../../src/services/privacy.ts';
import { verifySignature, signature } from '../../src/alerts/sign.ts';
import { webhookBackoffMs } from '../../src/alerts/loop.ts';
import type { AlertObservations } from '../../src/store/port.ts';

type Config = AlertObservations['configurations'][number];
type Down = AlertObservations['downstreams'][number];
const config: Config = { id: 'c1', name: 'Acme', accountId: 'acc1', state: 'active', stateReason: null };
const down: Down = {
  id: 7,
  audienceId: 'a1',
  audienceName: 'Buyers',
  configurationId: 'c1',
  identityType: 'email',
  xAudienceId: 'x1',
  audienceSize: 1000,
  attempts: 0,
  lastError: null,
};

/** Runs the rule over a sequence of observations, carrying the states over as the store would. */
function run(steps: { at: number; seen: AlertObservations }[], alertAfterMs = 60_000): string[][] {
  const states = new Map<string, string>();
  return steps.map(({ at, seen }) => {
    const out = alertRule(seen, states, { now: at, alertAfterMs });
    for (const s of out.states) {
      if (s.state === null) states.delete(s.subject);
      else states.set(s.subject, s.state);
    }
    return out.events.map((e) => e.type);
  });
}
const obs = (c: Partial<Config> = {}, d: Partial<Down> | null = {}, overdueErasures: AlertObservations['overdueErasures'] = []): AlertObservations => ({
  configurations: [{ ...config, ...c }],
  downstreams: d === null ? [] : [{ ...down, ...d }],
  overdueErasures,
});
const H = 3_600_000;

describe('the alert rule', () => {
  it('raises needs_reauth and resumed once per transition, nothing while the state holds', () => {
    expect(
      run([
        { at: 1, seen: obs() },
        { at: 2, seen: obs({ state: 'needs_reauth', stateReason: 'revoked' }) },
        { at: 3, seen: obs({ state: 'needs_reauth', stateReason: 'revoked' }) },
        { at: 4, seen: obs() },
        { at: 5, seen: obs() },
      ]),
    ).toEqual([[], ['configuration.needs_reauth'], [], ['configuration.resumed'], []]);
  });

  it('says in words which configuration needs re-authorization, why, and what to do', () => {
    const reason = 'X says the access token is no longer valid. Someone needs to log in to X again.';
    const [event] = alertRule(obs({ state: 'needs_reauth', stateReason: reason }), new Map(), { now: 1, alertAfterMs: 1 }).events;
    expect(JSON.parse(event!.body).text).toBe(
      'Tailor: configuration “Acme” (X ad account acc1) needs re-authorization: X says the access token is no longer valid. Someone needs to log in to X again. Its changes wait; re-authorize it in Setup › Outputs.',
    );
  });

  it('raises failing only after alertAfterMs of failures in a row, and recovered only after failing', () => {
    expect(
      run([
        { at: 0, seen: obs({}, { attempts: 1 }) },
        { at: 30_000, seen: obs({}, { attempts: 0 }) }, // recovered before the alert: nothing
        { at: 40_000, seen: obs({}, { attempts: 1 }) },
        { at: 99_000, seen: obs({}, { attempts: 3 }) },
        { at: 100_000, seen: obs({}, { attempts: 4, lastError: 'X had a problem' }) },
        { at: 200_000, seen: obs({}, { attempts: 9 }) },
        { at: 210_000, seen: obs({}, { attempts: 0 }) },
      ]),
    ).toEqual([[], [], [], [], ['x_audience.failing'], [], ['x_audience.recovered']]);
  });

  it('raises recreated with both ids, keeping the old id while X has none', () => {
    const states = new Map<string, string>();
    const step = (seen: AlertObservations) => {
      const out = alertRule(seen, states, { now: 1, alertAfterMs: 60_000 });
      for (const s of out.states) if (s.state !== null) states.set(s.subject, s.state);
      return out.events.map((e) => JSON.parse(e.body));
    };
    step(obs());
    expect(step(obs({}, { xAudienceId: null, audienceSize: null }))).toEqual([]);
    const [event] = step(obs({}, { xAudienceId: 'x2', audienceSize: 10 }));
    expect(event).toMatchObject({ type: 'x_audience.recreated', details: { old_x_audience_id: 'x1', new_x_audience_id: 'x2' } });
    expect(event.objects).toMatchObject({
      configuration: { id: 'c1' },
      audience: { id: 'a1', name: 'Buyers' },
      x_audience: { id: 'x2', identity_type: 'email' },
    });
    expect(event.text).toMatch(/^Tailor: /);
    // The new audience's small size is no drop from the old one's.
    expect(step(obs({}, { xAudienceId: 'x2', audienceSize: 12 }))).toEqual([]);
  });

  it('raises size_dropped when X’s size falls below half of the last one, not for smaller falls', () => {
    expect(
      run([
        { at: 1, seen: obs({}, { audienceSize: 1000 }) },
        { at: 2, seen: obs({}, { audienceSize: 600 }) },
        { at: 3, seen: obs({}, { audienceSize: 299 }) },
        { at: 4, seen: obs({}, { audienceSize: null }) },
        { at: 5, seen: obs({}, { audienceSize: 290 }) },
      ]),
    ).toEqual([[], [], ['x_audience.size_dropped'], [], []]);
  });

  it('forgets subjects no longer seen', () => {
    const states = new Map<string, string>([['downstream:99', '{}']]);
    const out = alertRule(obs({}, null), states, { now: 1, alertAfterMs: 1 });
    expect(out.states).toContainEqual({ subject: 'downstream:99', state: null });
    expect(out.events).toEqual([]);
  });

  it('reports an overdue erasure once, and that it completed once it is no longer overdue', () => {
    const e1 = { id: 'e1', requestedAt: 10 * H };
    const states = new Map<string, string>();
    const step = (now: number, overdue: AlertObservations['overdueErasures']) => {
      const out = alertRule(obs({}, null, overdue), states, { now, alertAfterMs: 1 });
      for (const s of out.states) {
        if (s.state === null) states.delete(s.subject);
        else states.set(s.subject, s.state);
      }
      return out.events.map((e) => JSON.parse(e.body));
    };
    const [overdue, ...more] = step(30.5 * H, [e1]);
    expect(more).toEqual([]);
    expect(overdue).toMatchObject({ type: 'erasure.overdue', objects: { erasure: { id: 'e1' } }, details: { requested_at: new Date(10 * H).toISOString() } });
    expect(overdue.text).toBe(
      'Tailor: erasure e1 is not done 20 h after it was requested; X allows 24 h (3 h left). See Privacy for a configuration to re-authorize or an X audience that keeps failing.',
    );
    expect(step(31 * H, [e1])).toEqual([]);
    expect(step(40 * H, [e1])).toEqual([]); // past X's 24 h: still one event
    const [completed, ...after] = step(41 * H, []);
    expect(after).toEqual([]);
    expect(completed).toMatchObject({
      type: 'erasure.completed',
      objects: { erasure: { id: 'e1' } },
      details: { requested_at: new Date(10 * H).toISOString() },
    });
    expect(completed.text).toBe('Tailor: erasure e1 is done 31 h after it was requested: X acknowledged every removal.');
    expect([...states.keys()]).toEqual(['configuration:c1']); // the erasure's state is forgotten
    expect(step(42 * H, [])).toEqual([]);
  });

  it('waits as long as the UI does before calling an erasure overdue', () => {
    expect(ERASURE_DUE_MS).toBe(PRIVACY_WARN_AFTER_MS);
    expect(ERASURE_DUE_MS).toBe(20 * H);
  });

  it('gives every event its own id', () => {
    const a = alertRule(obs({ state: 'needs_reauth' }), new Map(), { now: 1, alertAfterMs: 1 }).events[0]!;
    const b = alertRule(obs({ state: 'needs_reauth' }), new Map(), { now: 1, alertAfterMs: 1 }).events[0]!;
    expect(a.id).not.toBe(b.id);
    expect(a.id).toMatch(/^evt_[0-9a-f-]{36}$/);
  });
});

describe('webhook signatures and backoff', () => {
  it('signs "<timestamp>.<body>" and refuses a changed body, another secret or an old timestamp', () => {
    const sig = signature('s3cret-s3cret-s3cret', 1_700_000_000, '{"a":1}');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    const ok = (secret: string, body: string, now: number) => verifySignature(secret, { signature: sig, timestamp: '1700000000' }, body, now);
    expect(ok('s3cret-s3cret-s3cret', '{"a":1}', 1_700_000_010)).toBe(true);
    expect(ok('s3cret-s3cret-s3cret', '{"a":2}', 1_700_000_010)).toBe(false);
    expect(ok('other-other-other-other', '{"a":1}', 1_700_000_010)).toBe(false);
    expect(ok('s3cret-s3cret-s3cret', '{"a":1}', 1_700_000_000 + 301)).toBe(false);
  });

  it('backs off from a second, doubling, to ten minutes at most', () => {
    expect(webhookBackoffMs(1, () => 0.5)).toBe(1000);
    expect(webhookBackoffMs(4, () => 0.5)).toBe(8000);
    expect(webhookBackoffMs(40, () => 1)).toBe(720_000);
    expect(webhookBackoffMs(40, () => 0)).toBe(480_000);
  });
});
