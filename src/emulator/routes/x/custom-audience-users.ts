/**
 * POST /12/accounts/:account_id/custom_audiences/:custom_audience_id/users (docs/reference/x-ads-api.md 3).
 * Checks, in order: account and write permission (403), audience (404), JSON content type (415),
 * body size (413), JSON array, operation count, each operation (400 with operation_errors).
 * Atomic: nothing is applied unless every operation is valid.
 */
import type { FastifyInstance } from 'fastify';
import { markChanged } from '../../audiences/sizing.ts';
import { mediaType, RawBody } from '../../http/body.ts';
import { invalidParameter, XError } from '../../http/x-error.ts';
import { registerXRoute } from '../../http/x-route.ts';
import { applyOperations } from '../../users/apply-operations.ts';
import { validateOperations } from '../../users/validate-operations.ts';
import type { World } from '../../world/world.ts';
import { requireAccount } from './account-access.ts';
import { findAudience } from './audience-lookup.ts';

/** docs/reference/x-ads-api.md 3.4: at most 2500 operation objects per request (the current reference's reading). */
export const MAX_OPERATIONS = 2500;

/** docs/reference/x-ads-api.md 3.4: body at most 5,000,000 bytes. */
export const MAX_BODY_BYTES = 5_000_000;

export function registerCustomAudienceUsers(app: FastifyInstance, world: World): void {
  registerXRoute(app, world, {
    method: 'POST',
    url: '/12/accounts/:account_id/custom_audiences/:custom_audience_id/users',
    route: 'POST custom_audience_users',
    family: () => 'users',
    isUsers: true,
    handle: (ctx) => {
      requireAccount(ctx, 'write');
      const audience = findAudience(ctx, false);
      const body = ctx.body;
      if (!(body instanceof RawBody) || mediaType(body.contentType) !== 'application/json') {
        // Reported in practice for form bodies (docs/reference/x-ads-api.md 8.3); the body's code is the emulator's.
        throw new XError(415, [{ code: 'UNSUPPORTED_MEDIA_TYPE', message: 'The users endpoint takes a JSON body with Content-Type: application/json' }]);
      }
      if (body.data.length > MAX_BODY_BYTES) {
        throw new XError(413, [
          {
            code: 'INVALID_PARAMETER',
            message: `Request body of ${body.data.length} bytes exceeds the limit of ${MAX_BODY_BYTES} bytes`,
          },
        ]);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.data.toString('utf8'));
      } catch {
        throw invalidParameter('body', 'The body is not valid JSON');
      }
      if (!Array.isArray(parsed)) throw invalidParameter('body', 'The body must be a JSON array of operations');
      ctx.notes.operations = parsed.length;
      ctx.notes.users = countUsers(parsed);
      if (parsed.length === 0) throw invalidParameter('body', 'The body must hold at least one operation');
      if (parsed.length > MAX_OPERATIONS) {
        throw invalidParameter('body', `The body holds ${parsed.length} operations; at most ${MAX_OPERATIONS} are allowed`);
      }
      const validation = validateOperations(parsed, ctx.now);
      if (!validation.ok) {
        const invalid = validation.operationErrors.filter((e) => e.length > 0).length;
        const first = validation.operationErrors.find((e) => e.length > 0)?.[0];
        throw new XError(
          400,
          [
            {
              code: first?.code ?? 'INVALID_PARAMETER',
              message: `${invalid} of ${parsed.length} operations are invalid; nothing was applied (see operation_errors)`,
            },
          ],
          { operation_errors: validation.operationErrors },
        );
      }
      applyOperations(audience, validation.operations, world.windows);
      markChanged(audience, ctx.now);
      audience.updatedAt = ctx.now;
      return {
        status: 200,
        body: {
          data: { success_count: validation.userCount, total_count: validation.userCount },
          request: { params: ctx.echo },
        },
      };
    },
  });
}

/** User objects in the body, for the request log, valid or not. */
function countUsers(operations: readonly unknown[]): number {
  let n = 0;
  for (const op of operations) {
    const users = (op as { params?: { users?: unknown } } | null)?.params?.users;
    if (Array.isArray(users)) n += users.length;
  }
  return n;
}
