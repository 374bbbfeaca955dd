import { AUDIENCE_NAME_SUFFIX, type IdentityType } from './terms.ts';

/**
 * How many `[n]` suffixes a create or rename tries before giving up on a name (and retrying
 * later). The longest name Tailor gives X ends in ` (device id) [20]` (see MAX_NAME_CHARS in
 * src/x/facts.ts).
 */
export const MAX_NAME_TRIES = 20;

/**
 * The X audience name for a downstream audience: `<Audience Name> (email)`, and `… [2]`, `… [3]`
 * once X has refused a name (X keeps names of deleted audiences forever).
 */
export function downstreamName(audienceName: string, type: IdentityType, suffix: number): string {
  const base = `${audienceName} ${AUDIENCE_NAME_SUFFIX[type]}`;
  return suffix > 1 ? `${base} [${suffix}]` : base;
}
