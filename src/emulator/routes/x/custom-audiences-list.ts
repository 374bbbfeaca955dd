/** GET /12/accounts/:account_id/custom_audiences (docs/reference/x-ads-api.md 2.3). */
import type { FastifyInstance } from 'fastify';
import type { Audience } from '../../audiences/audience.ts';
import { audienceView } from '../../audiences/audience-view.ts';
import { settle } from '../../audiences/sizing.ts';
import { decodeCursor, encodeCursor } from '../../http/cursor.ts';
import { invalidParameter, XError } from '../../http/x-error.ts';
import { registerXRoute } from '../../http/x-route.ts';
import { sizingContext, type World } from '../../world/world.ts';
import { requireAccount } from './account-access.ts';

const SORTABLE = {
  created_at: (a: Audience) => a.createdAt,
  updated_at: (a: Audience) => a.updatedAt,
  name: (a: Audience) => a.name,
} as const;

/** X does not document its default order; oldest first keeps pages stable while audiences are added. */
const DEFAULT_SORT = 'created_at-asc';

export function registerCustomAudiencesList(app: FastifyInstance, world: World): void {
  registerXRoute(app, world, {
    method: 'GET',
    url: '/12/accounts/:account_id/custom_audiences',
    route: 'GET custom_audiences',
    family: (params) => (params.string('with_total_count') === 'true' ? 'total_count' : 'audience_reads'),
    handle: (ctx) => {
      requireAccount(ctx, 'read');
      const p = ctx.params;
      const count = p.int('count', 200, 1, 1000);
      const cursor = p.string('cursor');
      const withTotal = p.bool('with_total_count', false);
      if (withTotal && cursor !== undefined) {
        throw new XError(400, [{ code: 'EXCLUSIVE_PARAMETERS', message: 'with_total_count cannot be combined with cursor', parameter: 'cursor' }]);
      }
      const q = p.string('q');
      if (q !== undefined && (q.length < 1 || q.length > 255)) throw invalidParameter('q', 'q must be 1 to 255 characters');
      const withDeleted = p.bool('with_deleted', false);
      const ids = p.list('custom_audience_ids', 200);
      const scope = p.string('permission_scope') ?? 'OWNER';
      if (scope !== 'OWNER' && scope !== 'SHARED') throw invalidParameter('permission_scope', 'Expected OWNER or SHARED');
      const sort = p.string('sort_by') ?? DEFAULT_SORT;
      const [attr, dir] = sort.split('-');
      const keyOf = SORTABLE[attr as keyof typeof SORTABLE] as ((a: Audience) => string | number) | undefined;
      if (keyOf === undefined || (dir !== 'asc' && dir !== 'desc')) {
        throw invalidParameter('sort_by', `Unsupported sort_by "${sort}"; use created_at, updated_at or name with -asc or -desc`);
      }
      const sign = dir === 'asc' ? 1 : -1;
      const compare = (va: string | number, sa: number, vb: string | number, sb: number): number => sign * (va < vb ? -1 : va > vb ? 1 : sa - sb);

      const prefix = q?.toLowerCase();
      // Nothing is shared between accounts in the emulator, so SHARED lists nothing.
      const matching = (scope === 'SHARED' ? [] : world.audiences.list(ctx.path.account_id ?? ''))
        .filter((a) => withDeleted || !a.deleted)
        .filter((a) => prefix === undefined || a.name.toLowerCase().startsWith(prefix))
        .filter((a) => ids === undefined || ids.includes(a.id))
        .sort((a, b) => compare(keyOf(a), a.seq, keyOf(b), b.seq));
      const after = cursor === undefined ? undefined : decodeCursor(cursor, sort);
      const rest = after === undefined ? matching : matching.filter((a) => compare(keyOf(a), a.seq, after.value, after.seq) > 0);
      const page = rest.slice(0, count);
      const last = page[page.length - 1];
      const sizing = sizingContext(world);
      for (const a of page) settle(a, sizing, ctx.now);
      return {
        status: 200,
        body: {
          request: { params: ctx.echo },
          ...(withTotal ? { total_count: matching.length } : {}),
          next_cursor: rest.length > count && last ? encodeCursor({ sort, value: keyOf(last), seq: last.seq }) : null,
          data: page.map(audienceView),
        },
      };
    },
  });
}
