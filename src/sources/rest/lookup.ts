import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Refusal } from '../../core/errors.ts';
import { hashIdentity, type IdentityKind } from '../../identity/index.ts';
import { bodyErrors } from '../../http/schema.ts';
import { parse } from '../../http/validate.ts';
import type { Services } from '../../services/deps.ts';
import { lookupView } from '../../services/lookup.ts';
import { lookupViewSchema } from '../../services/views.ts';

const value = z.string().max(1024, 'must be at most 1024 characters');
/** The member fields (POST …/members), raw or as SHA-256 digests; at least one. */
const body = z
  .strictObject({
    email: value.optional(),
    twitter_handle: value.optional(),
    ios_advertising_id: value.optional(),
    google_advertising_id: value.optional(),
    phone_number: value.optional(),
  })
  .refine(
    (b) => Object.values(b).some((v) => v !== undefined),
    'give at least one identity (email, twitter_handle, ios_advertising_id, google_advertising_id, phone_number)',
  );

const KINDS: IdentityKind[] = ['email', 'twitter_handle', 'ios_advertising_id', 'google_advertising_id', 'phone_number'];

/**
 * POST /api/v1/lookup: find a person. Raw values are normalized and hashed in memory (identity/),
 * the hashes are looked up, and the answer names fields and states, never a value. A POST so the
 * values never sit in a URL (access logs, proxies, history).
 */
export function registerLookup(fastify: FastifyInstance, s: Services): void {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const post = {
    tags: ['lookup'],
    summary: 'Find a person: where each identity is held, per audience and X audience, and its state (values are hashed in memory, never stored or logged)',
    body,
    response: { 200: lookupViewSchema, ...bodyErrors('unavailable') },
  };
  app.post('/api/v1/lookup', { schema: post }, async (req) => {
    const input = parse(body, req.body);
    const identities = KINDS.flatMap((kind) => {
      const raw = input[kind];
      if (raw === undefined) return [];
      const result = hashIdentity(kind, raw, 'raw', { phoneRegion: s.phoneRegion });
      if (!result.ok) throw new Refusal('invalid', `${kind}: ${result.message}`);
      return [{ field: kind, type: result.type, hash: result.hash }];
    });
    return lookupView(s.store, identities);
  });
}
