/**
 * Audience sizing, standing in for X's batch jobs (docs/reference/x-ads-api.md 6): an audience changed at time t
 * is sized at t + sizing delay. Sizing is lazy: it happens when someone looks (any API read, the
 * back door, or POST /_emulator/sizing), which nobody can tell apart from a timer, and it needs no
 * timers to cancel on close.
 *
 * The size is the number of distinct ACTIVE population users matched by any hash held now under
 * `email`, `handle`, `device_id` or `phone_number`.
 */
import type { Population } from '../world/population.ts';
import type { Audience } from './audience.ts';
import type { WindowTable } from './membership.ts';

/** docs/reference/x-ads-api.md 6.1, project decision: 100 matched users active in the past 90 days. */
export const TARGETING_MINIMUM = 100;

export type SizingMode = 'normal' | 'never';

export interface SizingContext {
  population: Population;
  windows: WindowTable;
  delayMs: number;
  mode: SizingMode;
}

const MATCHABLE = ['email', 'handle', 'device_id', 'phone_number'] as const;

/** A change to members (or the creation) makes the audience PROCESSING until the next sizing run. */
export function markChanged(audience: Audience, now: number): void {
  audience.pendingSince ??= now;
}

/** Runs the sizing that is due by now, if any. */
export function settle(audience: Audience, ctx: SizingContext, now: number): void {
  if (ctx.mode === 'never' || audience.deleted) return;
  const due = audience.pendingSince !== null ? now >= audience.pendingSince + ctx.delayMs : audience.refreshAt !== null && now >= audience.refreshAt;
  if (due) sizeNow(audience, ctx, now);
}

/** A sizing run now, whatever the delay. */
export function sizeNow(audience: Audience, ctx: SizingContext, now: number): void {
  const matched = new Set<number>();
  let nextBoundary = Number.POSITIVE_INFINITY;
  for (const key of MATCHABLE) {
    for (const [hash, windowId] of audience.members.get(key) ?? []) {
      const w = ctx.windows.get(windowId);
      if (now < w.effectiveAt) {
        nextBoundary = Math.min(nextBoundary, w.effectiveAt);
        continue;
      }
      if (now >= w.expiresAt) continue;
      nextBoundary = Math.min(nextBoundary, w.expiresAt);
      const user = ctx.population.matchActive(key, hash);
      if (user !== undefined) matched.add(user);
    }
  }
  audience.matchedSize = matched.size;
  audience.sizedAt = now;
  audience.pendingSince = null;
  audience.refreshAt = Number.isFinite(nextBoundary) ? nextBoundary : null;
}
