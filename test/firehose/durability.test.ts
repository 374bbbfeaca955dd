import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/errors.ts';
import type { Store } from '../../src/store/port.ts';
import { ACCOUNT, fixture, forAccount, startInProcess, type Harness } from './helpers.ts';

/** A store whose writes of member changes fail as a full disk would, until told otherwise. */
function failing(store: Store, state: { fail: boolean }): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'applyMemberChanges' && state.fail) {
        return async () => {
          throw new StoreUnavailableError('database write failed (SQLITE_FULL)');
        };
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('POST /firehose when the change cannot be made durable', () => {
  const state = { fail: true };
  let h: Harness;
  beforeAll(async () => {
    h = await startInProcess({ wrapStore: (s) => failing(s, state) });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers 503 (mParticle retries), and the retry after recovery is applied', async () => {
    const msg = forAccount(fixture('membership-change.json'), ACCOUNT);
    const res = await h.post(msg);
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'unavailable' });
    expect(h.members()).toEqual([]);

    state.fail = false;
    const retry = await h.post(msg);
    expect(retry.status).toBe(200);
    expect(retry.body.suspend_subscription).toBe(false);
    expect(h.members('7622')).toHaveLength(4);
  });
});
