import type { z } from 'zod';
import { ApiError } from './errors.ts';

/**
 * Longest field name and message quoted back in a 400: a hostile body with a 10 MB key or value
 * (zod quotes unknown keys) must not be echoed whole into the answer or the logs.
 */
const MAX_ECHO_CHARS = 200;
const clip = (s: string): string => (s.length > MAX_ECHO_CHARS ? `${s.slice(0, MAX_ECHO_CHARS)}… (${s.length} characters)` : s);

/** Parses input with a zod schema; on failure one 400 naming every bad field, e.g. `add[3].email`. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 20).map((i) => {
    const path = i.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${clip(String(p))}` : clip(String(p))), '');
    return `${path || what}: ${clip(i.message)}`;
  });
  const more = result.error.issues.length > 20 ? ` (and ${result.error.issues.length - 20} more)` : '';
  throw new ApiError('invalid_request', `Invalid ${what}: ${problems.join('; ')}${more}`);
}
