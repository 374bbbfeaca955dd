/**
 * Database faults (issue 7), on a real filesystem: the SQLite database of a running `tailor serve`
 * lives on a small ext4 filesystem on a loop device, which the test first fills (disk full), then
 * makes unwritable (`chattr +i` on the database and its WAL, the kernel then refuses every write
 * through the open files; a read-only remount is impossible while SQLite holds them open, and on
 * tmpfs `chattr +i` does not stop writes through open files, hence ext4). Under each fault:
 * `POST /api/v1/.../members` and `POST /firehose` answer 503 (their senders retry), `/readyz`
 * answers 503, `/healthz` 200, and the sync loop keeps running. When the fault clears, Tailor
 * recovers by itself, the same process: the retried requests are acknowledged, and X ends holding
 * exactly every acknowledged change, including those acknowledged just before the fault.
 *
 * Needs root (mount, a loop device, mkfs.ext4, chattr); skipped with a message otherwise, except
 * in CI (CI set), where it fails. The mount is removed in afterAll whatever happens.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../e2e/harness.ts';
import { fixture, forAccount } from '../firehose/helpers.ts';
import { randomBytes } from 'node:crypto';
import { createAudiences, expectNoRawPii, inFlight, secretsOf, send, startStack, waitExact, type Stack } from './stack.ts';
import { Workload, type MembersRequest } from './workload.ts';

/** A Firehose membership message adding 50 new pre-hashed members to audience 7622. */
function firehoseMessage(accountId: string): unknown {
  const msg = forAccount(fixture('membership-change.json'), accountId);
  const template = msg.user_profiles[0];
  msg.id = randomBytes(16).toString('hex');
  msg.user_profiles = Array.from({ length: 50 }, () => ({
    ...template,
    mpid: String(randomBytes(6).readUIntBE(0, 6)),
    user_identities: [{ type: 'email', encoding: 'sha256', value: randomBytes(32).toString('hex') }],
    device_identities: [],
  }));
  return msg;
}

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

describe('database faults: disk full, database unwritable', () => {
  const base = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'tailor-dbfault-'));
  const image = join(base, 'fs.img');
  const mnt = join(base, 'mnt');
  const filler = join(mnt, 'filler');
  let mounted = false;
  /** Why the loop filesystem could not be mounted (not root, no mkfs.ext4, no loop device). */
  let cannotMount: Error | null = null;
  let stack: Stack | undefined;

  beforeAll(() => {
    try {
      run('truncate', ['-s', '48M', image]);
      run('mkfs.ext4', ['-q', '-F', '-m', '0', image]);
      run('mkdir', ['-p', mnt]);
      run('mount', ['-o', 'loop', image, mnt]);
      run('chattr', ['-i', mnt]); // chattr is there
      mounted = true;
    } catch (err) {
      cannotMount = err as Error;
    }
  });

  afterAll(async () => {
    try {
      await stack?.tailor.kill();
      await stack?.emu.close();
    } finally {
      if (mounted) {
        for (const f of ['tailor.db', 'tailor.db-wal']) {
          try {
            run('chattr', ['-i', join(mnt, f)]);
          } catch {
            // not there, or not immutable
          }
        }
        try {
          run('umount', [mnt]);
        } catch {
          run('umount', ['-l', mnt]); // lazy: detaches now, frees once the last file closes
        }
      }
      rmSync(base, { recursive: true, force: true });
    }
  });

  /** Writes until the filesystem refuses: first in big blocks, then the last few bytes. */
  function fillDisk(): void {
    const fd = openSync(filler, 'w');
    try {
      for (const size of [1 << 20, 4096, 64]) {
        const buf = Buffer.alloc(size, 1);
        try {
          for (;;) writeSync(fd, buf);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  async function status(path: string): Promise<number> {
    return (await fetch(`${stack!.tailor.url}${path}`)).status;
  }

  /**
   * Calls `attempt` until it answers 503, at most 300 times; every other answer must be a success.
   * Under the unwritable fault the first call is refused; under disk full a few may still fit.
   */
  async function refusedWithin(what: string, attempt: () => Promise<number>): Promise<void> {
    for (let i = 0; i < 300; i += 1) {
      const code = await attempt();
      if (code === 503) return;
      expect([200, 202], what).toContain(code);
    }
    throw new Error(`${what}: never refused`);
  }

  async function firehose(msg: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`${stack!.tailor.url}/firehose`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(msg) });
    return { status: res.status, body: await res.json() };
  }

  it('answers 503 while the database cannot take writes, loses nothing, and recovers by itself', async (ctx) => {
    if (cannotMount) {
      // As the browser tests do: skipped on a developer's machine without root, required in CI.
      if (process.env.CI === 'true') throw cannotMount;
      console.warn(`database-faults: skipped, cannot mount a loop filesystem (needs root, mkfs.ext4, chattr): ${cannotMount.message}`);
      ctx.skip();
    }
    const s = (stack = await startStack({ dir: mnt }));
    const pid = s.tailor.child.pid;
    const ids = ['dbf-a', 'dbf-b'];
    await createAudiences(s.tailor, s.configId, ids);
    const work = new Workload('dbf', 3);
    for (const id of ids) await send(() => s.tailor, work, id, work.request(id, 2_000));
    await waitExact(s, work, ids);

    const faults: { name: string; apply: () => void; clear: () => void }[] = [
      { name: 'disk full', apply: fillDisk, clear: () => unlinkSync(filler) },
      {
        name: 'database unwritable',
        apply: () => run('chattr', ['+i', join(mnt, 'tailor.db'), join(mnt, 'tailor.db-wal')]),
        clear: () => run('chattr', ['-i', join(mnt, 'tailor.db'), join(mnt, 'tailor.db-wal')]),
      },
    ];
    for (const fault of faults) {
      // Acknowledged just before the fault, while X answers slowly: batches are in flight when
      // the store starts failing, and their settles fail.
      await s.emu.faults({ latency_ms: 800, only: 'users' });
      for (const id of ids) await send(() => s.tailor, work, id, work.request(id, 1_000));
      await waitFor('a batch in flight', async () => inFlight(mnt) > 0, 30_000, 20);
      const logsBefore = s.tailor.logs.length;
      fault.apply();
      try {
        // A full disk may still take writes that fit in space SQLite already holds (its WAL is
        // reused after each checkpoint): those are acknowledged, durable, and kept in the model.
        // Writes go on until each endpoint refuses; anything but 202/200 or 503 fails the test.
        const pending: { id: string; req: MembersRequest }[] = [];
        let tries = 0;
        await refusedWithin(`${fault.name}: members`, async () => {
          const id = ids[(tries += 1) % ids.length]!;
          const req = work.request(id, 1_000);
          const res = await s.tailor.api('POST', `/audiences/${id}/members`, req);
          if (res.status === 202) work.ack(id, req);
          else {
            expect(res.body.error).toEqual({ code: 'unavailable', message: expect.stringMatching(/durably/) });
            pending.push({ id, req });
          }
          return res.status;
        });
        const refusedFirehose: unknown[] = [];
        await refusedWithin(`${fault.name}: firehose`, async () => {
          const msg = firehoseMessage(s.accountId);
          const res = await firehose(msg);
          if (res.status === 503) refusedFirehose.push(msg);
          return res.status;
        });
        await refusedWithin(`${fault.name}: readyz`, () => status('/readyz'));
        expect(await status('/healthz')).toBe(200);
        // Reads still work: the status page shows the audiences.
        expect((await s.tailor.api('GET', `/audiences/${ids[0]}`)).status).toBe(200);
        // The sync loop meets the failing store and keeps going (it logs and retries).
        await waitFor(`${fault.name}: the sync loop to meet the store error`, async () => /sync loop error/.test(s.tailor.logs.slice(logsBefore)));
        await s.emu.faults({ reset: true });

        fault.clear();
        // Recovers by itself: no restart.
        await waitFor(`${fault.name}: /readyz to answer 200 again`, async () => (await status('/readyz')) === 200);
        for (const { id, req } of pending) await send(() => s.tailor, work, id, req);
        for (const msg of refusedFirehose) expect((await firehose(msg)).status).toBe(200);
      } catch (err) {
        try {
          fault.clear();
        } catch {
          // already cleared
        }
        throw err;
      }
      // Well within the 60 s lease: a batch whose settle failed is released once the store is back.
      const since = Date.now();
      await waitExact(s, work, ids, 30_000);
      console.log(`database faults: ${fault.name}: exact on X ${((Date.now() - since) / 1000).toFixed(1)} s after the fault cleared`);
    }
    // Batches in flight when the store failed could not be settled; their leases were released
    // once it recovered instead of idling their audiences for the 60 s lease (LEASE_MS).
    expect(s.tailor.logs.match(/released a lease whose settle had failed on a store error/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(s.tailor.child.pid).toBe(pid);
    expect(s.tailor.child.exitCode).toBeNull();
    const fh = (await s.tailor.audience('7622')) as { members: number };
    expect(fh.members).toBeGreaterThan(0);
    expectNoRawPii(mnt, s.tailor.logs, work.rawSample, secretsOf(s));
  }, 240_000);
});
