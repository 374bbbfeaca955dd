import type Database from 'better-sqlite3';
import { forgetDownstream, holds } from './lease.ts';

/** X deleted the downstream audience (its audience was deleted): forget it, if the lease is still ours. */
export function settleDeleted(db: Database.Database, downstreamId: number, token: string): boolean {
  if (!holds(db, downstreamId, token)) return false;
  forgetDownstream(db, downstreamId);
  return true;
}
