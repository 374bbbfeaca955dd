/**
 * What the status says about one X audience (issue 16): the match rate over the membership X
 * sized, errors resolved by a later success, the next send, and when it needs attention.
 */
import { describe, expect, it } from 'vitest';
import { downstreamView, deliveryViews } from '../../src/services/status.ts';
import { downstreamState } from '../../src/services/views.ts';
import type { Configuration, DownstreamStatus } from '../../src/store/port.ts';

const T = Date.UTC(2026, 0, 1);
const base: DownstreamStatus = {
  id: 1,
  audienceId: 'a1',
  configurationId: 'c1',
  identityType: 'email',
  state: 'active',
  xAudienceId: 'x1',
  xName: 'Buyers (email)',
  nameSuffix: 1,
  sentAdds: 500,
  sentRemoves: 0,
  rejected: 0,
  renewed: 0,
  members: 500,
  audienceSize: 360,
  targetable: true,
  reasonsNotTargetable: [],
  lastSyncedAt: T,
  lastError: null,
  lastErrorAt: null,
  attempts: 0,
  nextAttemptAt: 0,
  refreshedAt: T,
  processingSince: null,
  sizedAt: T,
  sizedMembers: 480,
  previousXAudienceId: null,
  recreatedAt: null,
  sendIntervalMs: null,
  nextSendAt: 0,
  resyncBefore: null,
  resyncTotal: 0,
  resyncRemaining: null,
  deleteForce: false,
  deleteBlockedBy: null,
  pending: 0,
  pendingAdds: 0,
  pendingRemoves: 0,
  oldestPendingAt: null,
  uncertain: 0,
  target: 500,
};
const config = { state: 'active' } as Configuration;

describe('downstreamView', () => {
  it('divides X’s size by the membership X sized, not by today’s', () => {
    expect(downstreamView(base, config)).toMatchObject({ members: 500, sized_members: 480, match_rate: 0.75, needs_attention: false });
    // X processing: its last report stays, and so does the rate.
    expect(downstreamView({ ...base, members: 900, processingSince: T + 1000 }, config)).toMatchObject({
      audience_size: 360,
      match_rate: 0.75,
      processing_since: new Date(T + 1000).toISOString(),
    });
  });

  it('shows an error resolved once a later call succeeded', () => {
    const failing = { ...base, lastError: 'X is unavailable (503)', lastErrorAt: T + 5000 };
    expect(downstreamView(failing, config, [{ at: T + 5000, message: 'X is unavailable (503)' }])).toMatchObject({
      last_error_resolved_at: null,
      recent_errors: [{ resolved: false }],
      needs_attention: true,
    });
    const fixed = { ...failing, lastSyncedAt: T + 9000 };
    expect(downstreamView(fixed, config, [{ at: T + 5000, message: 'X is unavailable (503)' }])).toMatchObject({
      last_error: 'X is unavailable (503)',
      last_error_resolved_at: new Date(T + 9000).toISOString(),
      recent_errors: [{ resolved: true }],
      needs_attention: false,
    });
  });

  it('says when waiting changes go: the flush interval after the oldest, or after a backoff; never while paused', () => {
    const waiting = { ...base, pending: 3, pendingAdds: 2, pendingRemoves: 1, oldestPendingAt: T };
    expect(downstreamView(waiting, config, [], { flushIntervalMs: 30_000 })).toMatchObject({
      pending: 3,
      pending_adds: 2,
      pending_removes: 1,
      oldest_pending_at: new Date(T).toISOString(),
      next_send_at: new Date(T + 30_000).toISOString(),
    });
    expect(downstreamView({ ...waiting, nextAttemptAt: T + 90_000 }, config, [], { flushIntervalMs: 30_000 }).next_send_at).toBe(
      new Date(T + 90_000).toISOString(),
    );
    const paused = downstreamView(waiting, { state: 'needs_reauth' } as Configuration);
    expect(paused).toMatchObject({ state: 'paused', next_send_at: null, needs_attention: true });
  });

  it('needs attention when not targetable once sized, not while X processes; and when re-created', () => {
    const small = { ...base, audienceSize: null, targetable: false, reasonsNotTargetable: ['TOO_SMALL'] };
    expect(downstreamView(small, config).needs_attention).toBe(true);
    expect(downstreamView({ ...small, sizedAt: null }, config).needs_attention).toBe(false);
    expect(downstreamView({ ...base, state: 'recreating', previousXAudienceId: 'x0', recreatedAt: T }, config)).toMatchObject({
      needs_attention: true,
      previous_x_audience_id: 'x0',
    });
    expect(downstreamView({ ...base, state: 'deleting', lastError: 'e', lastErrorAt: T + 1e6 }, config).needs_attention).toBe(false);
  });

  it('says an X audience with no member to send waits for its first, not that it is being created', () => {
    const none = { ...base, state: 'creating' as const, xAudienceId: null, xName: null, members: 0, target: 0, sentAdds: 0, lastSyncedAt: null };
    expect(downstreamView(none, config)).toMatchObject({ state: 'waiting_for_member', next_send_at: null, needs_attention: false, last_error: null });
    // A remove of a hash X never held (a member came and went) creates nothing, and is never sent.
    const gone = { ...none, pending: 1, pendingRemoves: 1, oldestPendingAt: T };
    expect(downstreamView(gone, config)).toMatchObject({ state: 'waiting_for_member', next_send_at: null });
    // Its first member is due: now it is being created, and the add goes with it.
    const due = { ...none, pending: 1, pendingAdds: 1, oldestPendingAt: T, target: 1 };
    expect(downstreamView(due, config)).toMatchObject({ state: 'creating', next_send_at: new Date(T + 10_000).toISOString() });
    // Lost on X with no member left to hold: it waits too, and the lost id still asks for re-pointing.
    const lost = { ...none, state: 'recreating' as const, previousXAudienceId: 'x0', recreatedAt: T };
    expect(downstreamView(lost, config)).toMatchObject({ state: 'waiting_for_member', previous_x_audience_id: 'x0', needs_attention: true });
    // A paused configuration says so first.
    expect(downstreamView(none, { state: 'needs_reauth' } as Configuration).state).toBe('paused');
  });

  it('every state the API gives has the UI’s word and help for it', async () => {
    const words = (await import(new URL('../../src/ui/assets/words.js', import.meta.url).href)) as {
      STATE_WORDS: Record<string, string>;
      STATE_HELP: Record<string, string>;
    };
    for (const state of downstreamState.options) {
      expect([state, typeof words.STATE_WORDS[state], typeof words.STATE_HELP[state]]).toEqual([state, 'string', 'string']);
    }
  });

  it('marks a failed delivery resolved once a later send settled', () => {
    const row = {
      id: 7,
      downstreamId: 1,
      at: T - 1000,
      adds: 1,
      removes: 0,
      bytes: 100,
      status: 503,
      successCount: null,
      totalCount: null,
      durationMs: 40,
      error: 'X is unavailable (503)',
    };
    expect(deliveryViews([row], [base])[0]).toMatchObject({ resolved: true, x_audience_id: 'x1', identity_type: 'email', configuration_id: 'c1' });
    expect(deliveryViews([{ ...row, at: T + 1 }], [base])[0]!.resolved).toBe(false);
    expect(deliveryViews([{ ...row, error: null, status: 200 }], [base])[0]!.resolved).toBe(false);
  });
});
