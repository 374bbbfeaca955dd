/**
 * Fault injection for /12/ calls: the dice and counters that decide, call by call, whether X
 * answers 429, drops the connection, or fails with 5xx. Token revocation and hand-deleted
 * audiences are applied by the faults route on the token and audience stores.
 */
import type { SizingMode } from '../audiences/sizing.ts';
import type { Rng } from '../util/rng.ts';

export interface FaultSettings {
  error_rate: number;
  error_every: number | null;
  error_status: 500 | 503;
  rate_limit_burst: { count: number; reset_after_s: number } | null;
  latency_ms: number;
  drop_rate: number;
  drop_when: 'before' | 'after';
  only: 'users' | 'all';
  sizing: SizingMode;
}

export const NO_FAULTS: Readonly<FaultSettings> = {
  error_rate: 0,
  error_every: null,
  error_status: 503,
  rate_limit_burst: null,
  latency_ms: 0,
  drop_rate: 0,
  drop_when: 'before',
  only: 'all',
  sizing: 'normal',
};

/** What happens to one call, decided before its handler runs. */
export type FaultDecision =
  | { kind: 'none'; latencyMs: number }
  | { kind: 'rate_limit'; latencyMs: number; resetS: number }
  | { kind: 'drop_before'; latencyMs: number }
  | { kind: 'error'; latencyMs: number; status: 500 | 503 }
  | { kind: 'drop_after'; latencyMs: number };

export class Faults {
  settings: FaultSettings = { ...NO_FAULTS };
  private matchingCalls = 0;

  constructor(private readonly rng: Rng) {}

  reset(): void {
    this.settings = { ...NO_FAULTS };
    this.matchingCalls = 0;
  }

  update(patch: Partial<FaultSettings>): void {
    for (const [k, v] of Object.entries(patch)) if (v !== undefined) Object.assign(this.settings, { [k]: v });
    if (patch.error_every !== undefined) this.matchingCalls = 0;
  }

  /** Decides the fate of one authenticated /12/ call. */
  decide(isUsersCall: boolean, now: number): FaultDecision {
    const s = this.settings;
    if (s.only === 'users' && !isUsersCall) return { kind: 'none', latencyMs: 0 };
    const latencyMs = s.latency_ms;
    const burst = s.rate_limit_burst;
    if (burst !== null && burst.count > 0) {
      burst.count--;
      return { kind: 'rate_limit', latencyMs, resetS: Math.ceil((now + burst.reset_after_s * 1000) / 1000) };
    }
    this.matchingCalls++;
    const dropped = s.drop_rate > 0 && this.rng.next() < s.drop_rate;
    if (dropped && s.drop_when === 'before') return { kind: 'drop_before', latencyMs };
    const everyHit = s.error_every !== null && s.error_every > 0 && this.matchingCalls % s.error_every === 0;
    const rateHit = s.error_rate > 0 && this.rng.next() < s.error_rate;
    if (everyHit || rateHit) return { kind: 'error', latencyMs, status: s.error_status };
    if (dropped) return { kind: 'drop_after', latencyMs };
    return { kind: 'none', latencyMs };
  }
}
