import { Refusal, SyncError } from '../core/errors.ts';
import type { Actor } from '../core/terms.ts';
import type { Configuration } from '../store/port.ts';
import { sealTokens } from '../sync/tokens.ts';
import type { XUserTokens } from '../x/types.ts';
import type { Services } from './deps.ts';
import type { ConfigurationView } from './views.ts';

/** The one X permission that may connect an ad account (mParticle's "Account Administrator"). */
export const REQUIRED_PERMISSION = 'ACCOUNT_ADMIN';

export interface AddConfigurationInput {
  name?: string;
  accountId: string;
  tokens: XUserTokens;
  /** The X login's screen name, when the OAuth flow told it (X's API does not). */
  screenName?: string;
  /** Who adds it, for the audit log (the store records it with the change). */
  actor: Actor;
}

/**
 * Adds an X configuration, or re-authorizes the existing one for the same account (which resumes
 * it). The tokens are checked against X first: the login must reach the account as ACCOUNT_ADMIN.
 */
export async function addConfiguration(s: Services, input: AddConfigurationInput): Promise<{ configuration: Configuration; created: boolean }> {
  let access;
  let accounts;
  try {
    access = await s.x.getUserAccess(input.tokens, input.accountId);
    accounts = await s.x.listAccounts(input.tokens);
  } catch (err) {
    if (err instanceof SyncError) {
      if (err.fate === 'retry' || err.fate === 'rate_limited') throw new Refusal('x_unreachable', `Could not reach X to check the tokens: ${err.message}`);
      throw new Refusal('x_refused', `X did not accept these tokens for account ${input.accountId}: ${err.message}`);
    }
    throw err;
  }
  if (!access.permissions.includes(REQUIRED_PERMISSION)) {
    throw new Refusal(
      'x_refused',
      `This X login has ${access.permissions.join(', ') || 'no permissions'} on account ${input.accountId}; ${REQUIRED_PERMISSION} (Account Administrator) is required.`,
    );
  }
  const account = accounts.find((a) => a.id === input.accountId);
  const result = await s.store.putConfiguration(
    {
      name: input.name ?? account?.name ?? input.accountId,
      accountId: input.accountId,
      accountName: account?.name ?? null,
      xUserId: access.userId,
      screenName: input.screenName ?? null,
      tokens: sealTokens(s.box, input.tokens),
    },
    s.now(),
    input.actor,
  );
  s.log.info(
    { configuration: result.configuration.id, accountId: input.accountId, created: result.created, resumed: result.resumed },
    result.created ? 'configuration added' : result.resumed ? 'configuration re-authorized; resumed' : 'configuration re-authorized',
  );
  s.notify();
  return result;
}

/** A configuration as the API shows it: never its tokens. */
export function configurationView(c: Configuration): ConfigurationView {
  return {
    id: c.id,
    name: c.name,
    account_id: c.accountId,
    account_name: c.accountName,
    x_user_id: c.xUserId,
    screen_name: c.screenName,
    state: c.state,
    state_reason: c.stateReason,
    created_at: new Date(c.createdAt).toISOString(),
    updated_at: new Date(c.updatedAt).toISOString(),
  };
}
