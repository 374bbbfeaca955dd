import type { Configuration, FirehoseSender } from '../../store/port.ts';
import type { MembershipRequest } from './schema.ts';

/**
 * The mParticle account a Firehose message speaks for, as the audiences it creates record it:
 * `account.account_id` (mParticle's account, which owns its audience ids: docs/reference/mparticle-firehose.md
 * keys downstream state by `account.account_id` and `audience_id`), as `mparticle:<id>`. A message
 * without one (mParticle always sends it) is keyed by its Account ID setting, as `x:<accountId>`,
 * so it reaches only what such messages for that X account created.
 */
export function firehoseAccountKey(account: MembershipRequest['account']): string {
  const id = account.account_id === undefined ? '' : String(account.account_id).trim();
  return id === '' ? `x:${account.account_settings.accountId}` : `mparticle:${id}`;
}

export function firehoseSender(account: MembershipRequest['account'], configuration: Configuration): FirehoseSender {
  return { account: firehoseAccountKey(account), configurationId: configuration.id };
}
