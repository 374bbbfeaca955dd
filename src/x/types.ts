/**
 * What the rest of Tailor sees of the X Ads API. The implementation (client.ts) signs every call
 * with OAuth 1.0a, checks every response and turns failures into the typed errors of core/errors.
 */
import type { OperationError } from '../core/errors.ts';
import type { IdentityType } from '../core/terms.ts';

export interface XAppCredentials {
  consumerKey: string;
  consumerSecret: string;
}

export interface XUserTokens {
  accessToken: string;
  accessTokenSecret: string;
}

export interface XAccount {
  id: string;
  name: string;
}

export interface XUserAccess {
  userId: string;
  permissions: string[];
}

export interface XCustomAudience {
  id: string;
  name: string;
  description: string | null;
  audienceSize: number | null;
  targetable: boolean;
  reasonsNotTargetable: string[];
  deleted: boolean;
}

/** A campaign targeting an audience, with its line items (2.8 `targeted`). */
export interface XTargetingCampaign {
  campaignId: string;
  campaignName: string | null;
  lineItems: { id: string; name: string | null; servable: boolean | null }[];
}

/** One hash to add (`Update`) or remove (`Delete`) in a downstream audience. */
export interface UserChange {
  op: 'add' | 'remove';
  hash: string;
}

/** One `users` request, packed to X's limits by pack.ts. */
export interface UsersRequest {
  identityType: IdentityType;
  /** The changes in this request, in the order their users appear in the body. */
  changes: UserChange[];
  /** The exact JSON body sent. */
  body: string;
}

/** Per-item outcome of a `users` request. X's batches are atomic: all applied or none. */
export interface UsersResult {
  /** X's HTTP status (for the delivery log); absent from fakes that do not say. */
  status?: number;
  successCount: number;
  totalCount: number;
  /** Errors X reported for individual operations, by position of the operation. */
  operationErrors: OperationError[];
}

/** Rate-limit headers of the last response, so callers can slow down before a 429. */
export interface RateLimitInfo {
  limit: number;
  remaining: number;
  /** Epoch milliseconds. */
  resetAt: number;
  /**
   * Which headers these came from: `account` (`x-account-rate-limit-*`, given on GETs, take
   * precedence) or `token` (`x-rate-limit-*`, the user token's own window).
   */
  scope?: 'account' | 'token';
  /** The ad account of the call, when it had one. */
  accountId?: string;
}

export interface RequestToken {
  oauthToken: string;
  oauthTokenSecret: string;
  callbackConfirmed: boolean;
}

export interface AccessToken extends XUserTokens {
  userId: string;
  screenName: string;
}

export interface ListAudiencesOptions {
  /** Case-insensitive name prefix (X's `q`, 1 to 255 characters). */
  q?: string;
  /** Include deleted audiences (X's `with_deleted=true`). */
  withDeleted?: boolean;
}

export interface CreateAudienceInput {
  /** Must be unique on the account, including names of deleted audiences. */
  name: string;
  description?: string;
}

export interface UpdateAudienceInput {
  name?: string;
  /** An empty string clears the description (X's PUT semantics). */
  description?: string;
}
