import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { bodyErrors, errorResponses, noContent } from '../../http/schema.ts';
import { actorOf } from '../../http/actor.ts';
import { parse, pathId } from '../../http/validate.ts';
import type { Services } from '../../services/deps.ts';
import { audienceView } from '../../services/status.ts';
import { audienceViewSchema } from '../../services/views.ts';
import { audienceId } from './audiences.ts';

/** The longest cadence: a week (X drops a member 13 months after its last Update, so any week is safe). */
export const MAX_SEND_INTERVAL_MINUTES = 10_080;

const body = z
  .strictObject({
    forward_emails: z.boolean().optional(),
    forward_twitter_handles: z.boolean().optional(),
    forward_device_ids: z.boolean().optional(),
    forward_phone_numbers: z.boolean().optional().describe('Off unless set: phone numbers are sent only when asked for'),
    send_interval_minutes: z
      .number()
      .int()
      .min(1)
      .max(MAX_SEND_INTERVAL_MINUTES)
      .nullable()
      .optional()
      .describe('null: near real time; minutes (X advises 360–480): each X audience’s adds and removes go at most once per interval. Left out: unchanged'),
  })
  .optional();

const resyncBody = z.strictObject({}).optional();
const resynced = z.object({
  resyncing_x_audiences: z.number().int().describe('X audiences of the connection whose hashes are being sent again'),
});

const params = z.object({ audienceId: audienceId.describe('The audience id'), configurationId: z.string().describe('The configuration id') });
const TAGS = ['connections'];

export function registerConnections(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const put = {
    tags: TAGS,
    summary:
      'Connect an audience to a configuration, or change which identity types it forwards (each defaults to true, phone numbers to false; at least one on)',
    params,
    body: body.describe('Optional: leave the body out to forward every type but phone numbers'),
    response: {
      200: audienceViewSchema.describe('Updated: the audience'),
      201: audienceViewSchema.describe('Connected: the audience'),
      ...bodyErrors('not_found', 'unavailable'),
    },
  };
  app.put('/api/v1/audiences/:audienceId/connections/:configurationId', { schema: put }, async (req, reply) => {
    const toggles = parse(body, req.body ?? undefined) ?? {};
    // A connection that forwards nothing would only look connected (issue 16): refused, as in the UI.
    if (toggles.forward_emails === false && toggles.forward_twitter_handles === false && toggles.forward_device_ids === false && !toggles.forward_phone_numbers)
      throw new Refusal(
        'invalid',
        'A connection forwards at least one identity type: set forward_emails, forward_twitter_handles, forward_device_ids or forward_phone_numbers to true, or delete the connection',
      );
    const audience = await s.store.getAudience(pathId(req.params.audienceId, 'Audience'));
    if (!audience) throw new Refusal('not_found', `Audience ${req.params.audienceId} does not exist`);
    const configuration = await s.store.getConfiguration(pathId(req.params.configurationId, 'Configuration'));
    if (!configuration) throw new Refusal('not_found', `Configuration ${req.params.configurationId} does not exist`);
    const forward = {
      forwardEmails: toggles.forward_emails ?? true,
      forwardTwitterHandles: toggles.forward_twitter_handles ?? true,
      forwardDeviceIds: toggles.forward_device_ids ?? true,
      // Off unless asked for: turning it on starts sending a new kind of personal data.
      forwardPhoneNumbers: toggles.forward_phone_numbers ?? false,
    };
    const cadence = toggles.send_interval_minutes === undefined ? {} : { sendIntervalMinutes: toggles.send_interval_minutes };
    const { created, changed } = await s.store.putConnection(audience.id, configuration.id, { ...forward, ...cadence }, s.now(), actorOf(req));
    // A type turned off detaches its X audience (kept on X); turned back on, it is re-sent.
    s.log.info(
      { audience: audience.id, configuration: configuration.id, created, changed, ...forward, ...cadence },
      created ? 'connection added' : 'connection updated; X audiences of types turned off are kept, detached',
    );
    s.notify();
    return reply.code(created ? 201 : 200).send(await audienceView(s.store, audience));
  });

  const resync = {
    tags: TAGS,
    summary: 'Send every hash X holds for this connection again, as Updates (packed and rate-limited; removals unaffected); progress in the audience’s status',
    params,
    body: resyncBody.describe('None: leave the body out'),
    response: { 202: resynced.describe('Started'), ...bodyErrors('not_found', 'unavailable') },
  };
  app.post('/api/v1/audiences/:audienceId/connections/:configurationId/resync', { schema: resync }, async (req, reply) => {
    parse(resyncBody, req.body ?? undefined);
    const n = await s.store.requestResync(
      pathId(req.params.audienceId, 'Audience'),
      pathId(req.params.configurationId, 'Configuration'),
      s.now(),
      actorOf(req),
    );
    if (n === null) throw new Refusal('not_found', `Audience ${req.params.audienceId} has no connection to configuration ${req.params.configurationId}`);
    s.log.info({ audience: req.params.audienceId, configuration: req.params.configurationId, xAudiences: n }, 'resync asked for');
    s.notify();
    return reply.code(202).send({ resyncing_x_audiences: n });
  });

  const del = {
    tags: TAGS,
    summary: 'Disconnect; its X audiences are kept on X, detached',
    params,
    response: { 204: noContent('Disconnected'), ...errorResponses('not_found', 'unavailable') },
  };
  app.delete('/api/v1/audiences/:audienceId/connections/:configurationId', { schema: del }, async (req, reply) => {
    const removed = await s.store.deleteConnection(
      pathId(req.params.audienceId, 'Audience'),
      pathId(req.params.configurationId, 'Configuration'),
      s.now(),
      actorOf(req),
    );
    if (!removed) throw new Refusal('not_found', `Audience ${req.params.audienceId} has no connection to configuration ${req.params.configurationId}`);
    s.log.info({ audience: req.params.audienceId, configuration: req.params.configurationId }, 'connection removed; its X audiences are kept, detached');
    return reply.code(204).send();
  });
}
