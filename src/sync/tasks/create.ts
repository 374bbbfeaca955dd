import { NameTakenError } from '../../core/errors.ts';
import { downstreamName, MAX_NAME_TRIES } from '../../core/names.ts';
import type { Downstream } from '../../store/port.ts';
import { descriptionWithMarker, downstreamMarker, hasMarker } from '../../x/facts.ts';
import type { XCustomAudience } from '../../x/types.ts';
import type { SyncContext, TaskInput } from '../context.ts';

/** The `[n]` suffix of a name Tailor gave, or 1. */
export function suffixOf(name: string): number {
  const m = /\s\[(\d+)\]$/.exec(name);
  return m ? Number(m[1]) : 1;
}

/**
 * The suffix a re-creation starts at, once X lost the audience. X never gives a name out again,
 * not even after its audience was deleted, so when the name about to be tried is the lost
 * audience's own, trying it costs a refused create and a list call for nothing: start at the next
 * one. After a rename Tailor had not yet made on X, the name to try is another, and may be free.
 */
export function recreationSuffix(d: Pick<Downstream, 'xName' | 'identityType' | 'nameSuffix'>, audienceName: string | null): number {
  const wouldTry = downstreamName(audienceName ?? '', d.identityType, d.nameSuffix);
  return d.xName !== null && d.xName === wouldTry ? d.nameSuffix + 1 : d.nameSuffix;
}

/**
 * Creates the X audience of a downstream audience exactly once. The name about to be used is
 * recorded before the call; if a crash (or a dropped answer) hides the result, the next attempt
 * finds the audience by that name and adopts it only if its description carries this row's marker.
 */
export async function createTask(ctx: SyncContext, input: TaskInput): Promise<void> {
  const { claim } = input;
  const d = claim.downstream;
  const marker = downstreamMarker(ctx.installationId, d.id, d.identityType);
  const audienceName = claim.audienceName ?? '';

  if (claim.createAttemptName !== null) {
    const found = await findOwn(ctx, input, claim.createAttemptName, marker);
    if (found) return settle(ctx, input, found);
  }

  let suffix = d.nameSuffix;
  for (let i = 0; i < MAX_NAME_TRIES; i += 1, suffix += 1) {
    const name = downstreamName(audienceName, d.identityType, suffix);
    if (!(await ctx.store.recordCreateAttempt(d.id, claim.leaseToken, name))) return; // lease lost
    await input.gate('write');
    try {
      const created = await ctx.x.createAudience(input.tokens, input.accountId, { name, description: descriptionWithMarker(marker) });
      return await settle(ctx, input, created);
    } catch (err) {
      if (!(err instanceof NameTakenError)) throw err;
      // The name may be ours: an earlier attempt whose answer never arrived.
      const own = await findOwn(ctx, input, name, marker);
      if (own) return settle(ctx, input, own);
      ctx.log.info({ downstream: d.id, suffix: suffix + 1 }, 'X refused a used audience name; trying the next one');
    }
  }
  throw new NameTakenError(`X refused ${MAX_NAME_TRIES} names for this audience; rename the audience to free a name`);
}

async function findOwn(ctx: SyncContext, input: TaskInput, name: string, marker: string): Promise<XCustomAudience | undefined> {
  await input.gate('read');
  const list = await ctx.x.listAudiences(input.tokens, input.accountId, { q: name });
  return list.find((a) => !a.deleted && hasMarker(a.description, marker));
}

async function settle(ctx: SyncContext, input: TaskInput, x: XCustomAudience): Promise<void> {
  const d = input.claim.downstream;
  const ok = await ctx.store.settleCreated(
    d.id,
    input.claim.leaseToken,
    {
      id: x.id,
      name: x.name,
      nameSuffix: suffixOf(x.name),
      audienceSize: x.audienceSize,
      targetable: x.targetable,
      reasonsNotTargetable: x.reasonsNotTargetable,
    },
    ctx.now(),
  );
  if (ok) ctx.log.info({ downstream: d.id, xAudienceId: x.id, identityType: d.identityType }, 'downstream audience created on X');
}
