/**
 * One audience: GET (docs/reference/x-ads-api.md 2.4), POST create (2.5), PUT update (2.6), DELETE (2.7).
 * Create answers 201 (a "200-series" success, error-codes-and-responses); the rest 200.
 */
import type { FastifyInstance } from 'fastify';
import { audienceView } from '../../audiences/audience-view.ts';
import { missingParameter } from '../../http/x-error.ts';
import { registerXRoute } from '../../http/x-route.ts';
import type { World } from '../../world/world.ts';
import { requireAccount } from './account-access.ts';
import { findAudience } from './audience-lookup.ts';
import { readDescription, readNewName } from './audience-names.ts';

const ONE = '/12/accounts/:account_id/custom_audiences/:custom_audience_id';

export function registerCustomAudienceCrud(app: FastifyInstance, world: World): void {
  registerXRoute(app, world, {
    method: 'GET',
    url: ONE,
    route: 'GET custom_audience',
    family: () => 'audience_reads',
    handle: (ctx) => {
      requireAccount(ctx, 'read');
      const audience = findAudience(ctx, ctx.params.bool('with_deleted', false));
      return { status: 200, body: { request: { params: ctx.echo }, data: audienceView(audience) } };
    },
  });

  registerXRoute(app, world, {
    method: 'POST',
    url: '/12/accounts/:account_id/custom_audiences',
    route: 'POST custom_audiences',
    family: () => 'audience_writes',
    handle: (ctx) => {
      const { account } = requireAccount(ctx, 'write');
      const name = readNewName(ctx, account.id);
      if (name === undefined) throw missingParameter('name');
      const description = readDescription(ctx) ?? null;
      const audience = world.audiences.create(account.id, name, description, ctx.now);
      world.stats.audienceCreated(account.id);
      ctx.notes.audience_id = audience.id;
      return { status: 201, body: { data: audienceView(audience), request: { params: ctx.echo } } };
    },
  });

  registerXRoute(app, world, {
    method: 'PUT',
    url: ONE,
    route: 'PUT custom_audience',
    family: () => 'audience_writes',
    handle: (ctx) => {
      const { account } = requireAccount(ctx, 'write');
      const audience = findAudience(ctx, false);
      const name = readNewName(ctx, account.id, audience.name);
      const description = readDescription(ctx);
      // Only the fields sent change (docs/reference/x-ads-api.md 2.1); the old name stays used.
      if (name !== undefined && name !== audience.name) world.audiences.rename(audience, name);
      if (description !== undefined) audience.description = description;
      if (name !== undefined || description !== undefined) audience.updatedAt = ctx.now;
      return { status: 200, body: { data: audienceView(audience), request: { params: ctx.echo } } };
    },
  });

  registerXRoute(app, world, {
    method: 'DELETE',
    url: ONE,
    route: 'DELETE custom_audience',
    family: () => 'audience_writes',
    handle: (ctx) => {
      requireAccount(ctx, 'write');
      const audience = findAudience(ctx, false);
      world.audiences.markDeleted(audience, ctx.now);
      return { status: 200, body: { data: audienceView(audience), request: { params: ctx.echo } } };
    },
  });
}
