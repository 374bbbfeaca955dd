/**
 * The Firehose messages Tailor reads, as zod schemas (`docs/reference/mparticle-firehose.md`, sections 2, 5, 6
 * and 9). Unknown fields are ignored and absent lists and maps are empty, as mParticle leaves out
 * every empty value; what Tailor needs and cannot default is required, so a bad message gets one
 * 400 naming every bad field before anything is stored.
 */
import { z } from 'zod';
import { cleanName, nameTextProblem } from '../../core/text.ts';
import type { IdentityKind } from '../../identity/index.ts';
import type { ConnectionSettings, ConnectionToggles } from '../../store/port.ts';
import { MAX_NAME_CHARS } from '../../x/facts.ts';

export const MESSAGE_TYPES = {
  registration: 'module_registration_request',
  subscription: 'audience_subscription_request',
  membership: 'audience_membership_change_request',
  dsr: 'dsr_processing_request',
} as const;

/** Firehose SDK version Tailor speaks (`Consts.SDK_VERSION` of the Java SDK it was written from). */
export const SDK_VERSION = '3.2.0';

/** The connection settings Tailor registers, by setting id, and the toggle each one sets. */
export const TOGGLE_SETTINGS = {
  forwardEmails: 'forwardEmails',
  forwardTwitterHandles: 'forwardTwitterHandles',
  forwardDeviceIds: 'forwardDeviceIds',
  forwardPhoneNumbers: 'forwardPhoneNumbers',
} as const satisfies Record<string, keyof ConnectionToggles>;

/** mParticle sends every setting value as a string (`"true"`); a JSON boolean is taken too. */
function toggleValue(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return null;
  const t = v.trim().toLowerCase();
  return t === 'true' ? true : t === 'false' ? false : null;
}

/** The cadence setting's largest value (a week), as REST's `send_interval_minutes`. */
export const MAX_SEND_INTERVAL_MINUTES = 10_080;

/** `sendIntervalMinutes`: empty or absent is near real time (null); else whole minutes, 1 to a week; undefined when invalid. */
function intervalValue(v: unknown): number | null | undefined {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const t = String(v).trim();
  if (t === '') return null;
  if (!/^\d{1,6}$/.test(t)) return undefined;
  const n = Number(t);
  return n >= 1 && n <= MAX_SEND_INTERVAL_MINUTES ? n : undefined;
}

const settings = z.record(z.string(), z.union([z.string(), z.boolean(), z.number()], { error: 'setting values must be strings' })).superRefine((m, ctx) => {
  for (const id of Object.keys(TOGGLE_SETTINGS)) {
    if (m[id] !== undefined && toggleValue(m[id]) === null) ctx.addIssue({ code: 'custom', path: [id], message: 'must be "true" or "false"' });
  }
  if (intervalValue(m.sendIntervalMinutes) === undefined)
    ctx.addIssue({ code: 'custom', path: ['sendIntervalMinutes'], message: `must be empty or whole minutes from 1 to ${MAX_SEND_INTERVAL_MINUTES}` });
});
export type Settings = z.output<typeof settings>;

/** What an absent setting means, as registered (registration.ts): on, but phone numbers off. */
export const TOGGLE_DEFAULTS: Record<keyof typeof TOGGLE_SETTINGS, boolean> = {
  forwardEmails: true,
  forwardTwitterHandles: true,
  forwardDeviceIds: true,
  forwardPhoneNumbers: false,
};

/** The Forward toggles of a settings map; an absent setting takes its registered default. */
export function togglesOf(s: Settings | undefined): ConnectionSettings {
  const on = (id: keyof typeof TOGGLE_SETTINGS): boolean => toggleValue(s?.[id]) ?? TOGGLE_DEFAULTS[id];
  const toggles: ConnectionToggles = {
    forwardEmails: on('forwardEmails'),
    forwardTwitterHandles: on('forwardTwitterHandles'),
    forwardDeviceIds: on('forwardDeviceIds'),
    forwardPhoneNumbers: on('forwardPhoneNumbers'),
  };
  // The cadence (`sendIntervalMinutes`): a settings map without it means near real time; no map
  // at all leaves the connection's cadence as it is.
  return s === undefined ? toggles : { ...toggles, sendIntervalMinutes: intervalValue(s.sendIntervalMinutes) ?? null };
}

/** The account setting `accountId`: the X ad account id of the Tailor configuration to use. */
const account = z.object(
  {
    // mParticle's account: audiences the Firehose creates belong to it (origin.ts).
    account_id: z.union([z.number(), z.string().max(64, 'must be at most 64 characters')]).optional(),
    account_settings: z.object(
      {
        accountId: z
          .union([z.string(), z.number()], { error: 'is required: the X ad account id of a Tailor configuration (account setting accountId)' })
          .transform((v) => String(v).trim())
          .pipe(
            z
              .string()
              .min(1, 'must not be empty')
              .max(64, 'must be at most 64 characters')
              .refine((v) => nameTextProblem(v) === null, 'must be an X ad account id (printable text)'),
          ),
      },
      { error: 'is required (it holds accountId)' },
    ),
  },
  { error: 'is required (the output configuration)' },
);

/** mParticle audience ids are integers (Java int); a string of digits is taken too. */
const audienceId = z
  .union([z.number().int('must be an integer'), z.string().regex(/^-?\d{1,12}$/, 'must be an integer')], { error: 'must be an integer' })
  .transform((v) => String(v));

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT64_TEXT = /^-?\d{1,19}$/;

/**
 * mpid: a signed 64-bit integer carried in a string, kept exactly as sent (it is the member key).
 * A bare JSON number has already been quoted digit for digit by the body parser (json.ts).
 */
const mpid = z
  .string({ error: 'must be a string holding a signed 64-bit integer' })
  .regex(INT64_TEXT, 'must be a signed 64-bit integer')
  .refine((v) => {
    if (!INT64_TEXT.test(v)) return true; // reported by the regex (zod runs every check)
    const n = BigInt(v);
    return n >= INT64_MIN && n <= INT64_MAX;
  }, 'is outside the signed 64-bit range');

export const ENCODINGS = ['raw', 'sha256', 'md5', 'sha1'] as const;

export type IdentityList = 'user_identities' | 'device_identities';

/** The identity types Tailor registers (registration.ts), by list, and what each one is. */
const REGISTERED: Record<IdentityList, ReadonlyMap<string, IdentityKind>> = {
  user_identities: new Map([
    ['email', 'email'],
    ['twitter', 'twitter_handle'],
    // mParticle's three phone identities (section 7 of the Firehose spec) are one kind to X.
    ['mobile_number', 'phone_number'],
    ['phone_number_2', 'phone_number'],
    ['phone_number_3', 'phone_number'],
  ]),
  device_identities: new Map([
    ['ios_advertising_id', 'ios_advertising_id'],
    ['google_advertising_id', 'google_advertising_id'],
  ]),
};

/** mParticle's identity types (`docs/reference/mparticle-firehose.md` section 6 lists them); Tailor registers a few. */
const MPARTICLE_TYPES: Record<IdentityList, ReadonlySet<string>> = {
  user_identities: new Set([
    'other',
    'customer',
    'facebook',
    'twitter',
    'google',
    'microsoft',
    'yahoo',
    'email',
    'mobile_number',
    'phone_number_2',
    'phone_number_3',
    ...[2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => `other${n}`),
  ]),
  device_identities: new Set([
    'android_id',
    'google_advertising_id',
    'ios_advertising_id',
    'ios_vendor_id',
    'google_cloud_messaging_token',
    'apple_push_notification_token',
    'roku_advertising_id',
    'microsoft_advertising_id',
    'microsoft_publisher_id',
    'fire_advertising_id',
    'roku_publisher_id',
  ]),
};

/**
 * What an identity's `type` is to Tailor: a kind it forwards; `ignored`, an mParticle type it did
 * not register (sent only by a misconfigured sender; dropped silently, as mParticle's own outputs
 * do); or `unknown`, a string that is no identity type of that list at all, which the caller
 * counts as a rejection. Looked up in Maps and Sets, never in a plain object: a type such as
 * `constructor` or `__proto__` must not find anything on Object.prototype.
 */
export function identityKindOf(list: IdentityList, type: string): IdentityKind | 'ignored' | 'unknown' {
  const kind = REGISTERED[list].get(type);
  if (kind !== undefined) return kind;
  return MPARTICLE_TYPES[list].has(type) ? 'ignored' : 'unknown';
}

const identity = z.object({
  type: z.string({ error: 'is required (an identity type such as email)' }),
  // mParticle always sends it; absent means the value is as collected.
  encoding: z.enum(ENCODINGS, { error: `must be one of ${ENCODINGS.join(', ')}` }).optional(),
  // mParticle leaves out an empty value; it is then counted as an empty identity.
  value: z.string().max(1024, 'must be at most 1024 characters').optional(),
});
export type FirehoseIdentity = z.output<typeof identity>;

// mParticle sends the name it has and cannot be asked for another: control and bidi characters
// are cleaned out rather than refused (REST refuses them; core/text.ts).
const audienceName = z.string().max(MAX_NAME_CHARS, `must be at most ${MAX_NAME_CHARS} characters`).transform(cleanName);

const legacyAudience = z.object({
  audience_id: audienceId,
  audience_name: audienceName.optional(),
  audience_subscription_settings: settings.optional(),
});

const audience = legacyAudience.extend({
  action: z.enum(['add', 'delete', 'attribute_update'], { error: 'must be add, delete or attribute_update' }),
});

const profile = z.object({
  user_identities: z.array(identity).optional(),
  device_identities: z.array(identity).optional(),
  audiences: z.array(audience).optional(),
  // The pre-2.0 shape (section 9): added_audiences = action add, removed_audiences = action delete.
  added_audiences: z.array(legacyAudience).optional(),
  removed_audiences: z.array(legacyAudience).optional(),
  mpid: mpid.optional(),
});
export type FirehoseProfile = z.output<typeof profile>;

const envelope = {
  type: z.string(),
  id: z.string().optional(),
  timestamp_ms: z.number().optional(),
  firehose_version: z.string().optional(),
};

export const membershipRequest = z.object({
  ...envelope,
  account,
  // Absent on verification pings.
  user_profiles: z.array(profile).optional(),
});
export type MembershipRequest = z.output<typeof membershipRequest>;

export const subscriptionRequest = z
  .object({
    ...envelope,
    account,
    audience_id: audienceId,
    audience_name: audienceName.optional(),
    audience_subscription_settings: settings.optional(),
    action: z.enum(['add', 'update', 'remove'], { error: 'must be add, update or remove' }),
  })
  .superRefine((m, ctx) => {
    // Present but empty once cleaned (only controls, or blank): the audience gets a fallback name
    // (subscription.ts), since mParticle cannot be asked for a better one.
    if (m.action !== 'remove' && m.audience_name === undefined) {
      ctx.addIssue({ code: 'custom', path: ['audience_name'], message: `is required for action ${m.action}` });
    }
  });
export type SubscriptionRequest = z.output<typeof subscriptionRequest>;
