/**
 * Tailor's terms, used the same way in code, docs and the UI.
 *
 * - **configuration**: one X ad account Tailor may write to, with the OAuth 1.0a tokens of the X
 *   login that authorized it (mParticle's "output configuration"; its one setting is Account ID).
 * - **audience**: a set of members kept in the source (mParticle audience, or REST `audienceId`).
 * - **member**: one person in an audience, keyed by mParticle `mpid` or REST `user_id`; when
 *   neither exists, each identity is a member of its own.
 * - **identity**: one identifier of a member: an email, a Twitter handle, a device id or a phone number, always
 *   held as a SHA-256 digest (lower-case hex) once it has entered Tailor.
 * - **connection**: an audience forwarded to one configuration, with four Forward toggles.
 * - **downstream audience** (downstream): the X custom audience that a connection owns for one
 *   identity type; up to four per connection.
 * - **ledger**: which member holds which hash in an audience (exact membership), and which hashes
 *   each downstream audience holds on X as far as Tailor has been told.
 * - **change**: one hash to add to or remove from one downstream audience, waiting in the outbox;
 *   one row per (downstream, hash), so the last state wins.
 * - **batch**: the changes of one downstream audience claimed under one lease and sent in one
 *   X `users` request.
 * - **lease**: a worker's claim on a downstream audience (owner, token, expiry); only the holder
 *   of the token may settle.
 */

/** The X `users` keys Tailor forwards; one downstream audience per type. */
export const IDENTITY_TYPES = ['email', 'handle', 'device_id', 'phone_number'] as const;
export type IdentityType = (typeof IDENTITY_TYPES)[number];

/** Suffix of the X audience name per identity type, as mParticle names them. */
export const AUDIENCE_NAME_SUFFIX: Record<IdentityType, string> = {
  email: '(email)',
  handle: '(handle)',
  device_id: '(device id)',
  phone_number: '(phone)',
};

export type ChangeOp = 'add' | 'remove';

/** A downstream audience's state, as shown to the user. */
export type DownstreamState =
  | 'creating' // no X audience recorded yet; a member is due to go: being created
  | 'waiting_for_member' // no X audience yet and no member to send: created with the first (store/creation.ts)
  | 'active'
  | 'detached' // Forward toggle off: kept on X, no longer written
  | 'recreating' // deleted on X by hand: being created again and refilled from the ledger
  | 'paused' // its configuration needs re-authorization
  | 'deleting' // its audience was deleted: being deleted on X
  | 'deleted';

export type ConfigurationState = 'active' | 'needs_reauth';

/**
 * What happened to a downstream audience, marked on its status chart: its configuration was
 * paused (needs re-authorization) or resumed; X lost it and Tailor re-created it; it was renamed
 * on X to follow its audience.
 */
export const DOWNSTREAM_EVENT_KINDS = ['paused', 'resumed', 'recreated', 'renamed'] as const;
export type DownstreamEventKind = (typeof DOWNSTREAM_EVENT_KINDS)[number];

/**
 * Who made a change, as the audit log records it: a caller with TAILOR_ADMIN_TOKEN, a signed-in
 * web UI session, mParticle's Firehose, the `tailor` command, or Tailor's own sync workers (which
 * pause a configuration X no longer accepts, and see an erasure through once X acknowledged it).
 */
export type Actor = 'admin_token' | 'ui_session' | 'firehose' | 'cli' | 'worker';
export const ACTORS = ['admin_token', 'ui_session', 'firehose', 'cli', 'worker'] as const satisfies readonly Actor[];
