import type { FastifyReply } from 'fastify';
import type { RefusalCode } from '../core/errors.ts';

/** The closed set of error codes of /api/v1 and their HTTP statuses: one envelope for all. */
export type ApiErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'misdirected'
  | 'invalid_request'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'conflict'
  | 'x_rejected'
  | 'x_unavailable'
  | 'unavailable'
  | 'internal';

const STATUS: Record<ApiErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  // A Host Tailor does not answer to (src/server/hosts.ts): RFC 9110's "Misdirected Request".
  misdirected: 421,
  invalid_request: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  conflict: 409,
  x_rejected: 422,
  x_unavailable: 502,
  unavailable: 503,
  internal: 500,
};

/** Every code, in a fixed order (the OpenAPI document's enum). */
export const API_ERROR_CODES = Object.keys(STATUS) as [ApiErrorCode, ...ApiErrorCode[]];

/** An HTTP status of the envelope's code. */
export function statusOf(code: ApiErrorCode): number {
  return STATUS[code];
}

/**
 * The envelope code of each refusal a service, a REST handler or an import throws
 * (src/core/errors.ts). Exhaustive: a new refusal code does not compile until it has its answer.
 */
export function apiCodeOf(code: RefusalCode): ApiErrorCode {
  switch (code) {
    case 'not_found':
      return 'not_found';
    case 'in_use':
      return 'conflict';
    case 'invalid':
      return 'invalid_request';
    case 'x_refused':
      return 'x_rejected';
    case 'x_unreachable':
      return 'x_unavailable';
  }
}

/** An error only HTTP has (authentication, body limits, request validation), thrown by route code. */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function sendError(reply: FastifyReply, code: ApiErrorCode, message: string, details?: unknown): FastifyReply {
  return reply.code(STATUS[code]).send({ error: details === undefined ? { code, message } : { code, message, details } });
}
