/**
 * What a documented `/api/v1` route declares besides its handler: zod schemas of its params,
 * query, body and of every answer, from which the OpenAPI document is generated
 * (src/server/openapi.ts, `GET /api/v1/openapi.json`) and by which the handler is typed
 * (fastify-type-provider-zod). They describe; they do not check (DESCRIBING_COMPILERS). Requests are still checked by
 * the handler's own `parse()` (validate.ts), after the access check and with Tailor's messages
 * (Fastify validates before preHandler hooks, so a validating compiler would answer an
 * unauthenticated caller's bad body with a 400 instead of a 401). Answers are still serialized
 * with JSON.stringify, byte for byte as before; test/server/openapi.test.ts checks real answers
 * against the response schemas.
 */
import type { FastifySchemaCompiler, FastifySerializerCompiler, FastifyServerOptions } from 'fastify';
import { z } from 'zod';
import { API_ERROR_CODES, statusOf, type ApiErrorCode } from './errors.ts';

const describeOnly: FastifySchemaCompiler<unknown> = () => () => true;
const stringify: FastifySerializerCompiler<unknown> = () => (data) => JSON.stringify(data);

/**
 * The server's compilers (Fastify's `schemaController.compilersFactory`, server/app.ts): a route's
 * schemas document and type it, nothing more. Set once for the whole server, so no route can be
 * checked by Fastify by accident, and Fastify does not load Ajv and fast-json-stringify at start-up
 * (about a tenth of Tailor's start) only to leave them unused.
 */
export const DESCRIBING_COMPILERS: CompilersFactory = {
  // Fastify types these factories by Ajv's and fast-json-stringify's; any compiler is what it calls.
  buildValidator: (() => describeOnly) as unknown as CompilersFactory['buildValidator'],
  buildSerializer: (() => stringify) as unknown as CompilersFactory['buildSerializer'],
};
type CompilersFactory = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

/** The one error envelope of every 4xx and 5xx answer (errors.ts `sendError`). */
export const errorEnvelope = z
  .object({
    error: z.object({
      code: z.enum(API_ERROR_CODES).describe('One code per HTTP status (src/http/errors.ts)'),
      message: z.string().describe('For a person; never quotes an identifier'),
      details: z.unknown().optional(),
    }),
  })
  .meta({ id: 'Error' });

const WHEN: Record<ApiErrorCode, string> = {
  invalid_request: 'The request is not valid: the message names every bad field',
  unauthorized: 'No or a wrong `Authorization: Bearer <TAILOR_ADMIN_TOKEN>` (and no UI session)',
  forbidden: 'A UI session without its CSRF header on a write',
  not_found: 'No such audience, configuration or connection',
  misdirected: 'A Host Tailor does not answer to (TAILOR_PUBLIC_URL, TAILOR_ALLOWED_HOSTS)',
  payload_too_large: 'The body is larger than the route’s limit',
  unsupported_media_type: 'A body that is not `application/json`',
  conflict: 'Still in use',
  x_rejected: 'X refused (the tokens, the account or a permission)',
  x_unavailable: 'X could not be reached',
  unavailable: 'The change could not be stored durably; retry later',
  internal: 'Internal error; the server log has the request id',
};

/** Every /api/v1 route may answer these: the access check, the router's URL checks, a crash. */
const ALWAYS: ApiErrorCode[] = ['invalid_request', 'unauthorized', 'forbidden', 'misdirected', 'internal'];

/** A route's error answers by status: the ones every route has, plus `codes`. */
export function errorResponses(...codes: ApiErrorCode[]): Record<number, typeof errorEnvelope> {
  const out: Record<number, typeof errorEnvelope> = {};
  for (const code of new Set([...ALWAYS, ...codes])) out[statusOf(code)] = errorEnvelope.describe(WHEN[code]);
  return out;
}

/** The error answers of a route that reads a JSON body, besides `codes`. */
export const bodyErrors = (...codes: ApiErrorCode[]) => errorResponses('payload_too_large', 'unsupported_media_type', ...codes);

/**
 * A 204's body: none. `undefined` cannot be written in JSON Schema; the document's generator
 * (src/server/openapi.ts) writes it as `type: null`, which OpenAPI renders as no content.
 */
export const noContent = (description: string) => z.undefined().describe(description);
