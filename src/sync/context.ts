import type { Logger } from 'pino';
import type { SecretBox } from '../core/secret-box.ts';
import type { Claim, QueueStore } from '../store/port.ts';
import type { XUserTokens } from '../x/types.ts';
import type { RateFamily, RateGate } from './rate.ts';
import type { XApi } from './x-api.ts';

/** What a task needs: the store, X, the rate gate, a clock and a logger. */
export interface SyncContext {
  store: QueueStore;
  x: XApi;
  rate: RateGate;
  box: SecretBox;
  log: Logger;
  now: () => number;
  installationId: string;
  /** How long a deletion held back by active campaigns waits before X is asked again (default: 15 minutes). */
  deleteRecheckMs?: number;
}

/** One claimed downstream audience, with its tokens opened and its account at hand. */
export interface TaskInput {
  claim: Claim;
  tokens: XUserTokens;
  accountId: string;
  /** Waits for a rate token; throws WaitTooLong when the wait would hold the lease too long. */
  gate(family: RateFamily): Promise<void>;
}

/** Raised when the rate gate asks for a longer wait than a lease should be held idle. */
export class WaitTooLong extends Error {
  constructor(readonly until: number) {
    super('rate limit: waiting for the next window');
  }
}
