/**
 * Opaque pagination cursors (docs/reference/x-ads-api.md 2.1): the position after the last item of a page, as
 * base64url JSON. A cursor that does not decode is X's 400 on `cursor`.
 */
import { invalidParameter } from './x-error.ts';

export interface CursorPosition {
  /** The sort the cursor was made for; a cursor is only valid with the same sort. */
  sort: string;
  /** The last item's sort value and creation sequence. */
  value: string | number;
  seq: number;
}

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.sort, position.value, position.seq])).toString('base64url');
}

export function decodeCursor(cursor: string, sort: string): CursorPosition {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 3 &&
      parsed[0] === sort &&
      (typeof parsed[1] === 'string' || typeof parsed[1] === 'number') &&
      typeof parsed[2] === 'number'
    ) {
      return { sort, value: parsed[1], seq: parsed[2] };
    }
  } catch {
    // fall through to X's error
  }
  throw invalidParameter('cursor', `Invalid cursor "${cursor}"`);
}
