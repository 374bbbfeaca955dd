import type { z } from 'zod';
import { ApiError } from './errors.ts';

/** Parses input with a zod schema; on failure one 400 naming every bad field, e.g. `add[3].email`. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const problems = result.error.issues.slice(0, 20).map((i) => {
    const path = i.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${String(p)}` : String(p)), '');
    return `${path || what}: ${i.message}`;
  });
  const more = result.error.issues.length > 20 ? ` (and ${result.error.issues.length - 20} more)` : '';
  throw new ApiError('invalid_request', `Invalid ${what}: ${problems.join('; ')}${more}`);
}
