/**
 * Finding the audience a path names. Unknown ids, another account's audiences and deleted ones
 * (without with_deleted) are all the same 404 NOT_FOUND, so ids cannot be probed across accounts.
 */
import type { Audience } from '../../audiences/audience.ts';
import { settle } from '../../audiences/sizing.ts';
import { XError } from '../../http/x-error.ts';
import type { XContext } from '../../http/x-route.ts';
import { sizingContext } from '../../world/world.ts';

export function findAudience(ctx: XContext, withDeleted: boolean): Audience {
  const id = ctx.path.custom_audience_id ?? '';
  const audience = ctx.world.audiences.find(ctx.path.account_id ?? '', id);
  if (audience === undefined || (audience.deleted && !withDeleted)) {
    throw new XError(404, [{ code: 'NOT_FOUND', message: `Custom audience ${id} was not found`, parameter: 'custom_audience_id' }]);
  }
  settle(audience, sizingContext(ctx.world), ctx.now);
  return audience;
}
