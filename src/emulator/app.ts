/**
 * The emulator's HTTP app: X's surface (/oauth/*, /12/*) and the test bench's back door
 * (/_emulator/*), on one fastify instance built from one World.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { MAX_ACCEPTED_BODY_BYTES, registerBodyParsers } from './http/body.ts';
import { recordCall } from './http/record-call.ts';
import { pathOf } from './http/request-info.ts';
import { xErrorBody } from './http/x-error.ts';
import { registerBackdoorAudiences, registerBackdoorCampaigns } from './routes/backdoor/audiences.ts';
import { registerClock } from './routes/backdoor/clock.ts';
import { registerConfig } from './routes/backdoor/config.ts';
import { registerCredentials } from './routes/backdoor/credentials.ts';
import { registerFaults } from './routes/backdoor/faults.ts';
import { registerPopulation } from './routes/backdoor/population.ts';
import { registerRequests } from './routes/backdoor/requests.ts';
import { registerSizing } from './routes/backdoor/sizing.ts';
import { registerStats } from './routes/backdoor/stats.ts';
import { registerOAuthRoutes } from './routes/oauth/oauth-routes.ts';
import { registerAccountRoutes } from './routes/x/accounts.ts';
import { registerCustomAudienceCrud } from './routes/x/custom-audience-crud.ts';
import { registerCustomAudienceTargeted } from './routes/x/custom-audience-targeted.ts';
import { registerCustomAudienceUsers } from './routes/x/custom-audience-users.ts';
import { registerCustomAudiencesList } from './routes/x/custom-audiences-list.ts';
import { wallClock, type World } from './world/world.ts';

/** docs/reference/x-ads-api.md 1.3: every response carries the current version. */
const CURRENT_API_VERSION = '12';

export async function buildApp(world: World): Promise<FastifyInstance> {
  const app = Fastify({
    logger: world.settings.logger,
    bodyLimit: MAX_ACCEPTED_BODY_BYTES,
    // close() must not wait for keep-alive sockets or calls held by injected latency.
    forceCloseConnections: true,
    // Audience ids are short, but a client's bug may send anything; X answers 404, not 414.
    routerOptions: { maxParamLength: 1000 },
  });
  await registerBodyParsers(app);
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-current-api-version', CURRENT_API_VERSION);
  });
  // Node writes the machine's own Date; a skewed X (clock_skew_ms) writes its own, as it is sent.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (world.config.clockSkewMs !== 0) reply.header('date', new Date(wallClock(world)).toUTCString());
    return payload;
  });

  registerOAuthRoutes(app, world);
  registerAccountRoutes(app, world);
  registerCustomAudiencesList(app, world);
  registerCustomAudienceCrud(app, world);
  registerCustomAudienceUsers(app, world);
  registerCustomAudienceTargeted(app, world);

  registerCredentials(app, world);
  registerBackdoorAudiences(app, world);
  registerBackdoorCampaigns(app, world);
  registerFaults(app, world);
  registerSizing(app, world);
  registerStats(app, world);
  registerRequests(app, world);
  registerPopulation(app, world);
  registerConfig(app, world);
  registerClock(app, world);

  app.setNotFoundHandler(async (request, reply) => {
    const at = Date.now();
    const body = xErrorBody([{ code: 'ROUTE_NOT_FOUND', message: 'The requested resource could not be found' }], {});
    await reply.code(404).send(body);
    if (isXCall(request)) recordCall(world, request, at, `${request.method} unknown`, 404);
  });

  // Errors fastify raises before a route runs (e.g. a body over the accepted maximum), and bugs.
  app.setErrorHandler(async (error: { statusCode?: number; message?: string }, request, reply) => {
    const at = Date.now();
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    const item =
      status === 500 ? { code: 'INTERNAL_ERROR', message: 'Internal error' } : { code: 'INVALID_PARAMETER', message: error.message ?? 'Invalid request' };
    if (status === 500) request.log.error(error);
    await reply.code(status).send(xErrorBody([item], {}));
    if (isXCall(request)) recordCall(world, request, at, `${request.method} rejected`, status);
  });

  return app;
}

function isXCall(request: FastifyRequest): boolean {
  const path = pathOf(request.raw.url ?? '/');
  return !path.startsWith('/_emulator/');
}
