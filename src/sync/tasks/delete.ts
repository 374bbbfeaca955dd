import { AudienceNotFoundError } from '../../core/errors.ts';
import { downstreamMarker, hasMarker } from '../../x/facts.ts';
import type { SyncContext, TaskInput } from '../context.ts';

/** A deletion held back by campaigns is looked at again after this long, unless the context says otherwise. */
export const DELETE_RECHECK_MS = 15 * 60_000;

/**
 * Deletes the X audience of a deleted source audience (found by marker if its id was never
 * recorded). The campaign guard first: unless the deletion was forced, X is asked which campaigns'
 * active line items target the audience (2.8 `targeted?with_active=true`); while any do, the
 * audience stays, the status names them, and X is asked again later.
 */
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
  if (xId !== null && !d.deleteForce) {
    await input.gate('read');
    const campaigns = await ctx.x.targetedCampaigns(input.tokens, input.accountId, xId).catch((err: unknown) => {
      if (err instanceof AudienceNotFoundError) return []; // already gone: the DELETE below is a no-op
      throw err;
    });
    const active = campaigns.filter((c) => c.lineItems.length > 0);
    if (active.length > 0) {
      const now = ctx.now();
      if (await ctx.store.holdDeletion(d.id, claim.leaseToken, active, now, now + (ctx.deleteRecheckMs ?? DELETE_RECHECK_MS))) {
        ctx.log.warn(
          { downstream: d.id, xAudienceId: xId, campaigns: active.map((c) => c.campaignId) },
          'X audience not deleted: active campaigns target it; waiting (delete with force to proceed)',
        );
      }
      return;
    }
  }
  if (xId !== null) {
    await input.gate('write');
    await ctx.x.deleteAudience(input.tokens, input.accountId, xId); // a 404 counts as done
  }
  if (await ctx.store.settleDeleted(d.id, claim.leaseToken, ctx.now())) {
    ctx.log.info({ downstream: d.id, xAudienceId: xId, forced: d.deleteForce }, 'downstream audience deleted on X');
  }
}
