/**
 * `audience_subscription_request`: an audience connected to (add), changed on (update: settings or
 * name) or removed from (remove) the X output. The configuration is the one whose Account ID is
 * the account setting `accountId`. Only the store is touched here; workers do the X calls.
 */
import { Refusal } from '../../core/errors.ts';
import type { Services } from '../../services/deps.ts';
import { foreignAudience } from './foreign.ts';
import { firehoseSender } from './origin.ts';
import { responseEnvelope } from './response.ts';
import { togglesOf, type SubscriptionRequest } from './schema.ts';

export async function handleSubscription(s: Services, msg: SubscriptionRequest): Promise<Record<string, unknown>> {
  const accountId = msg.account.account_settings.accountId;
  const configuration = await s.store.getConfigurationByAccount(accountId);
  if (!configuration) {
    // mParticle does not retry a 400, and a subscription cannot be suspended: the user must add
    // the configuration in Tailor first, then connect the audience again in mParticle.
    throw new Refusal(
      'invalid',
      `account.account_settings.accountId: Tailor has no configuration for X ad account ${accountId}; add it first (Log in with X, POST /api/v1/configurations or tailor configurations add), then connect the audience again`,
    );
  }
  const audienceId = msg.audience_id;
  const now = s.now();
  const log = s.log.child({ source: 'firehose', audience: audienceId, configuration: configuration.id });

  const sender = firehoseSender(msg.account, configuration);
  let foreign = false;
  if (msg.action === 'remove') {
    // docs/reference/product.md: mParticle says "connection removed" and "audience deleted" with this one message;
    // Tailor treats it as the deletion and deletes the X audiences. When the same audience is also
    // connected to other configurations, only this connection goes (its X audiences are kept,
    // detached), so another account's audiences are never deleted by this account's message.
    const access = await s.store.firehoseAccess(audienceId, sender);
    if (access === 'foreign') {
      foreign = true;
    } else if (access === 'owned') {
      const others = (await s.store.listConnections(audienceId)).filter((c) => c.configurationId !== configuration.id);
      if (others.length > 0) {
        await s.store.deleteConnection(audienceId, configuration.id, now, 'firehose');
        log.info(
          { others: others.length },
          'firehose subscription removed; other connections remain, so only this connection was removed (its X audiences are kept)',
        );
      } else if (await s.store.deleteAudience(audienceId, now, 'firehose')) {
        log.info('firehose subscription removed: audience deleted; deleting its X audiences');
      }
    }
  } else {
    // Cleaned once here, so what is stored is what X gets (core/names.ts).
    // The schema has cleaned the name (core/text.ts cleanName); nothing may be left of it.
    const name = (msg.audience_name ?? '') || `mParticle audience ${audienceId}`;
    // Each write is audited with itself (actor firehose), when it changed something.
    const put = await s.store.putAudience(audienceId, name, now, 'firehose', { kind: 'firehose', ...sender });
    if (put.foreign) {
      foreign = true;
    } else {
      const toggles = togglesOf(msg.audience_subscription_settings);
      const { created: connected } = await s.store.putConnection(audienceId, configuration.id, toggles, now, 'firehose');
      log.info({ action: msg.action, created: put.created, renamed: put.renamed, connected }, 'firehose subscription applied');
    }
  }
  if (foreign) foreignAudience(s, 'subscription', 1);
  s.notify();

  const settings = msg.audience_subscription_settings;
  return {
    ...responseEnvelope('audience_subscription_response', msg),
    // mParticle stores what comes back here and sends it with every membership change.
    ...(settings && Object.keys(settings).length > 0
      ? { audience_subscription_settings: Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, String(v)])) }
      : {}),
  };
}
