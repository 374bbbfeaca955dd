/*
 * When a slice of a sliced claim or settle ends (index.ts syncSliceEnd): checked after each row,
 * so it must be cheap. A function rather than a time, because in the writer thread a slice that
 * nobody waits behind runs longer (fewer commits), and only the caller knows who waits.
 */
export type SliceEnd = () => boolean;

/** A whole operation in one transaction (tests, and callers that do not slice). */
export const NEVER: SliceEnd = () => false;

/** The slice ends at `t` (performance.now()). */
export const at =
  (t: number): SliceEnd =>
  () =>
    performance.now() >= t;
