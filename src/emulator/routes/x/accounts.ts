/**
 * GET /12/accounts, GET /12/accounts/:account_id and
 * GET /12/accounts/:account_id/authenticated_user_access (docs/reference/x-ads-api.md 9.4).
 */
import type { FastifyInstance } from 'fastify';
import { decodeCursor, encodeCursor } from '../../http/cursor.ts';
import { registerXRoute } from '../../http/x-route.ts';
import { isoSeconds } from '../../util/time.ts';
import type { Account } from '../../world/directory.ts';
import type { World } from '../../world/world.ts';
import { requireAccount } from './account-access.ts';

export function accountView(a: Account) {
  return {
    name: a.name,
    business_name: a.businessName,
    timezone: a.timezone,
    timezone_switch_at: isoSeconds(a.createdAt),
    id: a.id,
    created_at: isoSeconds(a.createdAt),
    updated_at: isoSeconds(a.createdAt),
    business_id: a.businessId,
    approval_status: 'ACCEPTED',
    industry_type: 'RETAIL',
    deleted: false,
  };
}

export function registerAccountRoutes(app: FastifyInstance, world: World): void {
  registerXRoute(app, world, {
    method: 'GET',
    url: '/12/accounts',
    route: 'GET accounts',
    family: () => 'global_reads',
    handle: (ctx) => {
      const ids = ctx.params.list('account_ids', 200);
      const count = ctx.params.int('count', 200, 1, 1000);
      const q = ctx.params.string('q')?.toLowerCase();
      ctx.params.bool('with_deleted', false);
      const cursor = ctx.params.string('cursor');
      const after = cursor === undefined ? -1 : decodeCursor(cursor, 'accounts').seq;
      const login = world.directory.logins.find((l) => l.userId === ctx.token.userId);
      const reachable = world.directory.accounts
        .map((account, seq) => ({ account, seq }))
        .filter(({ account }) => login?.grants.some((g) => g.accountId === account.id))
        .filter(({ account }) => ids === undefined || ids.includes(account.id))
        .filter(({ account }) => q === undefined || account.name.toLowerCase().startsWith(q))
        .filter(({ seq }) => seq > after);
      const page = reachable.slice(0, count);
      const last = page[page.length - 1];
      return {
        status: 200,
        body: {
          request: { params: ctx.echo },
          next_cursor: reachable.length > count && last ? encodeCursor({ sort: 'accounts', value: 0, seq: last.seq }) : null,
          data: page.map(({ account }) => accountView(account)),
        },
      };
    },
  });

  registerXRoute(app, world, {
    method: 'GET',
    url: '/12/accounts/:account_id',
    route: 'GET account',
    family: () => 'account_reads',
    handle: (ctx) => {
      const { account } = requireAccount(ctx, 'read');
      return { status: 200, body: { request: { params: ctx.echo }, data: accountView(account) } };
    },
  });

  registerXRoute(app, world, {
    method: 'GET',
    url: '/12/accounts/:account_id/authenticated_user_access',
    route: 'GET authenticated_user_access',
    family: () => 'account_reads',
    handle: (ctx) => {
      const { permissions } = requireAccount(ctx, 'read');
      return {
        status: 200,
        body: { data: { user_id: ctx.token.userId, permissions: [...permissions] }, request: { params: ctx.echo } },
      };
    },
  });
}
