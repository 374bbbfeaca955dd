/**
 * `module_registration_request` → `module_registration_response`: Tailor described as mParticle
 * describes its Twitter audience output (`mparticle-twitter-audience.md`), with the setting ids
 * of docs/reference/product.md. Needs no authentication: mParticle asks before it has minted the token.
 */
import { AUDIENCE_NAME_SUFFIX } from '../../core/terms.ts';
import { responseEnvelope } from './response.ts';
import { MAX_SEND_INTERVAL_MINUTES, SDK_VERSION, TOGGLE_DEFAULTS, type TOGGLE_SETTINGS } from './schema.ts';

export type RegisteredEncoding = 'raw' | 'sha256';

/** Tailor's own integration version, shown by mParticle; bump it when the registration changes. */
export const INTEGRATION_VERSION = '1.1';

const target = (suffix: string): string => `"<Audience Name> ${suffix}"`;

export function registrationResponse(encoding: RegisteredEncoding, request: { firehose_version?: unknown }): Record<string, unknown> {
  const permission = (type: string) => ({ type, encoding, required: false });
  const forward = (id: keyof typeof TOGGLE_SETTINGS, name: string, what: string, suffix: string) => ({
    type: 'boolean',
    id,
    name,
    description: `If enabled, the SHA-256 hash of ${what} is added to the X audience ${target(suffix)}`,
    visible: true,
    default_value: TOGGLE_DEFAULTS[id],
    checked: TOGGLE_DEFAULTS[id],
  });
  return {
    ...responseEnvelope('module_registration_response', request),
    sdk_version: SDK_VERSION,
    name: 'X (Twitter) Tailored Audiences',
    description:
      'Forward mParticle audiences to X Ads custom audiences: one per identity type (email, handle, device id, phone), exact and durable, through Tailor.',
    version: INTEGRATION_VERSION,
    permissions: {
      user_identities: [permission('email'), permission('twitter'), permission('mobile_number'), permission('phone_number_2'), permission('phone_number_3')],
      device_identities: [permission('ios_advertising_id'), permission('google_advertising_id')],
      allow_access_mpid: true,
    },
    audience_processing_registration: {
      account_settings: [
        {
          type: 'text',
          id: 'accountId',
          name: 'Account ID',
          description: 'Your X advertising-enabled account ID; add it to Tailor as a configuration first',
          visible: true,
          required: true,
          confidential: false,
        },
      ],
      audience_subscription_settings: [
        forward('forwardEmails', 'Forward Emails', "the user's e-mail address", AUDIENCE_NAME_SUFFIX.email),
        forward('forwardTwitterHandles', 'Forward Twitter Handles', "the user's Twitter handle", AUDIENCE_NAME_SUFFIX.handle),
        forward(
          'forwardDeviceIds',
          'Forward Device IDs',
          "the user's device IDs (IDFA for Apple OS, Google Ad ID for Android)",
          AUDIENCE_NAME_SUFFIX.device_id,
        ),
        // Off by default: a connection sends phone numbers only when someone turns this on.
        forward(
          'forwardPhoneNumbers',
          'Forward Phone Numbers',
          "the user's phone numbers (mobile_number, phone_number_2, phone_number_3; E.164 with its +)",
          AUDIENCE_NAME_SUFFIX.phone_number,
        ),
        {
          type: 'integer',
          id: 'sendIntervalMinutes',
          name: 'Send Interval (minutes)',
          description: `Empty: near real time. A number of minutes (X advises 360 to 480): each X audience gets its adds and removes at most once per interval`,
          visible: true,
          required: false,
          min_value: 1,
          max_value: MAX_SEND_INTERVAL_MINUTES,
        },
      ],
    },
    // Erasure requests (section 21): the Firehose sends them here, and Tailor erases the person
    // from every audience and X audience (dsr.ts, docs/privacy.md).
    dsr_processing_registration: { account_settings: [], supported_dsr_types: ['erasure'] },
  };
}
