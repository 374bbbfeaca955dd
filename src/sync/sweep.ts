import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { QueueStore } from '../store/port.ts';

/**
 * Frees leases held by processes of this host that no longer exist (killed, crashed), so a
 * restarted Tailor picks their work up at once instead of after the lease expires. Leases of other
 * hosts cannot be checked this way and simply expire.
 */
export async function sweepDeadOwners(store: Pick<QueueStore, 'leaseOwners' | 'releaseOwner'>, log: Logger): Promise<void> {
  const host = hostname();
  for (const owner of await store.leaseOwners()) {
    const [ownerHost, pid] = owner.split(':');
    if (ownerHost !== host || !pid || pid === String(process.pid) || isAlive(Number(pid))) continue;
    const freed = await store.releaseOwner(owner);
    if (freed > 0) log.info({ owner, freed }, 'freed the leases of a worker that is gone');
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
