/**
 * The retention pass (src/sync/retention.ts): X's data is cut at now − TAILOR_X_DATA_RETENTION_DAYS,
 * and the delivery log (X's answers to each `users` call) at its own window or that, whichever is
 * sooner: a log kept 14 days under a 1-day retention keeps 1 day.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { RetentionStore } from '../../src/store/port.ts';
import { RetentionPruner } from '../../src/sync/retention.ts';

const DAY = 86_400_000;
const now = 1_000 * DAY;

function pruner(opts: { retentionMs: number; deliveryLogMs?: number }): { pruner: RetentionPruner; cuts: [number, number][] } {
  const cuts: [number, number][] = [];
  const store: RetentionStore = {
    pruneXData: async (before, logBefore) => {
      cuts.push([before, logBefore]);
      return { samples: 0, downstreams: 0, deliveries: 0 };
    },
  };
  return { pruner: new RetentionPruner({ store, log: pino({ level: 'silent' }), now: () => now }, opts), cuts };
}

describe('the retention pass', () => {
  it.each([
    ['a log window shorter than the retention', { retentionMs: 90 * DAY, deliveryLogMs: 14 * DAY }, now - 14 * DAY],
    ['a retention shorter than the log window', { retentionMs: DAY, deliveryLogMs: 14 * DAY }, now - DAY],
    ['no log window given', { retentionMs: 90 * DAY }, now - 90 * DAY],
  ])('cuts the delivery log at the sooner of its window and the retention: %s', async (_, opts, logBefore) => {
    const { pruner: p, cuts } = pruner(opts);
    await p.prune();
    expect(cuts).toEqual([[now - opts.retentionMs, logBefore]]);
  });
});
