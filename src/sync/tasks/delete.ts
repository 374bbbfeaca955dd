import { downstreamMarker, hasMarker } from '../../x/facts.ts';
import type { SyncContext, TaskInput } from '../context.ts';

/** Deletes the X audience of a deleted source audience (found by marker if its id was never recorded). */
export async function deleteTask(ctx: SyncContext, input: TaskInput): Promise<void> {
  const { claim } = input;
  const d = claim.downstream;
  let xId = d.xAudienceId;
  if (xId === null && claim.createAttemptName !== null) {
    const marker = downstreamMarker(ctx.installationId, d.id, d.identityType);
    await input.gate('read');
    const list = await ctx.x.listAudiences(input.tokens, input.accountId, { q: claim.createAttemptName });
    xId = list.find((a) => !a.deleted && hasMarker(a.description, marker))?.id ?? null;
  }
  if (xId !== null) {
    await input.gate('write');
    await ctx.x.deleteAudience(input.tokens, input.accountId, xId); // a 404 counts as done
  }
  if (await ctx.store.settleDeleted(d.id, claim.leaseToken)) {
    ctx.log.info({ downstream: d.id, xAudienceId: xId }, 'downstream audience deleted on X');
  }
}
