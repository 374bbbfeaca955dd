import type { Sql } from './db.ts';
import { forgetDownstreams, holdLease } from './lease.ts';

/** X deleted the downstream audience (its audience was deleted): forget it, if the lease is still ours (row locked by holdLease). */
export async function settleDeleted(c: Sql, downstreamId: number, token: string): Promise<boolean> {
  if (!(await holdLease(c, downstreamId, token))) return false;
  await forgetDownstreams(c, [downstreamId]);
  return true;
}
