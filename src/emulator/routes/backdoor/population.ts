/** GET /_emulator/population?offset=0&limit=100: raw identities, to build members that match. */
import type { FastifyInstance } from 'fastify';
import type { World } from '../../world/world.ts';
import { backdoorError, nonNegativeInt } from './backdoor-error.ts';

/** Ten thousand users is ~1.5 MB of JSON: enough per page for any test. */
const MAX_PAGE = 10_000;

export function registerPopulation(app: FastifyInstance, world: World): void {
  app.get('/_emulator/population', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const offset = nonNegativeInt(query.offset, 0);
    const limit = nonNegativeInt(query.limit, 100);
    if (offset === undefined || limit === undefined || limit > MAX_PAGE) {
      return backdoorError(reply, 400, 'INVALID_PARAMETER', `offset must be >= 0 and limit from 0 to ${MAX_PAGE}`);
    }
    reply.header('x-emulator-population-size', String(world.population.size));
    reply.header('x-emulator-population-active', String(world.population.activeCount));
    return world.population.slice(offset, limit);
  });
}
