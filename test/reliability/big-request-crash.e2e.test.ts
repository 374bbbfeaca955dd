/**
 * A big REST request is applied in slices on SQLite (issue 13, speed 3), each its own transaction,
 * and answered only after the last one. SIGKILL in the middle: part of it is in the database and
 * the request was never answered; its sender sends it again to the restarted process, and X ends
 * with exactly its members, each hash once.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { TailorProcess, waitFor } from '../e2e/harness.ts';
import { count, createAudiences, startStack, type Stack } from './stack.ts';

const N = 20_000;
const members = Array.from({ length: N }, (_, i) => ({ user_id: `big${i}`, email: `big${i}@example.com`, twitter_handle: `@big_${i}` }));

describe('a big request cut short by a crash', () => {
  let s: Stack | undefined;
  afterAll(async () => {
    await s?.tailor.kill();
    await s?.emu.close();
    if (s) rmSync(s.tailor.dir, { recursive: true, force: true });
  });

  it('keeps a prefix, is answered only when whole, and the resent request leaves X exact', async () => {
    s = await startStack();
    const stack = s;
    await createAudiences(stack.tailor, stack.configId, ['big']);
    const inDb = (): number => count(stack.tailor.dir, "SELECT COALESCE(SUM(length(identities) / 33), 0) FROM members WHERE audience_id = 'big'");

    let answered = false;
    const first = stack.tailor.api('POST', '/audiences/big/members', { add: members }).then(
      () => (answered = true),
      () => undefined, // the connection dies with the process
    );
    await waitFor('part of the request committed', async () => inDb() > 0, 60_000, 5);
    await stack.tailor.kill('SIGKILL');
    await first;
    expect(answered).toBe(false);
    const kept = inDb();
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(2 * N); // two hashes per member: a prefix, not the whole request

    stack.tailor = await TailorProcess.start(stack.emu, { dir: stack.tailor.dir, env: stack.tailor.env });
    expect((await stack.tailor.api('POST', '/audiences/big/members', { add: members })).status).toBe(202);
    expect(inDb()).toBe(2 * N);
    await waitFor(
      'X to hold every hash once',
      async () => {
        const downs = await stack.tailor.downstreams('big');
        return downs.email?.members === N && downs.handle?.members === N && downs.email.pending === 0 && downs.handle.pending === 0;
      },
      120_000,
    );
    const downs = await stack.tailor.downstreams('big');
    for (const type of ['email', 'handle']) {
      const held = await stack.emu.members(stack.accountId, downs[type].x_audience_id as string);
      const hashes = Object.values(held).flat();
      expect(hashes).toHaveLength(N);
      expect(new Set(hashes).size).toBe(N);
    }
  });
});
