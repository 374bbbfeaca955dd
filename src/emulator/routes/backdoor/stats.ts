/** GET /_emulator/stats (counters) and DELETE /_emulator/stats (zero them). */
import type { FastifyInstance } from 'fastify';
import type { World } from '../../world/world.ts';

export function registerStats(app: FastifyInstance, world: World): void {
  app.get('/_emulator/stats', async () => {
    const users = world.limiter.limitOf('users');
    return {
      requests: world.stats.requests,
      total_429: world.stats.total429,
      audiences_created: world.stats.audiencesCreated,
      dropped: world.stats.dropped,
      faults_injected: world.stats.faultsInjected,
      users_rate_limit: { limit: users.limit, window_ms: users.windowMs },
      max_requests_in_any_window: world.limiter.maxInAnyWindow('users'),
    };
  });

  app.delete('/_emulator/stats', async () => {
    world.stats.reset();
    world.limiter.resetStats();
    return { reset: true };
  });
}
