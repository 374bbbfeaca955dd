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
