/**
 * Inspection without OAuth: GET /_emulator/accounts/:account_id/custom_audiences (every audience,
 * deleted ones included, with the emulator's own view under `emulator`) and
 * GET /_emulator/accounts/:account_id/custom_audiences/:id/members (the hashes held now).
 * POST …/:id/campaigns marks the audience as targeted by a campaign (`targeted`, 2.8), with body
 * `{"campaign_id"?, "campaign_name", "line_items": [{"id"?, "name", "active"?: true, "servable"?: true}]}`;
 * DELETE …/:id/campaigns forgets them all (the campaigns ended).
 */
import type { FastifyInstance } from 'fastify';
import { audienceView } from '../../audiences/audience-view.ts';
import { effectiveMembers } from '../../audiences/membership.ts';
import { settle } from '../../audiences/sizing.ts';
import { isoSeconds } from '../../util/time.ts';
import { sizingContext, type World } from '../../world/world.ts';
import { backdoorError } from './backdoor-error.ts';
import { readJson } from './faults.ts';

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

let campaignSeq = 0;

export function registerBackdoorCampaigns(app: FastifyInstance, world: World): void {
  app.post('/_emulator/accounts/:account_id/custom_audiences/:id/campaigns', async (request, reply) => {
    const { account_id: accountId, id } = request.params as { account_id: string; id: string };
    const audience = world.audiences.find(accountId, id);
    if (audience === undefined) return backdoorError(reply, 404, 'NOT_FOUND', `No custom audience ${id} in account ${accountId}`);
    const body = (readJson(request.body) ?? {}) as {
      campaign_id?: unknown;
      campaign_name?: unknown;
      line_items?: { id?: unknown; name?: unknown; active?: unknown; servable?: unknown }[];
    };
    if (typeof body.campaign_name !== 'string' || !Array.isArray(body.line_items)) {
      return backdoorError(reply, 400, 'INVALID_PARAMETER', 'Expected {"campaign_name": string, "line_items": [{"name": string, "active"?: boolean}]}');
    }
    campaignSeq += 1;
    const campaign = {
      campaign_id: typeof body.campaign_id === 'string' ? body.campaign_id : `c${campaignSeq.toString(36)}`,
      campaign_name: body.campaign_name,
      line_items: body.line_items.map((l, i) => ({
        id: typeof l.id === 'string' ? l.id : `li${campaignSeq.toString(36)}${i}`,
        name: typeof l.name === 'string' ? l.name : `Line item ${i + 1}`,
        active: l.active !== false,
        servable: l.servable !== false,
      })),
    };
    (audience.campaigns ??= []).push(campaign);
    return reply.code(201).send({ data: campaign });
  });

  app.delete('/_emulator/accounts/:account_id/custom_audiences/:id/campaigns', async (request, reply) => {
    const { account_id: accountId, id } = request.params as { account_id: string; id: string };
    const audience = world.audiences.find(accountId, id);
    if (audience === undefined) return backdoorError(reply, 404, 'NOT_FOUND', `No custom audience ${id} in account ${accountId}`);
    audience.campaigns = [];
    return reply.code(204).send();
  });
}
