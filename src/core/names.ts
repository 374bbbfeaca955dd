import { AUDIENCE_NAME_SUFFIX, type IdentityType } from './terms.ts';

/**
 * The X audience name for a downstream audience: `<Audience Name> (email)`, and `… [2]`, `… [3]`
 * once X has refused a name (X keeps names of deleted audiences forever).
 */
export function downstreamName(audienceName: string, type: IdentityType, suffix: number): string {
  const base = `${audienceName} ${AUDIENCE_NAME_SUFFIX[type]}`;
  return suffix > 1 ? `${base} [${suffix}]` : base;
}

/**
 * The marker written into the X audience's description. It ties the X audience to one database
 * (installation) and one downstream row, so Tailor adopts an existing X audience only when it is
 * provably its own, never by name alone.
 */
export function downstreamMarker(installationId: string, downstreamId: number, type: IdentityType): string {
  return `tailor:${installationId}:${downstreamId}:${type}`;
}

export function descriptionWithMarker(marker: string): string {
  return `Kept in sync by Tailor. Do not edit this line: [${marker}]`;
}

export function hasMarker(description: string | null, marker: string): boolean {
  return description !== null && description.includes(`[${marker}]`);
}

/**
 * Characters an audience name must not carry to X: C0 and C1 controls (with DEL) and the Unicode
 * bidi controls (LRM, RLM, ALM, the embeddings and overrides U+202A–U+202E, the isolates
 * U+2066–U+2069), which can make a name on X read differently from what it is.
 */
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]+/g;
const BIDI = /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/g;

/**
 * An audience name as Tailor keeps it and sends it to X: controls become one space (a newline or
 * tab separated words), bidi controls go, runs of spaces collapse, the ends are trimmed. May be
 * empty: the caller picks a fallback.
 */
export function cleanAudienceName(name: string): string {
  return name.replace(BIDI, '').replace(CONTROLS, ' ').replace(/ {2,}/g, ' ').trim();
}
