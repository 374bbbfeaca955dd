/** GET and POST /_emulator/faults (body: faults/fault-body.ts; docs/emulator.md). */
import type { FastifyInstance } from 'fastify';
import { RawBody } from '../../http/body.ts';
import { faultBodySchema } from '../../faults/fault-body.ts';
import type { World } from '../../world/world.ts';
import { backdoorError } from './backdoor-error.ts';

export function registerFaults(app: FastifyInstance, world: World): void {
  const state = () => ({ ...world.faults.settings, revoked_tokens: world.tokens.revokedTokens() });

  app.get('/_emulator/faults', async () => state());

  app.post('/_emulator/faults', async (request, reply) => {
    const json = readJson(request.body);
    const parsed = faultBodySchema.safeParse(json);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
      return backdoorError(reply, 400, 'INVALID_PARAMETER', why);
    }
    const body = parsed.data;
    // Validate every audience first, so a bad entry changes nothing.
    const targets = (body.delete_audiences ?? []).map((d) => ({ ...d, audience: world.audiences.find(d.account_id, d.id) }));
    const missing = targets.find((t) => t.audience === undefined);
    if (missing) return backdoorError(reply, 404, 'NOT_FOUND', `No custom audience ${missing.id} in account ${missing.account_id}`);

    if (body.reset === true) {
      world.faults.reset();
      world.tokens.restoreAll();
    }
    const { reset: _reset, revoke_tokens, restore_tokens, delete_audiences: _delete, ...settings } = body;
    world.faults.update({
      ...settings,
      rate_limit_burst: settings.rate_limit_burst === undefined ? undefined : settings.rate_limit_burst && { ...settings.rate_limit_burst },
    });
    for (const token of revoke_tokens ?? []) world.tokens.revoke(token);
    for (const token of restore_tokens ?? []) world.tokens.restore(token);
    const now = world.clock.now();
    for (const t of targets) if (t.audience) world.audiences.markDeleted(t.audience, now);
    return state();
  });
}

/** The back door takes JSON; no body is an empty object; anything unparsable is undefined (400). */
export function readJson(body: unknown): unknown {
  if (body === undefined || (body instanceof RawBody && body.data.length === 0)) return {};
  if (!(body instanceof RawBody)) return undefined;
  try {
    return JSON.parse(body.data.toString('utf8'));
  } catch {
    return undefined;
  }
}
