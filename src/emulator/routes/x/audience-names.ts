/**
 * Audience name and description rules for create and update. X requires unique names and
 * rejects names used before, deleted audiences included (docs/reference/x-ads-api.md 2.5, 2.6; docs/reference/product.md 2).
 * The error code for a duplicate is UNCONFIRMED; INVALID_PARAMETER on `name` is X's general
 * answer to a bad parameter value.
 */
import { invalidParameter, missingParameter } from '../../http/x-error.ts';
import type { XContext } from '../../http/x-route.ts';

/** X's limit on names is undocumented; 255 matches the `q` filter's maximum length. */
export const MAX_NAME_LENGTH = 255;

/** Descriptions carry integrators' markers; 10,000 characters is room to spare, not X's number. */
export const MAX_DESCRIPTION_LENGTH = 10_000;

export function readNewName(ctx: XContext, accountId: string, current?: string): string | undefined {
  const name = ctx.params.string('name');
  if (name === undefined) return undefined;
  if (name.trim() === '') throw missingParameter('name');
  if (name.length > MAX_NAME_LENGTH) throw invalidParameter('name', `name must be at most ${MAX_NAME_LENGTH} characters`);
  if (name === current) return name;
  if (ctx.world.audiences.isNameUsed(accountId, name)) {
    throw invalidParameter('name', `The name "${name}" has already been used by a custom audience in this account`);
  }
  return name;
}

/** undefined = not sent; an empty string unsets it (docs/reference/x-ads-api.md 2.1). */
export function readDescription(ctx: XContext): string | null | undefined {
  const description = ctx.params.string('description');
  if (description === undefined) return undefined;
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw invalidParameter('description', `description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
  }
  return description === '' ? null : description;
}
