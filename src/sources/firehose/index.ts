/**
 * `POST /firehose`: mParticle's Firehose audience protocol on one URL, dispatching on `type`
 * (`docs/reference/mparticle-firehose.md`). Registration needs no token; everything else needs
 * `Authorization: Token <TAILOR_FIREHOSE_TOKEN>` when that variable is set. Answers come from the
 * store alone (no X call), so they stay within mParticle's 100 ms.
 *
 * `GET /api/v1/firehose` (admin token) shows what the endpoint has answered, suspensions first.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { credential, secretsEqual } from '../../http/auth.ts';
import { ApiError } from '../../http/errors.ts';
import { errorResponses } from '../../http/schema.ts';
import { parse } from '../../http/validate.ts';
import type { Services } from '../../services/deps.ts';
import { JsonSyntaxError, parseFirehoseJson } from './json.ts';
import { dsrRequest, handleDsr } from './dsr.ts';
import { handleMembership } from './membership.ts';
import { registrationResponse, type RegisteredEncoding } from './registration.ts';
import { MESSAGE_TYPES, membershipRequest, subscriptionRequest } from './schema.ts';
import { FirehoseStatus, MAX_SUSPENSIONS } from './status.ts';
import { handleSubscription } from './subscription.ts';

export interface FirehoseOptions {
  firehoseToken: string | null;
  /** The identity encoding asked for in the registration (TAILOR_FIREHOSE_ENCODING); raw by default. */
  firehoseEncoding?: RegisteredEncoding;
}

/** GET /api/v1/firehose: what POST /firehose registers and has answered since the process started. */
export const firehoseStatusSchema = z.object({
  encoding: z.enum(['raw', 'sha256']).describe('The identity encoding the registration asks mParticle for (TAILOR_FIREHOSE_ENCODING)'),
  token_required: z.boolean().describe('Whether POST /firehose needs `Authorization: Token <TAILOR_FIREHOSE_TOKEN>`'),
  messages: z.record(z.string(), z.number().int()).describe('Messages received, by type (`unsupported` for any other)'),
  suspensions: z
    .array(z.object({ account_id: z.string(), reason: z.enum(['unknown_account']), message: z.string(), count: z.number().int(), last_at: z.iso.datetime() }))
    .describe('Accounts answered `suspend_subscription: true`, most recent first'),
  suspensions_forgotten: z.number().int().describe(`Accounts dropped from the list above (it keeps ${MAX_SUSPENSIONS})`),
});

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function registerFirehose(app: FastifyInstance, s: Services, opts: FirehoseOptions): void {
  const status = new FirehoseStatus();
  const encoding = opts.firehoseEncoding ?? 'raw';

  // Its own scope, so that its body parser applies to /firehose only.
  void app.register(async (scope) => {
    // The content type mParticle sends is not documented: every body is read as JSON text, with
    // `mpid` numbers kept digit for digit (json.ts). The server's body limit applies.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
      try {
        done(null, parseFirehoseJson(body as string));
      } catch (err) {
        // Never err.message of anything else: V8's JSON errors quote the body.
        done(new ApiError('invalid_request', err instanceof JsonSyntaxError ? err.message : 'Body is not valid JSON'), undefined);
      }
    });

    scope.post('/firehose', async (req) => {
      const body = req.body;
      const type = isObject(body) ? body.type : undefined;
      if (type !== MESSAGE_TYPES.registration && opts.firehoseToken !== null) {
        const token = credential(req.headers.authorization, 'Token');
        if (token === null || !secretsEqual(token, opts.firehoseToken)) throw new ApiError('unauthorized', 'Send Authorization: Token <TAILOR_FIREHOSE_TOKEN>');
      }
      if (!isObject(body) || typeof type !== 'string')
        throw new ApiError('invalid_request', 'Body must be a JSON object with a string "type" (a Firehose message)');
      status.message((Object.values(MESSAGE_TYPES) as string[]).includes(type) ? type : 'unsupported');
      switch (type) {
        case MESSAGE_TYPES.registration:
          return registrationResponse(encoding, body);
        case MESSAGE_TYPES.subscription:
          return handleSubscription(s, parse(subscriptionRequest, body, 'audience_subscription_request'));
        case MESSAGE_TYPES.membership:
          return handleMembership(s, status, parse(membershipRequest, body, 'audience_membership_change_request'));
        case MESSAGE_TYPES.dsr:
          return handleDsr(s, parse(dsrRequest, body, 'dsr_processing_request'));
        default:
          throw new ApiError(
            'invalid_request',
            // Quoted only when it looks like a message type: any string can arrive here.
            `type: unsupported message type${/^[a-z_]{1,64}$/.test(type) ? ` "${type}"` : ''}; Tailor is an audience integration and handles ${Object.values(MESSAGE_TYPES).join(', ')}`,
          );
      }
    });
  });

  const get = {
    tags: ['firehose'],
    summary: 'What the Firehose endpoint (POST /firehose) has answered, suspensions first',
    response: { 200: firehoseStatusSchema, ...errorResponses() },
  };
  app
    .withTypeProvider<ZodTypeProvider>()
    .get('/api/v1/firehose', { schema: get }, async () => ({ encoding, token_required: opts.firehoseToken !== null, ...status.view() }));
}
