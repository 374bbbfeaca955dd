import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DESCRIBED, bodyErrors, errorResponses } from '../../http/schema.ts';
import { displayName, parse, pathId } from '../../http/validate.ts';
import type { Services } from '../../services/deps.ts';
import { audienceView, deletionView, historyView } from '../../services/status.ts';
import { audienceViewSchema, deletionViewSchema, historyViewSchema } from '../../services/views.ts';

const audienceId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._~-]+$/, 'may hold only letters, digits and . _ ~ -');
const putBody = z.strictObject({ name: displayName.describe('Trimmed; no control or bidi characters') });

export const audienceParams = z.object({ audienceId: audienceId.describe('The audience id (the mParticle audience id for Firehose audiences)') });
const TAGS = ['audiences'];

export const audienceDeleted = z.object({
  deleted: z.literal(true),
  deleting_x_audiences: z.array(z.object({ x_audience_id: z.string(), name: z.string().nullable() })).describe('The X audiences being deleted on X'),
});

/** What each route declares (src/http/schema.ts): the OpenAPI document and the handlers' types come from these. */
const list = {
  tags: TAGS,
  summary: 'List audiences with their connections and X audiences',
  response: { 200: z.object({ data: z.array(audienceViewSchema) }), ...errorResponses() },
};
const get = {
  params: audienceParams,
  tags: TAGS,
  summary: 'An audience, its connections and each X audience',
  response: { 200: audienceViewSchema, ...errorResponses('not_found') },
};
const history = {
  params: audienceParams,
  tags: TAGS,
  summary: 'Members sent and X’s size over time',
  response: { 200: historyViewSchema, ...errorResponses('not_found') },
};
const put = {
  params: audienceParams,
  tags: TAGS,
  summary: 'Create or rename an audience (its X audiences follow a rename)',
  body: putBody,
  response: { 200: audienceViewSchema.describe('Renamed or unchanged'), 201: audienceViewSchema.describe('Created'), ...bodyErrors('unavailable') },
};
const deleteQuery = z.object({
  force: z
    .enum(['true', 'false'])
    .optional()
    .describe('true: delete on X even when active campaigns target the X audiences (also confirms the waiting deletions of an audience already deleted)'),
});
const del = {
  params: audienceParams,
  querystring: deleteQuery,
  tags: TAGS,
  summary: 'Delete an audience and its X audiences (an X audience that active campaigns target waits, see GET /api/v1/deletions, unless force=true)',
  response: { 202: audienceDeleted.describe('Deleted; its X audiences are being deleted on X'), ...errorResponses('not_found', 'unavailable') },
};
const deletions = {
  tags: TAGS,
  summary: 'X audiences of deleted audiences still being deleted on X, and the campaigns holding any back',
  response: { 200: z.object({ data: z.array(deletionViewSchema) }), ...errorResponses() },
};

export function registerAudiences(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.get('/api/v1/audiences', { ...DESCRIBED, schema: list }, async () => {
    const audiences = await s.store.listAudiences();
    return {
      data: await Promise.all(audiences.map((a) => audienceView(s.store, a))),
    };
  });

  app.get('/api/v1/audiences/:audienceId', { ...DESCRIBED, schema: get }, async (req) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    return audienceView(s.store, audience);
  });

  app.get('/api/v1/audiences/:audienceId/history', { ...DESCRIBED, schema: history }, async (req) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    return historyView(s.store, audience);
  });

  app.put('/api/v1/audiences/:audienceId', { ...DESCRIBED, schema: put }, async (req, reply) => {
    const id = parse(audienceId, req.params.audienceId, 'audienceId');
    const { name } = parse(putBody, req.body);
    const result = await s.store.putAudience(id, name, s.now());
    if (result.created) s.log.info({ audience: id }, 'audience created');
    if (result.renamed) s.log.info({ audience: id }, 'audience renamed; its X audiences follow');
    s.notify();
    return reply.code(result.created ? 201 : 200).send(await audienceView(s.store, result.audience));
  });

  app.get('/api/v1/deletions', { ...DESCRIBED, schema: deletions }, async () => ({ data: (await s.store.listDeletions()).map(deletionView) }));

  app.delete('/api/v1/audiences/:audienceId', { ...DESCRIBED, schema: del }, async (req, reply) => {
    const id = pathId(req.params.audienceId, 'Audience');
    const force = parse(deleteQuery, req.query).force === 'true';
    const audience = await s.store.getAudience(id);
    if (!audience) {
      // Already deleted: with force, this confirms the deletions still waiting on campaigns.
      const waiting = force ? (await s.store.listDeletions()).filter((d) => d.audienceId === id) : [];
      if (waiting.length === 0 || (await s.store.forceDeletions(id, s.now())) === 0)
        throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
      s.log.info({ audience: id }, 'waiting deletions confirmed with force; deleting its X audiences despite their campaigns');
      s.notify();
      return reply.code(202).send({
        deleted: true,
        deleting_x_audiences: waiting.flatMap((d) => (d.xAudienceId === null ? [] : [{ x_audience_id: d.xAudienceId, name: d.xName }])),
      });
    }
    const downstreams = await s.store.listDownstreams(audience.id);
    await s.store.deleteAudience(audience.id, s.now(), { force });
    s.log.info({ audience: audience.id, force }, 'audience deleted; deleting its X audiences');
    s.notify();
    return reply.code(202).send({
      deleted: true,
      deleting_x_audiences: downstreams.flatMap((d) => (d.xAudienceId === null ? [] : [{ x_audience_id: d.xAudienceId, name: d.xName }])),
    });
  });
}
