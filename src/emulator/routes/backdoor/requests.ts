/** GET /_emulator/requests?since=<seq>&limit=<n>: the X calls logged after `since`, oldest first. */
import type { FastifyInstance } from 'fastify';
import { REQUEST_LOG_CAPACITY } from '../../observe/request-log.ts';
import type { World } from '../../world/world.ts';
import { backdoorError, nonNegativeInt } from './backdoor-error.ts';

export function registerRequests(app: FastifyInstance, world: World): void {
  app.get('/_emulator/requests', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const since = nonNegativeInt(query.since, 0);
    const limit = nonNegativeInt(query.limit, REQUEST_LOG_CAPACITY);
    if (since === undefined || limit === undefined) {
      return backdoorError(reply, 400, 'INVALID_PARAMETER', 'since and limit must be non-negative integers');
    }
    reply.header('x-emulator-last-seq', String(world.log.lastSeq()));
    return world.log.since(since, limit);
  });
}
