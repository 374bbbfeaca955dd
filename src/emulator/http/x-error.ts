/**
 * X's error envelope (docs/reference/x-ads-api.md 8.1):
 *   {"errors":[{"code","message","parameter"?}],"request":{"params":{…}}}
 * Routes throw XError; the pipeline turns it into the envelope with the params parsed so far.
 */

export interface XErrorItem {
  code: string;
  message: string;
  parameter?: string;
}

export class XError extends Error {
  constructor(
    readonly status: number,
    readonly errors: XErrorItem[],
    /** Extra top-level fields, e.g. operation_errors on the users endpoint. */
    readonly extra: Record<string, unknown> = {},
  ) {
    super(errors[0]?.message ?? 'X error');
    this.name = 'XError';
  }
}

export function xErrorBody(errors: XErrorItem[], params: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { errors, ...extra, request: { params } };
}

export function invalidParameter(parameter: string, message: string): XError {
  return new XError(400, [{ code: 'INVALID_PARAMETER', message, parameter }]);
}

export function missingParameter(parameter: string): XError {
  return new XError(400, [{ code: 'MISSING_PARAMETER', message: `"${parameter}" is a required parameter`, parameter }]);
}

/** The one 401 body X gives for every authentication failure (docs/reference/x-ads-api.md 8.2). */
export const UNAUTHORIZED_BODY = {
  errors: [{ code: 'UNAUTHORIZED_ACCESS', message: 'This request is not properly authenticated' }],
  request: { params: {} },
} as const;

export const RATE_LIMITED: XErrorItem = { code: 'TOO_MANY_REQUESTS', message: 'Rate limit exceeded' };

export function serverError(status: 500 | 503): XErrorItem {
  return status === 500 ? { code: 'INTERNAL_ERROR', message: 'Internal error' } : { code: 'SERVICE_UNAVAILABLE', message: 'Service unavailable' };
}

/** X's 403 to an app without Ads API access (docs/reference/x-ads-api.md 8.2, twitter/twurl#66). */
export const NO_ADS_API_ACCESS: XErrorItem = {
  code: 'UNAUTHORIZED_CLIENT_APPLICATION',
  message: 'The client application making this request does not have access to this API',
};
