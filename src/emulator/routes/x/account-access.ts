/**
 * Account reach: a token's user reaches the accounts it holds permissions on. Anything else is
 * 403 ACCOUNT_NOT_FOUND, whether the account exists or not (docs/reference/x-ads-api.md 8.3), so account ids
 * cannot be probed. Changing audiences needs a writer permission (world/directory.ts).
 */
import { XError } from '../../http/x-error.ts';
import type { XContext } from '../../http/x-route.ts';
import { type Account, AUDIENCE_WRITERS, type Permission, permissionsOn } from '../../world/directory.ts';

export function requireAccount(ctx: XContext, access: 'read' | 'write'): { account: Account; permissions: Permission[] } {
  const accountId = ctx.path.account_id ?? '';
  const permissions = permissionsOn(ctx.world.directory, ctx.token.userId, accountId);
  const account = ctx.world.directory.accounts.find((a) => a.id === accountId);
  if (permissions === undefined || account === undefined) {
    throw new XError(403, [{ code: 'ACCOUNT_NOT_FOUND', message: `The account ${accountId} does not exist or the user cannot access it` }]);
  }
  if (access === 'write' && !permissions.some((p) => AUDIENCE_WRITERS.includes(p))) {
    throw new XError(403, [
      {
        code: 'ACTION_NOT_ALLOWED',
        message: `User ${ctx.token.userId} holds ${permissions.join(', ')} on account ${accountId}, which cannot change audiences`,
      },
    ]);
  }
  return { account, permissions };
}
