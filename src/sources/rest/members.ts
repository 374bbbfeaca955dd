import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { SourceMember } from '../../membership/changes.ts';
import { ingest } from '../../membership/ingest.ts';
import type { IdentityKind } from '../../identity/index.ts';
import { countIngest } from '../../metrics.ts';
import { Refusal } from '../../core/errors.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyErrors } from '../../http/schema.ts';
import { identifierText, parse, parseWithLists, pathId } from '../../http/validate.ts';
import type { Services } from '../../services/deps.ts';
import { audienceParams } from './audiences.ts';
import type { LedgerPreview } from '../../store/port.ts';

/** Most members in one request: keeps one request's transaction short; import handles more. */
export const MAX_MEMBERS_PER_REQUEST = 100_000;

const value = z.string().max(1024, 'must be at most 1024 characters');
const member = z.strictObject({
  // The member key is stored as sent: text that is not valid Unicode, or NUL, is refused.
  user_id: identifierText(z.string().min(1).max(256)).optional(),
  email: value.optional(),
  twitter_handle: value.optional(),
  ios_advertising_id: value.optional(),
  google_advertising_id: value.optional(),
  phone_number: value.optional().describe('E.164 (`+…`), or national in TAILOR_DEFAULT_PHONE_REGION; or the SHA-256 of its E.164 form'),
});
export type RestMember = z.infer<typeof member>;

const body = z
  .strictObject({
    add: z.array(member).max(MAX_MEMBERS_PER_REQUEST).optional(),
    remove: z.array(member).max(MAX_MEMBERS_PER_REQUEST).optional(),
  })
  .refine((b) => (b.add?.length ?? 0) + (b.remove?.length ?? 0) <= MAX_MEMBERS_PER_REQUEST, `at most ${MAX_MEMBERS_PER_REQUEST} members per request`);

/** The body's shape without its members, which parseWithLists checks a few milliseconds at a time. */
const envelope = z
  .strictObject({
    add: z.array(z.unknown()).max(MAX_MEMBERS_PER_REQUEST).optional(),
    remove: z.array(z.unknown()).max(MAX_MEMBERS_PER_REQUEST).optional(),
  })
  .refine((b) => (b.add?.length ?? 0) + (b.remove?.length ?? 0) <= MAX_MEMBERS_PER_REQUEST, `at most ${MAX_MEMBERS_PER_REQUEST} members per request`);

const KINDS = ['email', 'twitter_handle', 'ios_advertising_id', 'google_advertising_id', 'phone_number'] as const satisfies readonly IdentityKind[];

/** 202: what was taken (members with at least one usable identifier) and every identifier refused. */
export const membersAccepted = z.object({
  accepted: z.object({ add: z.number().int(), remove: z.number().int() }).describe('Members taken, per list'),
  rejected: z
    .array(
      z.object({
        list: z.enum(['add', 'remove']),
        index: z.number().int().describe('Position of the member in its list'),
        field: z.enum(KINDS),
        reason: z.string(),
        message: z.string().describe('Never quotes the identifier'),
      }),
    )
    .describe('Identifiers refused; the rest of their member is kept'),
  queued: z.number().int().describe('Changes queued for X across the audience’s X audiences'),
});

const perType = z.object({
  add: z.number().int().describe('Identities members would gain'),
  remove: z.number().int().describe('Identities members would lose'),
  already_present: z.number().int().describe('Identities members hold already'),
  x_add: z.number().int().describe('Hashes that would be queued as adds for each forwarding X audience of the type (no member held them)'),
  x_remove: z.number().int().describe('Hashes that would be queued as removes (their last holder leaves)'),
});

/** 200 of a dry run: what would change, and nothing written. */
export const membersPreview = membersAccepted.omit({ queued: true }).extend({
  dry_run: z.literal(true),
  changes: z.record(z.string(), perType).describe('Per identity type'),
  rejected_by_reason: z.record(z.string(), z.number().int()),
});

/** The ledger's preview (store port) as the API shows it. */
export function previewView(p: LedgerPreview): z.infer<typeof membersPreview>['changes'] {
  return Object.fromEntries(
    Object.entries(p).map(([type, c]) => [type, { add: c.add, remove: c.remove, already_present: c.alreadyPresent, x_add: c.xAdd, x_remove: c.xRemove }]),
  );
}

const query = z.object({ dry_run: z.enum(['true', 'false']).optional().describe('true: report what would change and write nothing') });

/** A REST member as the ledger sees it; `user_id` is the member key when given. */
export function toSourceMember(m: RestMember): SourceMember {
  return {
    key: m.user_id === undefined ? null : { kind: 'user_id', value: m.user_id },
    identities: KINDS.flatMap((kind) => (m[kind] === undefined ? [] : [{ kind, value: m[kind] }])),
  };
}

export function registerMembers(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const post = {
    tags: ['audiences'],
    summary: `Add and remove members (at most ${MAX_MEMBERS_PER_REQUEST} per request; adds are applied first)`,
    params: audienceParams,
    querystring: query,
    body,
    response: {
      200: membersPreview.describe('A dry run (dry_run=true): what would change; nothing was written'),
      202: membersAccepted.describe('Stored; X follows'),
      ...bodyErrors('not_found', 'unavailable'),
    },
  };
  app.post('/api/v1/audiences/:audienceId/members', { schema: post }, async (req, reply) => {
    const input = await parseWithLists(envelope, member, req.body, ['add', 'remove'], toSourceMember);
    const dryRun = parse(query, req.query).dry_run === 'true';
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience)
      throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist; create it with PUT /api/v1/audiences/${req.params.audienceId}`);
    // Adds are applied before removes: a member in both lists ends removed.
    const result = await ingest(s.store, s.memberKeys, {
      audienceId: audience.id,
      parts: [
        { action: 'add', members: input.add },
        { action: 'remove', members: input.remove },
      ],
      now: s.now(),
      phoneRegion: s.phoneRegion,
      dryRun,
    });
    if (dryRun) {
      return reply.code(200).send({
        dry_run: true as const,
        accepted: result.accepted,
        rejected: result.rejected.map(({ action, ...r }) => ({ list: action, ...r })),
        changes: previewView(result.preview ?? {}),
        rejected_by_reason: result.counts,
      });
    }
    countIngest('rest', result.accepted, result.counts);
    s.notify();
    return reply.code(202).send({
      accepted: result.accepted,
      rejected: result.rejected.map(({ action, ...r }) => ({ list: action, ...r })),
      queued: result.queued,
    });
  });
}
