/**
 * Long synchronous work (hashing, validating or converting a 100,000-member request) cut into
 * pieces of about `budgetMs`, the event loop given back between them, so that no other caller
 * waits behind one big request (issue 13: no piece of work over ~20 ms). setImmediate runs after
 * the I/O already queued: the requests that arrived meanwhile are read before the next piece.
 */
export type Pace = () => Promise<void> | undefined;

/** Work this long between two yields (ms). */
export const PIECE_MS = 10;

/** Lets queued I/O (other requests) run before the caller goes on: setImmediate runs after it. */
export const yieldLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function pacer(budgetMs = PIECE_MS): Pace {
  let since = performance.now();
  return () => {
    if (performance.now() - since < budgetMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = performance.now();
        resolve();
      }),
    );
  };
}

/** `fn` over every item, in order, yielding to the loop whenever `pace` says so. */
export async function eachPaced<T>(items: readonly T[], fn: (item: T, index: number) => void, pace: Pace = pacer()): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    fn(items[i]!, i);
    // Checking the clock costs little, but not nothing: every 64 items is often enough.
    if ((i & 63) === 63) await pace();
  }
}
