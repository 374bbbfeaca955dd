import { NameTakenError } from '../../core/errors.ts';
import { downstreamName, MAX_NAME_TRIES } from '../../core/names.ts';
import type { SyncContext, TaskInput } from '../context.ts';

/** Renames the X audience after its source audience, taking the first name X accepts. */
export async function renameTask(ctx: SyncContext, input: TaskInput): Promise<void> {
  const { claim } = input;
  const d = claim.downstream;
  for (let suffix = 1; suffix <= MAX_NAME_TRIES; suffix += 1) {
    const name = downstreamName(claim.audienceName ?? '', d.identityType, suffix);
    if (name === d.xName) {
      await ctx.store.settleRenamed(d.id, claim.leaseToken, name, suffix, ctx.now());
      return;
    }
    await input.gate('write');
    try {
      await ctx.x.updateAudience(input.tokens, input.accountId, d.xAudienceId ?? '', { name });
      if (await ctx.store.settleRenamed(d.id, claim.leaseToken, name, suffix, ctx.now())) {
        ctx.log.info({ downstream: d.id, suffix }, 'downstream audience renamed on X');
      }
      return;
    } catch (err) {
      if (!(err instanceof NameTakenError)) throw err;
    }
  }
  throw new NameTakenError(`X refused ${MAX_NAME_TRIES} names for this audience; choose another name`);
}
