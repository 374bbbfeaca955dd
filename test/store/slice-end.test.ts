/**
 * Where a slice of a claim or a settle ends (src/store/sqlite/index.ts syncSliceEnd). On the
 * serving thread a slice holds the event loop, so it ends after SLICE_MS whatever happens. In the
 * writer thread it holds only the calls queued behind it: it runs on while none waits (each slice is
 * a commit, and a drain nobody waits behind spent its time committing), up to 100 ms, and ends at
 * its next row once a member-change call arrives at the door and SLICE_MS is done.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SLICE_MS, SqliteStore } from '../../src/store/sqlite/index.ts';
import { openSqlite } from '../../src/store/sqlite/open.ts';
import type { SliceEnd } from '../../src/store/sqlite/slice-end.ts';

let clock = 0;
const ended = (end: SliceEnd, at: number): boolean => {
  clock = at;
  return end();
};

describe('a sync slice’s end', () => {
  const stores: SqliteStore[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  const start = (callsWaiting?: () => boolean): SliceEnd => {
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    clock = 1_000;
    const store = new SqliteStore(openSqlite(':memory:'), SLICE_MS, null, callsWaiting ? { callsWaiting } : {});
    stores.push(store);
    return (store as unknown as { syncSliceEnd(): SliceEnd }).syncSliceEnd();
  };

  it('on the serving thread: after SLICE_MS, nobody waiting or not', () => {
    const end = start();
    expect(ended(end, 1_000 + SLICE_MS - 1)).toBe(false);
    expect(ended(end, 1_000 + SLICE_MS)).toBe(true);
  });

  it('in the writer thread with nobody at the door: on past SLICE_MS, until 100 ms', () => {
    const end = start(() => false);
    expect(ended(end, 1_000 + SLICE_MS)).toBe(false);
    expect(ended(end, 1_099)).toBe(false);
    expect(ended(end, 1_100)).toBe(true);
  });

  it('in the writer thread: a call arriving ends the slice once SLICE_MS is done, not before', () => {
    let waiting = false;
    const end = start(() => waiting);
    expect(ended(end, 1_040)).toBe(false);
    waiting = true;
    expect(ended(end, 1_041)).toBe(true);
    const early = start(() => true);
    expect(ended(early, 1_000 + SLICE_MS - 1)).toBe(false);
    expect(ended(early, 1_000 + SLICE_MS)).toBe(true);
  });
});
