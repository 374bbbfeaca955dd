/*
 * The writer thread's door (writer.ts explains it): the count of member-change calls posted to the
 * thread and not yet taken in, one slot per audience modulo DOOR_SLOTS, in memory both threads
 * share. The thread reads it between the parts of a big call, where it cannot read a message.
 */

/**
 * Slots of the door, one per audience modulo this. Two audiences that share a slot do not cut each
 * other's slices: a call of one waits for the other's slice to end, as before there was a door.
 */
export const DOOR_SLOTS = 64;

export function doorSlot(audienceId: string): number {
  // FNV-1a: any spread will do, and this one needs no library.
  let h = 0x811c9dc5;
  for (let i = 0; i < audienceId.length; i++) h = Math.imul(h ^ audienceId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % DOOR_SLOTS;
}

/** Whether a member-change call waits at the door, one of `except`'s audience not counted. */
export function callsWaitingAt(waiting: Int32Array, except?: string): boolean {
  const own = except === undefined ? -1 : doorSlot(except);
  for (let i = 0; i < DOOR_SLOTS; i++) if (i !== own && Atomics.load(waiting, i) > 0) return true;
  return false;
}
