/**
 * The renewal pass's rule (src/store/renewals.ts) against a model of one X ledger, with scan
 * limits and batches far smaller than the real ones so that passes take many steps: hashes
 * confirmed at random times, a step per flush interval, batches settled, refused in part or lost,
 * rows that may not be renewed for a while. The bound never exceeds the oldest confirmation, and
 * without losses every hash is renewed within two passes of its renewal age.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cursorAfterSettle, renewalSteps, runRenewalSteps, type RenewalState, type ScannedRow } from '../../src/store/renewals.ts';

const RENEW = 100;
const FLUSH = 1;

const key = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

interface World {
  ledger: Map<number, number>; // hash → confirmed at
  state: RenewalState;
}

/** What settle-sent does for hashes X confirmed at `t`. */
function confirm(w: World, hashes: number[], t: number): void {
  for (const x of hashes) w.ledger.set(x, t);
  if (hashes.length === 0) return;
  w.state.renew_bound = Math.min(w.state.renew_bound ?? t, t);
  if (w.state.renew_pass_min !== null) w.state.renew_pass_min = Math.min(w.state.renew_pass_min, t);
}

function step(w: World, t: number, room: number, limit: number, blocked: (x: number) => boolean): number[] {
  const sorted = [...w.ledger.keys()].sort((a, b) => a - b);
  const scan = (cursor: Buffer | null): ScannedRow[] =>
    sorted
      .filter((x) => cursor === null || Buffer.compare(key(x), cursor) > 0)
      .slice(0, limit)
      .map((x) => ({ hash: key(x), confirmed_at: w.ledger.get(x)!, eligible: w.ledger.get(x)! <= t - RENEW && !blocked(x) }));
  const outcome = runRenewalSteps(renewalSteps(w.state, t, t - RENEW, room, limit), scan);
  if (outcome === null) return [];
  w.state = { ...outcome.state };
  return outcome.taken.map((b) => b.readUInt32BE());
}

/** A settled batch moves the pass's cursor (settle-sent.ts). */
function settle(w: World, taken: number[], refused: Set<number>, t: number): void {
  confirm(
    w,
    taken.filter((x) => !refused.has(x)),
    t,
  );
  const hex = (x: number): string => key(x).toString('hex');
  const cursor = cursorAfterSettle(taken.map(hex), new Set([...refused].map(hex)));
  if (cursor !== null && w.state.renew_pass_min !== null) w.state.renew_cursor = Buffer.from(cursor, 'hex');
}

const oldest = (w: World): number => Math.min(...w.ledger.values());

const arrivals = fc.array(fc.record({ at: fc.integer({ min: 0, max: 3 * RENEW }), hash: fc.integer({ min: 0, max: 10_000 }) }), {
  minLength: 1,
  maxLength: 60,
});

describe('renewal passes in hash order (renewals.ts)', () => {
  it('the bound never exceeds the oldest confirmation, whatever is lost, refused or held back', () => {
    fc.assert(
      fc.property(
        arrivals,
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 8 }),
        fc.infiniteStream(fc.constantFrom('sent', 'sent', 'refused', 'lost')),
        fc.integer({ min: 0, max: 4 }),
        (arr, room, limit, fates, blockMod) => {
          const w: World = { ledger: new Map(), state: { renew_bound: null, renew_pass_min: null, renew_cursor: null } };
          const fate = fates[Symbol.iterator]();
          for (let t = 0; t <= 6 * RENEW; t += FLUSH) {
            confirm(
              w,
              arr.filter((a) => a.at === t && !w.ledger.has(a.hash)).map((a) => a.hash),
              t,
            );
            // Some hashes held back now and then (a pending change): never renewed then.
            const taken = step(w, t, room, limit, (x) => blockMod > 0 && (x + Math.floor(t / 7)) % (blockMod + 1) === 0);
            const f = fate.next().value as string;
            if (taken.length > 0 && f !== 'lost') settle(w, taken, f === 'refused' ? new Set([taken[0]!]) : new Set(), t);
            if (w.ledger.size > 0) {
              expect(w.state.renew_bound).not.toBeNull();
              expect(w.state.renew_bound!).toBeLessThanOrEqual(oldest(w));
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('without losses, every hash is renewed within two passes of its renewal age', () => {
    fc.assert(
      fc.property(arrivals, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), (arr, room, limit) => {
        const n = new Set(arr.map((a) => a.hash)).size;
        const pass = Math.ceil(n / limit) + Math.ceil(n / room) + 2;
        const deadline = RENEW + (2 * pass + 2) * FLUSH;
        const w: World = { ledger: new Map(), state: { renew_bound: null, renew_pass_min: null, renew_cursor: null } };
        for (let t = 0; t <= 6 * RENEW; t += FLUSH) {
          confirm(
            w,
            arr.filter((a) => a.at === t && !w.ledger.has(a.hash)).map((a) => a.hash),
            t,
          );
          settle(
            w,
            step(w, t, room, limit, () => false),
            new Set(),
            t,
          );
          for (const at of w.ledger.values()) expect(t - at).toBeLessThanOrEqual(deadline);
        }
      }),
      { numRuns: 150 },
    );
  });
});
