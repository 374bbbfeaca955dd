/**
 * The writer thread's door (src/store/sqlite/door.ts): a big call's slice is cut for a call of
 * another audience waiting to be taken in, never for one of its own audience, which is applied
 * after it anyway.
 */
import { describe, expect, it } from 'vitest';
import { DOOR_SLOTS, callsWaitingAt, doorSlot } from '../../src/store/sqlite/door.ts';

const door = () => new Int32Array(new SharedArrayBuffer(4 * DOOR_SLOTS));

describe('the writer thread door', () => {
  it('sees a call of another audience, not one of the audience excepted', () => {
    const waiting = door();
    expect(callsWaitingAt(waiting)).toBe(false);
    Atomics.add(waiting, doorSlot('buyers'), 1);
    expect(callsWaitingAt(waiting)).toBe(true);
    expect(callsWaitingAt(waiting, 'buyers')).toBe(false);
    const other = ['a1', 'a2', 'a3', 'newsletter'].find((a) => doorSlot(a) !== doorSlot('buyers'))!;
    expect(callsWaitingAt(waiting, other)).toBe(true);
    Atomics.sub(waiting, doorSlot('buyers'), 1);
    expect(callsWaitingAt(waiting, other)).toBe(false);
  });

  it('spreads audiences over its slots', () => {
    const used = new Set(Array.from({ length: 1_000 }, (_, i) => doorSlot(`audience-${i}`)));
    expect(used.size).toBe(DOOR_SLOTS);
    for (const slot of used) expect(slot).toBeGreaterThanOrEqual(0);
    expect(doorSlot('same')).toBe(doorSlot('same'));
  });
});
