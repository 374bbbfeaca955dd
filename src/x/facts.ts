/**
 * What Tailor relies on about X's Ads API, in one place: versions, limits and rules, each citing
 * its section of docs/reference/x-ads-api.md. Tailor's own choices built on them (rate ceilings,
 * batch sizes, the renewal period) stay where they are made and import these, so a change on X's
 * side is one edit here. The emulator (src/emulator) reads the same reference on its own and
 * imports none of this: it checks Tailor against X's documentation, not against Tailor's reading.
 */
import type { IdentityType } from '../core/terms.ts';

/** 1.2: the first path segment of every call. `/12/` is the newest version every source uses. */
export const API_VERSION = '12';

/** 2.3 and 9.4: the largest page (`count`) a list call serves; Tailor asks for it, for fewer calls against the read limits. */
export const LIST_MAX_COUNT = 1000;

/**
 * 3.4: a `users` request body holds at most 5,000,000 bytes. Tailor packs requests to exactly
 * this (src/x/pack.ts), so a backlog drains in the fewest requests.
 */
export const USERS_MAX_BODY_BYTES = 5_000_000;

/**
 * 3.4: at most 2500 operation objects per `users` request (the current reference's reading; the
 * v4 one counted users). Tailor never puts more than two operations in a request, so it cannot
 * bind; the packer keeps it as a checked invariant.
 */
export const USERS_MAX_OPERATIONS = 2500;

/** 3.4 and 7.2: 1500 `users` requests per one-minute window, per account. Tailor's ceiling stays under it. */
export const USERS_REQUESTS_PER_MINUTE = 1500;

/** 7.2: writes (POST, PUT, DELETE: create, rename, delete an audience), 450 per minute. */
export const WRITES_PER_MINUTE = 450;

/**
 * 7.2: "other account reads" (GETs with an account id), 2,000 per 15 minutes. That
 * `GET custom_audiences` counts here is the reference's best guess, not confirmed.
 */
export const ACCOUNT_READS_PER_15_MINUTES = 2000;

/**
 * 7.1: rate-limit headers, as `<prefix>-limit`, `-remaining`, `-reset` (epoch seconds). The
 * account's come only on GETs and take precedence when present; otherwise the user token's apply.
 */
export const RATE_LIMIT_HEADERS = { account: 'x-account-rate-limit', token: 'x-rate-limit' } as const;

/**
 * 3.2: X holds a member until the `expires_at` of its last `Update`, by default 13 months after
 * the request. In days, rounded down (13 × 30.44 = 395.7): a member not renewed within this has
 * left X. TAILOR_RENEW_AFTER_DAYS may not exceed it.
 */
export const MEMBERSHIP_DAYS = 395;

/**
 * 2.3: `q`, the name filter of `GET custom_audiences`, is a case-insensitive *prefix* match of 1
 * to 255 characters. Tailor finds an audience whose create answer was lost by its name, so every
 * name it gives X must fit in this.
 */
export const NAME_QUERY_MAX_CHARS = 255;

/**
 * Tailor's limit on an audience name (REST, Firehose, the UI), chosen from X's: with the longest
 * part Tailor appends (` (device id) [20]`, src/core/names.ts) an X name stays within the 255
 * characters `q` can look up (2.3); test/x/facts.test.ts checks the sum. Configuration names,
 * never sent to X, take the same limit: one rule for every name Tailor takes.
 */
export const MAX_NAME_CHARS = 200;

/**
 * The marker written into an X audience's description: it ties the X audience to one database
 * (installation) and one downstream row. X has no field for a client's own data; `description` is
 * the one free-text field a client may write (4, 2.5, 2.6), and names are only unique, never
 * owned (2.5): anyone on the account may hold a name. So Tailor adopts an X audience it finds by
 * name only when its description carries this row's marker, never by name alone.
 */
export function downstreamMarker(installationId: string, downstreamId: number, type: IdentityType): string {
  return `tailor:${installationId}:${downstreamId}:${type}`;
}

/** The description Tailor writes on create: a line for people, the marker in brackets for Tailor. */
export function descriptionWithMarker(marker: string): string {
  return `Kept in sync by Tailor. Do not edit this line: [${marker}]`;
}

/** Whether an X audience's description (null when never set, 4) carries the marker. */
export function hasMarker(description: string | null, marker: string): boolean {
  return description !== null && description.includes(`[${marker}]`);
}
