/**
 * Inspection without OAuth: GET /_emulator/accounts/:account_id/custom_audiences (every audience,
 * deleted ones included, with the emulator's own view under `emulator`) and
 * GET /_emulator/accounts/:account_id/custom_audiences/:id/members (the hashes held now).
 */
import type { FastifyInstance } from 'fastify';
import { audienceView } from '../../audiences/audience-view.ts';
import { effectiveMembers } from '../../audiences/membership.ts';
import { settle } from '../../audiences/sizing.ts';
import { isoSeconds } from '../../util/time.ts';
import { sizingContext, type World } from '../../world/world.ts';
import { backdoorError } from './backdoor-error.ts';

export function registerBackdoorAudiences(app: FastifyInstance, world: World): void {
  app.get('/_emulator/accounts/:account_id/custom_audiences', async (request, reply) => {
    const { account_id: accountId } = request.params as { account_id: string };
    if (!world.directory.accounts.some((a) => a.id === accountId)) {
      return backdoorError(reply, 404, 'NOT_FOUND', `No account ${accountId}`);
    }
    const now = world.clock.now();
    const sizing = sizingContext(world);
    return {
      data: world.audiences.list(accountId).map((a) => {
        settle(a, sizing, now);
        const counts = Object.fromEntries(Object.entries(effectiveMembers(a.members, world.windows, now)).map(([k, v]) => [k, v.length]));
        return {
          ...audienceView(a),
          emulator: {
            processing: a.pendingSince !== null,
            matched_size: a.matchedSize,
            sized_at: a.sizedAt === null ? null : isoSeconds(a.sizedAt),
            members: counts,
          },
        };
      }),
    };
  });

  app.get('/_emulator/accounts/:account_id/custom_audiences/:id/members', async (request, reply) => {
    const { account_id: accountId, id } = request.params as { account_id: string; id: string };
    const audience = world.audiences.find(accountId, id);
    if (audience === undefined) return backdoorError(reply, 404, 'NOT_FOUND', `No custom audience ${id} in account ${accountId}`);
    return effectiveMembers(audience.members, world.windows, world.clock.now());
  });
}
