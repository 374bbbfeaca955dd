/**
 * The suppression list and erasures over REST (docs/privacy.md):
 *
 *   POST /api/v1/suppressions          {add?, remove?: [Identity]}  → 202 counts
 *   POST /api/v1/suppressions/check    Identity                     → 200 which fields are suppressed
 *   POST /api/v1/erasures              {user_id?, ...Identity}      → 202 {id, state}
 *   GET  /api/v1/erasures/:erasureId                                → the erasure
 *   GET  /api/v1/privacy                                            → the 24-hour clock and recent erasures
 *
 * Identities travel in bodies only, never in a URL (URLs end up in access logs).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import { actorOf } from '../../http/actor.ts';
import { bodyErrors, errorResponses } from '../../http/schema.ts';
import { identifierText, parse } from '../../http/validate.ts';
import type { IdentityKind } from '../../identity/index.ts';
import type { SourceIdentity } from '../../membership/changes.ts';
import { hashIdentities } from '../../membership/privacy.ts';
import type { Services } from '../../services/deps.ts';
import { erasureView, erasureViewSchema, privacyView, privacyViewSchema, requestErasure, warnIfWaiting } from '../../services/privacy.ts';

/**
 * The identity fields a suppression, a check or an erasure names: the member fields, raw or 64-hex
 * SHA-256 digests, normalized and hashed like members. One entry per field: a new identity kind is
 * one more line here.
 */
export const IDENTITY_FIELDS = [
  'email',
  'twitter_handle',
  'ios_advertising_id',
  'google_advertising_id',
  'phone_number',
] as const satisfies readonly IdentityKind[];

const value = z.string().max(1024, 'must be at most 1024 characters');
const identityShape = Object.fromEntries(IDENTITY_FIELDS.map((f) => [f, value.optional()])) as Record<
  (typeof IDENTITY_FIELDS)[number],
  z.ZodOptional<typeof value>
>;
export const identitySchema = z.strictObject(identityShape).describe('Raw or SHA-256 (64 hex) identifiers, normalized and hashed like members');
type Identity = z.infer<typeof identitySchema>;

const MAX_PER_REQUEST = 10_000;

const suppressionsBody = z
  .strictObject({
    add: z.array(identitySchema).max(MAX_PER_REQUEST).optional().describe('Opt-outs: removed from every X audience and never sent again while listed'),
    remove: z.array(identitySchema).max(MAX_PER_REQUEST).optional().describe('Re-consent: sent again wherever the ledger still holds them'),
  })
  .refine((b) => (b.add?.length ?? 0) + (b.remove?.length ?? 0) <= MAX_PER_REQUEST, `at most ${MAX_PER_REQUEST} identities per request`);

const rejectedSchema = z.array(
  z.object({
    list: z.enum(['add', 'remove']),
    index: z.number().int(),
    field: z.enum(IDENTITY_FIELDS),
    reason: z.string(),
    message: z.string().describe('Never quotes the identifier'),
  }),
);
const suppressionsAccepted = z.object({
  added: z.number().int().describe('Identities newly on the list'),
  lifted: z.number().int().describe('Identities taken off the list'),
  queued: z.number().int().describe('Changes queued for X: removes of those added, adds of those lifted where the ledger holds them'),
  rejected: rejectedSchema.describe('Identifiers that could not be hashed'),
});
const checkAnswer = z.object({
  suppressed: z.boolean().describe('Whether any field given is suppressed'),
  fields: z.record(z.string(), z.boolean()).describe('Per field given: suppressed or not'),
});
const erasureBody = identitySchema
  .extend({ user_id: identifierText(z.string().min(1).max(256)).optional().describe('A REST or import member key: erased in every audience') })
  .describe('Whom to erase: every member holding one of these (or keyed by user_id), in every audience');
const erasureParams = z.object({ erasureId: z.string().min(1).max(64) });

const sourceIdentities = (i: Identity): SourceIdentity[] => IDENTITY_FIELDS.flatMap((kind) => (i[kind] === undefined ? [] : [{ kind, value: i[kind] }]));

export function registerPrivacy(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const tags = ['privacy'];

  const post = { tags, summary: 'Add identities to the suppression list (opt-out) or lift them (re-consent)', body: suppressionsBody };
  app.post(
    '/api/v1/suppressions',
    { schema: { ...post, response: { 202: suppressionsAccepted.describe('Stored; X follows'), ...bodyErrors('unavailable') } } },
    async (req, reply) => {
      const input = parse(suppressionsBody, req.body);
      const opts = { phoneRegion: s.phoneRegion };
      const add = hashIdentities(
        (input.add ?? []).map((i, index) => ({ index, identities: sourceIdentities(i) })),
        opts,
      );
      const lift = hashIdentities(
        (input.remove ?? []).map((i, index) => ({ index, identities: sourceIdentities(i) })),
        opts,
      );
      // Audited with the change when the list changed: counts only, never an identity, not even hashed.
      const result = await s.store.suppress(add.identities, lift.identities, s.now(), {
        actor: actorOf(req),
        details: { rejected: add.rejected.length + lift.rejected.length },
      });
      if (result.queued > 0) s.notify();
      if (result.added > 0 || result.lifted > 0) s.log.info({ added: result.added, lifted: result.lifted, queued: result.queued }, 'suppression list changed');
      if (result.added > 0) await warnIfWaiting(s);
      return reply.code(202).send({
        ...result,
        rejected: [...add.rejected.map((r) => ({ list: 'add' as const, ...r })), ...lift.rejected.map((r) => ({ list: 'remove' as const, ...r }))].map((r) => ({
          ...r,
          field: r.field,
        })),
      });
    },
  );

  const check = { tags, summary: 'Whether identities are suppressed (in the body, never in a URL)', body: identitySchema };
  app.post('/api/v1/suppressions/check', { schema: { ...check, response: { 200: checkAnswer, ...bodyErrors() } } }, async (req) => {
    const input = parse(identitySchema, req.body);
    const fields: Record<string, boolean> = {};
    const wanted: { field: string; type: string; hash: string }[] = [];
    for (const id of sourceIdentities(input)) {
      const hashed = hashIdentities([{ index: 0, identities: [id] }], { phoneRegion: s.phoneRegion });
      if (hashed.rejected[0]) throw new Refusal('invalid', `${id.kind}: ${hashed.rejected[0].message}`);
      wanted.push({ field: id.kind, ...hashed.identities[0]! });
    }
    if (wanted.length === 0) throw new Refusal('invalid', `Give at least one of ${IDENTITY_FIELDS.join(', ')}`);
    const listed = new Set((await s.store.suppressedAmong(wanted.map((w) => ({ type: w.type as never, hash: w.hash })))).map((i) => `${i.type}:${i.hash}`));
    for (const w of wanted) fields[w.field] = listed.has(`${w.type}:${w.hash}`);
    return { suppressed: Object.values(fields).some(Boolean), fields };
  });

  const erase = { tags, summary: 'Erase a person from every audience and X audience (GDPR/CCPA)', body: erasureBody };
  app.post(
    '/api/v1/erasures',
    {
      schema: {
        ...erase,
        response: { 202: z.object({ id: z.string(), state: z.enum(['pending', 'done']) }).describe('Recorded; X follows'), ...bodyErrors('unavailable') },
      },
    },
    async (req, reply) => {
      const input = parse(erasureBody, req.body);
      // Audited once per erasure (a repeated request answers the same one): its id and counts, never whom.
      const { erasure } = await requestErasure(
        s,
        { ...(input.user_id === undefined ? {} : { userId: input.user_id }), identities: sourceIdentities(input) },
        'api',
        actorOf(req),
      );
      return reply.code(202).send({ id: erasure.id, state: erasure.state });
    },
  );

  const get = { tags, summary: 'An erasure and whether X acknowledged every removal', params: erasureParams };
  app.get('/api/v1/erasures/:erasureId', { schema: { ...get, response: { 200: erasureViewSchema, ...errorResponses('not_found') } } }, async (req) => {
    const erasure = await s.store.getErasure(req.params.erasureId);
    if (!erasure) throw new Refusal('not_found', `Erasure ${req.params.erasureId} does not exist`);
    return erasureView(erasure);
  });

  const status = { tags, summary: 'The 24-hour clock: unfinished erasures and suppressions, their age, and what holds them back' };
  app.get('/api/v1/privacy', { schema: { ...status, response: { 200: privacyViewSchema, ...errorResponses() } } }, async () => privacyView(s));
}
