// @ts-check
// Tailor's states and X's codes in plain words, one place for every page.

/** @type {Record<string, string>} */
export const IDENTITY_WORDS = {
  email: 'Emails',
  handle: 'Twitter handles',
  device_id: 'Device IDs (IDFA, Google Advertising ID)',
  phone_number: 'Phone numbers',
};

/** @type {Record<string, string>} */
export const STATE_WORDS = {
  creating: 'Creating on X',
  waiting_for_member: 'Waiting for a first member',
  active: 'Active',
  detached: 'Detached',
  recreating: 'Re-creating',
  paused: 'Paused',
  deleting: 'Deleting on X',
  deleted: 'Deleted',
};

/** @type {Record<string, string>} */
export const STATE_HELP = {
  creating: 'Tailor is creating this audience on X for the members waiting to go.',
  waiting_for_member: 'No member of this identity type yet. Tailor creates this audience on X when it has the first member to send.',
  active: 'Changes flow to X as they arrive.',
  detached:
    'Forwarding of this identity type is off. The audience stays on X (live campaigns may use it); turn the setting back on to resume and re-send current members.',
  recreating: 'It was deleted on X. Tailor is creating it again and re-sending its members.',
  paused: 'The X login for this account needs re-authorization. Changes wait and go out after you log in with X again (Setup › Outputs).',
  deleting: 'Its audience was deleted, so Tailor is deleting it on X.',
  deleted: 'Deleted on X.',
};

/** @type {Record<string, string>} */
const REASON_WORDS = {
  TOO_SMALL: 'Too small: X needs at least 100 matched, active users before it can be targeted.',
  PROCESSING: 'X is still processing the latest changes; sizes can take hours to appear.',
};

/** @param {string} code one of X's reasons_not_targetable */
export function reasonWords(code) {
  return REASON_WORDS[code] || code.toLowerCase().replace(/_/g, ' ');
}

/** @type {Record<string, string>} */
const REJECTION_WORDS = {
  empty: 'empty value',
  invalid_email: 'not an email address',
  invalid_handle: 'not a valid Twitter handle',
  invalid_device_id: 'device id is not a UUID',
  invalid_phone: 'not a valid phone number',
  invalid_sha256: 'declared SHA-256 but not a 64-character hex digest',
  unsupported_encoding: 'MD5 or SHA-1 hashed; X matches only SHA-256',
};

/** @param {string} reason why Tailor dropped an identifier (src/identity/normalize.ts) */
export function rejectionWords(reason) {
  return REJECTION_WORDS[reason] || reason.replace(/_/g, ' ');
}

/** @type {Record<string, string>} */
export const CONFIG_STATE_WORDS = {
  active: 'Active',
  needs_reauth: 'Needs re-authorization',
};
