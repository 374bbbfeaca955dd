import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import { displayName, parse, pathId } from '../../http/validate.ts';
import type { Services } from '../../services/deps.ts';
import { audienceView, historyView } from '../../services/status.ts';

const audienceId = z.string().min(1).max(128).regex(/^[A-Za-z0-9._~-]+$/, 'may hold only letters, digits and . _ ~ -');
const putBody = z.strictObject({ name: displayName });

export function registerAudiences(app: FastifyInstance, s: Services): void {
  app.get('/api/v1/audiences', async () => {
    const audiences = await s.store.listAudiences();
    return {
      data: await Promise.all(audiences.map((a) => audienceView(s.store, a))),
    };
  });

  app.get<{ Params: { audienceId: string } }>('/api/v1/audiences/:audienceId', async (req) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    return audienceView(s.store, audience);
  });

  app.get<{ Params: { audienceId: string } }>('/api/v1/audiences/:audienceId/history', async (req) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    return historyView(s.store, audience);
  });

  app.put<{ Params: { audienceId: string } }>('/api/v1/audiences/:audienceId', async (req, reply) => {
    const id = parse(audienceId, req.params.audienceId, 'audienceId');
    const { name } = parse(putBody, req.body);
    const result = await s.store.putAudience(id, name, s.now());
    if (result.created) s.log.info({ audience: id }, 'audience created');
    if (result.renamed) s.log.info({ audience: id }, 'audience renamed; its X audiences follow');
    s.notify();
    return reply.code(result.created ? 201 : 200).send(await audienceView(s.store, result.audience));
  });

  app.delete<{ Params: { audienceId: string } }>('/api/v1/audiences/:audienceId', async (req, reply) => {
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    const downstreams = await s.store.listDownstreams(audience.id);
    await s.store.deleteAudience(audience.id, s.now());
    s.log.info({ audience: audience.id }, 'audience deleted; deleting its X audiences');
    s.notify();
    return reply.code(202).send({
      deleted: true,
      deleting_x_audiences: downstreams.filter((d) => d.xAudienceId !== null).map((d) => ({ x_audience_id: d.xAudienceId, name: d.xName })),
    });
  });
}
