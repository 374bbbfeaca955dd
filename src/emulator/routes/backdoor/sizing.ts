/**
 * POST /_emulator/sizing: a sizing run for every live audience now, whatever the delay, so tests
 * need not wait. With the `sizing: "never"` fault set it sizes nothing, as the fault promises.
 */
import type { FastifyInstance } from 'fastify';
import { sizeNow } from '../../audiences/sizing.ts';
import { sizingContext, type World } from '../../world/world.ts';

export function registerSizing(app: FastifyInstance, world: World): void {
  app.post('/_emulator/sizing', async () => {
    const ctx = sizingContext(world);
    if (ctx.mode === 'never') return { sized: 0, sizing: 'never' };
    const now = world.clock.now();
    let sized = 0;
    for (const audience of world.audiences.all()) {
      if (audience.deleted) continue;
      sizeNow(audience, ctx, now);
      sized++;
    }
    return { sized, sizing: 'normal' };
  });
}
