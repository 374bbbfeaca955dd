/**
 * GET accounts/:account_id/custom_audiences/:custom_audience_id/targeted (docs/reference/x-ads-api.md
 * 2.8): the campaigns whose line items target the audience, `[{campaign_id, campaign_name,
 * line_items:[{id, name, servable}]}]`. With `with_active=true`, only active line items count (a
 * campaign with none is left out). Campaigns are set through the back door
 * (POST /_emulator/accounts/:account_id/custom_audiences/:id/campaigns); the emulator has no
 * campaign API of its own. One page: `next_cursor` is always null.
 */
import type { FastifyInstance } from 'fastify';
import { registerXRoute } from '../../http/x-route.ts';
import type { World } from '../../world/world.ts';
import { requireAccount } from './account-access.ts';
import { findAudience } from './audience-lookup.ts';

export function registerCustomAudienceTargeted(app: FastifyInstance, world: World): void {
  registerXRoute(app, world, {
    method: 'GET',
    url: '/12/accounts/:account_id/custom_audiences/:custom_audience_id/targeted',
    route: 'GET custom_audience targeted',
    family: () => 'audience_reads',
    handle: (ctx) => {
      requireAccount(ctx, 'read');
      const audience = findAudience(ctx, false);
      const activeOnly = ctx.params.bool('with_active', false);
      const data = (audience.campaigns ?? []).flatMap((c) => {
        const items = c.line_items.filter((l) => !activeOnly || l.active);
        if (activeOnly && items.length === 0) return [];
        return [{ campaign_id: c.campaign_id, campaign_name: c.campaign_name, line_items: items.map(({ id, name, servable }) => ({ id, name, servable })) }];
      });
      return { status: 200, body: { request: { params: ctx.echo }, data, next_cursor: null } };
    },
  });
}
