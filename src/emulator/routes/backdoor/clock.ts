/**
 * GET and POST /_emulator/clock: X's time (world/clock.ts). POST {"advance_ms": n} moves it
 * forward by n milliseconds; both answer {"now": iso, "offset_ms": n}. Memberships that expire
 * meanwhile are gone at once, and sizing due by then runs on the next read.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { World } from '../../world/world.ts';
import { backdoorError } from './backdoor-error.ts';
import { readJson } from './faults.ts';

/** A hundred years: more than any test needs, and far from Date's limits. */
const MAX_ADVANCE_MS = 100 * 366 * 86_400_000;

const clockSchema = z.strictObject({ advance_ms: z.int().min(0).max(MAX_ADVANCE_MS) });

export function registerClock(app: FastifyInstance, world: World): void {
  const state = () => ({ now: new Date(world.clock.now()).toISOString(), offset_ms: world.clock.offsetMs });

  app.get('/_emulator/clock', async () => state());

  app.post('/_emulator/clock', async (request, reply) => {
    const parsed = clockSchema.safeParse(readJson(request.body));
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return backdoorError(reply, 400, 'INVALID_PARAMETER', why);
    }
    world.clock.advance(parsed.data.advance_ms);
    return state();
  });
}
