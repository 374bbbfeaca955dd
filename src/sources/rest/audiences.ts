import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import { ID_RE, MAX_ID_CHARS } from '../../core/ids.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyErrors, errorResponses } from '../../http/schema.ts';
import { actorOf } from '../../http/actor.ts';
import { displayName, parse, pathId } from '../../http/validate.ts';
import type { Services } from '../../services/deps.ts';
import { ApiError } from '../../http/errors.ts';
import { sendTagged } from '../../http/etag.ts';
import { audienceView, audienceViews, deletionView, deliveryViews, historyView } from '../../services/status.ts';
import { audienceViewSchema, deletionViewSchema, deliveriesViewSchema, historyViewSchema, identityType } from '../../services/views.ts';
import { AUDIENCE_SORTS, type AudienceQuery } from '../../store/port.ts';

export const audienceId = z.string().min(1).max(MAX_ID_CHARS).regex(ID_RE, 'may hold only letters, digits and . _ ~ -');
const putBody = z.strictObject({ name: displayName.describe('Trimmed; no control or bidi characters') });

export const audienceParams = z.object({ audienceId: audienceId.describe('The audience id (the mParticle audience id for Firehose audiences)') });
const TAGS = ['audiences'];

export const audienceDeleted = z.object({
  deleted: z.literal(true),
  deleting_x_audiences: z.array(z.object({ x_audience_id: z.string(), name: z.string().nullable() })).describe('The X audiences being deleted on X'),
});

const listQuery = z.strictObject({
  q: z.string().max(200).optional().describe('Case-insensitive part of the name or the id'),
  state: z.enum(['attention', 'ok']).optional().describe('attention: some X audience is paused, failing, being re-created or not targetable; ok: none is'),
  sort: z.enum(AUDIENCE_SORTS).default('created').describe('A key, `-` first for descending; `created` (the default) is the order of old'),
  limit: z.coerce.number().int().min(1).max(200).default(100),
  cursor: z.string().max(600).optional().describe('`next_cursor` of the previous page, with the same q, state and sort'),
});
const deliveriesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a next_cursor of this list')
    .optional(),
  configuration_id: z.string().max(128).optional().describe('Only this configuration’s X audiences'),
  identity_type: identityType.optional().describe('Only the X audience of this identity type'),
});
const historyQuery = z.strictObject({
  since: z.iso.datetime().optional().describe('Only samples and events after this time (a poll loads only new ones)'),
});

/** A page's cursor: the sort it belongs to, the last audience's sort key and id (opaque to clients). */
function encodeCursor(sort: string, key: string | number, id: string): string {
  return Buffer.from(JSON.stringify([sort, key, id])).toString('base64url');
}
function decodeCursor(cursor: string, sort: string): { key: string | number; id: string } {
  try {
    const [s, key, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (s === sort && (typeof key === 'string' || typeof key === 'number') && typeof id === 'string') return { key, id };
  } catch {
    // falls through to the refusal
  }
  throw new ApiError('invalid_request', 'Invalid query: cursor: not a next_cursor of this list with this sort');
}

/** What each route declares (src/http/schema.ts): the OpenAPI document and the handlers' types come from these. */
const list = {
  querystring: listQuery,
  tags: TAGS,
  summary: 'List audiences, a page at a time, with their connections and X audiences',
  description:
    'Searched, filtered and sorted in the database, a fixed number of queries per page. The answer carries an ETag: send it back as If-None-Match and an unchanged page is a 304 with no body. Before this version the list had no paging: a client that reads only `data` now gets the first page (100 audiences by default, in the old order) and follows `next_cursor` for the rest.',
  response: {
    200: z.object({
      data: z.array(audienceViewSchema),
      next_cursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last'),
      needs_attention: z.number().int().describe('Audiences needing attention in the whole list, whatever the query'),
    }),
    ...errorResponses(),
  },
};
const deliveries = {
  params: audienceParams,
  querystring: deliveriesQuery,
  tags: TAGS,
  summary: 'The delivery log: every `users` call to X, newest first',
  description: 'Kept TAILOR_DELIVERY_LOG_DAYS (14 days by default). A failed call is `resolved` once a later call to the same X audience succeeded.',
  response: { 200: deliveriesViewSchema, ...errorResponses('not_found') },
};
const get = {
  params: audienceParams,
  tags: TAGS,
  summary: 'An audience, its connections and each X audience',
  response: { 200: audienceViewSchema, ...errorResponses('not_found') },
};
const history = {
  params: audienceParams,
  querystring: historyQuery,
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

  const viewOpts = { flushIntervalMs: s.flushIntervalMs };

  app.get('/api/v1/audiences', { schema: list }, async (req, reply) => {
    const q = parse(listQuery, req.query ?? {}, 'query');
    const query: AudienceQuery = {
      sort: q.sort,
      limit: q.limit,
      ...(q.q === undefined ? {} : { q: q.q }),
      ...(q.state === undefined ? {} : { state: q.state }),
      ...(q.cursor === undefined ? {} : { after: decodeCursor(q.cursor, q.sort) }),
    };
    const page = await s.store.listAudiencePage(query);
    const last = page.audiences.at(-1);
    return sendTagged(req, reply, {
      data: await audienceViews(s.store, page.audiences, viewOpts),
      next_cursor: page.more && last ? encodeCursor(q.sort, last.sortKey, last.id) : null,
      needs_attention: page.attention,
    });
  });

  app.get('/api/v1/audiences/:audienceId/deliveries', { schema: deliveries }, async (req, reply) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    const q = parse(deliveriesQuery, req.query ?? {}, 'query');
    const downstreams = await s.store.listDownstreams(audience.id);
    const chosen = downstreams.filter(
      (d) =>
        (q.configuration_id === undefined || d.configurationId === q.configuration_id) && (q.identity_type === undefined || d.identityType === q.identity_type),
    );
    const narrowed = q.configuration_id !== undefined || q.identity_type !== undefined;
    const rows = await s.store.listDeliveries(audience.id, {
      limit: q.limit + 1,
      ...(q.cursor === undefined ? {} : { before: Number(q.cursor) }),
      ...(narrowed ? { downstreamIds: chosen.map((d) => d.id) } : {}),
    });
    const page = rows.slice(0, q.limit);
    const more = rows.length > q.limit;
    return sendTagged(req, reply, { data: deliveryViews(page, downstreams), next_cursor: more && page.length ? String(page.at(-1)!.id) : null });
  });

  app.get('/api/v1/audiences/:audienceId', { schema: get }, async (req, reply) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    return sendTagged(req, reply, await audienceView(s.store, audience, viewOpts));
  });

  app.get('/api/v1/audiences/:audienceId/history', { schema: history }, async (req) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    const q = parse(historyQuery, req.query ?? {}, 'query');
    return historyView(s.store, audience, q.since === undefined ? undefined : Date.parse(q.since));
  });

  app.put('/api/v1/audiences/:audienceId', { schema: put }, async (req, reply) => {
    const id = parse(audienceId, req.params.audienceId, 'audienceId');
    const { name } = parse(putBody, req.body);
    const result = await s.store.putAudience(id, name, s.now(), actorOf(req));
    if (result.created) s.log.info({ audience: id }, 'audience created');
    if (result.renamed) s.log.info({ audience: id }, 'audience renamed; its X audiences follow');
    s.notify();
    return reply.code(result.created ? 201 : 200).send(await audienceView(s.store, result.audience, viewOpts));
  });

  app.get('/api/v1/deletions', { schema: deletions }, async () => ({ data: (await s.store.listDeletions()).map(deletionView) }));

  app.delete('/api/v1/audiences/:audienceId', { schema: del }, async (req, reply) => {
    const id = pathId(req.params.audienceId, 'Audience');
    const force = parse(deleteQuery, req.query).force === 'true';
    const audience = await s.store.getAudience(id);
    if (!audience) {
      // Already deleted: with force, this confirms the deletions still waiting on campaigns.
      const waiting = force ? (await s.store.listDeletions()).filter((d) => d.audienceId === id) : [];
      if (waiting.length === 0 || (await s.store.forceDeletions(id, s.now(), actorOf(req))) === 0)
        throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
      s.log.info({ audience: id }, 'waiting deletions confirmed with force; deleting its X audiences despite their campaigns');
      s.notify();
      return reply.code(202).send({
        deleted: true,
        deleting_x_audiences: waiting.flatMap((d) => (d.xAudienceId === null ? [] : [{ x_audience_id: d.xAudienceId, name: d.xName }])),
      });
    }
    const downstreams = await s.store.listDownstreams(audience.id);
    await s.store.deleteAudience(audience.id, s.now(), actorOf(req), { force });
    s.log.info({ audience: audience.id, force }, 'audience deleted; deleting its X audiences');
    s.notify();
    return reply.code(202).send({
      deleted: true,
      deleting_x_audiences: downstreams.flatMap((d) => (d.xAudienceId === null ? [] : [{ x_audience_id: d.xAudienceId, name: d.xName }])),
    });
  });
}
