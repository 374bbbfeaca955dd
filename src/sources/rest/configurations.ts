import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyErrors, errorResponses, noContent } from '../../http/schema.ts';
import { actorOf } from '../../http/actor.ts';
import { displayName, parse, pathId } from '../../http/validate.ts';
import { addConfiguration, configurationView } from '../../services/configurations.ts';
import type { Services } from '../../services/deps.ts';
import { configurationViewSchema } from '../../services/views.ts';

const body = z.strictObject({
  name: displayName.optional(),
  account_id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9]+$/, 'must be an X ad account id (letters and digits)'),
  access_token: z.string().min(1).max(512),
  access_token_secret: z.string().min(1).max(512),
});
const TAGS = ['configurations'];

export function registerConfigurations(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/api/v1/configurations',
    {
      schema: {
        tags: TAGS,
        summary: 'List configurations (X ad accounts)',
        response: { 200: z.object({ data: z.array(configurationViewSchema) }), ...errorResponses() },
      },
    },
    async () => ({ data: (await s.store.listConfigurations()).map(configurationView) }),
  );

  const post = {
    tags: TAGS,
    summary: 'Add an X ad account with the user tokens Tailor writes with (checked with X first)',
    body,
    response: {
      200: configurationViewSchema.describe('Already there: its tokens replaced'),
      201: configurationViewSchema.describe('Added'),
      ...bodyErrors('x_rejected', 'x_unavailable', 'unavailable'),
    },
  };
  app.post('/api/v1/configurations', { schema: post }, async (req, reply) => {
    const input = parse(body, req.body);
    const { configuration, created } = await addConfiguration(s, {
      actor: actorOf(req),
      name: input.name,
      accountId: input.account_id,
      tokens: { accessToken: input.access_token, accessTokenSecret: input.access_token_secret },
    });
    return reply.code(created ? 201 : 200).send(configurationView(configuration));
  });

  const del = {
    tags: TAGS,
    summary: 'Remove a configuration that no connection uses',
    params: z.object({ id: z.string().describe('The configuration id') }),
    response: { 204: noContent('Removed'), ...errorResponses('not_found', 'conflict', 'unavailable') },
  };
  app.delete('/api/v1/configurations/:id', { schema: del }, async (req, reply) => {
    const result = await s.store.deleteConfiguration(pathId(req.params.id, 'Configuration'), s.now(), actorOf(req));
    if (result === 'not_found') throw new Refusal('not_found', `Configuration ${req.params.id} does not exist`);
    if (result === 'in_use')
      throw new Refusal(
        'in_use',
        'Connections still use this configuration (or its X audiences are being deleted, or removals of opted-out people still wait to reach them); remove the connections first, or wait',
      );
    s.log.info({ configuration: req.params.id }, 'configuration deleted');
    return reply.code(204).send();
  });
}
