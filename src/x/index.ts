/** The X Ads API client: OAuth 1.0a signing, packing, calls, and X's failures as typed errors. */
export { XClient, DEFAULT_TIMEOUT_MS } from './client.ts';
export type { XClientOptions, XClientLogger } from './client.ts';
export * from './facts.ts';
export { packUsers, usersPerRequest, EMPTY_OPERATION_BYTES } from './pack.ts';
export type { PackLimits } from './pack.ts';
export { xError, parseOperationErrors } from './errors.ts';
export type { XFailure, XErrorContext, XOperation, HeaderSource } from './errors.ts';
export { readRateLimit } from './rate-limit.ts';
export {
  percentEncode,
  signRequest,
  signatureBaseString,
  parameterString,
  hmacSha1Signature,
  authorizationHeader,
  baseStringUri,
  formParams,
  queryParams,
} from './oauth.ts';
export type { Param, OAuthCredentials, SignInput, Signed } from './oauth.ts';
export type * from './types.ts';
