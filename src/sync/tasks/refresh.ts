import { AudienceNotFoundError } from '../../core/errors.ts';
import type { SyncContext, TaskInput } from '../context.ts';

/** Reads X's size, targetability and reasons for one downstream audience. */
export async function refreshTask(ctx: SyncContext, input: TaskInput): Promise<void> {
  const { claim } = input;
  const d = claim.downstream;
  await input.gate('read');
  const x = await ctx.x.getAudience(input.tokens, input.accountId, d.xAudienceId ?? '');
  if (x.deleted) throw new AudienceNotFoundError('the audience was deleted on X', { status: 404 });
  await ctx.store.settleRefreshed(
    d.id,
    claim.leaseToken,
    { audienceSize: x.audienceSize, targetable: x.targetable, reasonsNotTargetable: x.reasonsNotTargetable },
    ctx.now(),
  );
}
