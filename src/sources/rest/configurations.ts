import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import { displayName, parse, pathId } from '../../http/validate.ts';
import { addConfiguration, configurationView } from '../../services/configurations.ts';
import type { Services } from '../../services/deps.ts';

const body = z.strictObject({
  name: displayName.optional(),
  account_id: z.string().min(1).max(64).regex(/^[A-Za-z0-9]+$/, 'must be an X ad account id (letters and digits)'),
  access_token: z.string().min(1).max(512),
  access_token_secret: z.string().min(1).max(512),
});

export function registerConfigurations(app: FastifyInstance, s: Services): void {
  app.get('/api/v1/configurations', async () => ({ data: (await s.store.listConfigurations()).map(configurationView) }));

  app.post('/api/v1/configurations', async (req, reply) => {
    const input = parse(body, req.body);
    const { configuration, created } = await addConfiguration(s, {
      name: input.name,
      accountId: input.account_id,
      tokens: { accessToken: input.access_token, accessTokenSecret: input.access_token_secret },
    });
    return reply.code(created ? 201 : 200).send(configurationView(configuration));
  });

  app.delete<{ Params: { id: string } }>('/api/v1/configurations/:id', async (req, reply) => {
    const result = await s.store.deleteConfiguration(pathId(req.params.id, 'Configuration'));
    if (result === 'not_found') throw new Refusal('not_found', `Configuration ${req.params.id} does not exist`);
    if (result === 'in_use') throw new Refusal('in_use', 'Connections still use this configuration (or its X audiences are being deleted); remove them first');
    s.log.info({ configuration: req.params.id }, 'configuration deleted');
    return reply.code(204).send();
  });
}
