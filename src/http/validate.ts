import { z } from 'zod';
import { eachPaced, pacer } from '../core/pace.ts';
import { identifierTextProblem, nameTextProblem } from '../core/text.ts';
import { MAX_NAME_CHARS } from '../x/facts.ts';
import { ApiError } from './errors.ts';
import { ID_RE, MAX_ID_CHARS } from '../core/ids.ts';

/**
 * Longest field name and message quoted back in a 400: a hostile body with a 10 MB key or value
 * (zod quotes unknown keys) must not be echoed whole into the answer or the logs.
 */
const MAX_ECHO_CHARS = 200;
const clip = (s: string): string => (s.length > MAX_ECHO_CHARS ? `${s.slice(0, MAX_ECHO_CHARS)}… (${s.length} characters)` : s);

/**
 * A key a client sent is quoted back only when it looks like a field name. Anything else (an
 * e-mail address used as a key, a value pasted where a key goes) is described, not quoted: a 400
 * and its log line never carry an identifier.
 */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const keyText = (key: string): string => (FIELD_NAME.test(key) ? key : `(a key of ${key.length} characters)`);

/** A name Tailor shows and sends to X: trimmed, 1–200 characters (MAX_NAME_CHARS), no control or bidi characters. */
export const displayName = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(MAX_NAME_CHARS, `must be at most ${MAX_NAME_CHARS} characters`)
  .superRefine((v, ctx) => {
    const problem = nameTextProblem(v);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: problem });
  });

/** Refuses a member key (REST `user_id`) that is not valid Unicode or holds NUL; never quotes it. */
export function identifierText<S extends z.ZodType<string>>(schema: S): S {
  return schema.superRefine((v, ctx) => {
    const problem = identifierTextProblem(v);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `invalid_encoding: ${problem}` });
  });
}

function describe(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (FIELD_NAME.test(k) ? `"${k}"` : keyText(k)));
    return `unknown field${keys.length > 1 ? 's' : ''} ${keys.slice(0, 5).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`;
  }
  return issue.message;
}

/** Parses input with a zod schema; on failure one 400 naming every bad field, e.g. `add[3].email`. */
export function parse<S extends z.ZodType>(schema: S, input: unknown, what = 'body'): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  return refuse(result.error.issues, what);
}

/**
 * Parses a body whose lists hold many items (a members request): the envelope with `envelope`
 * (its lists as `unknown[]`), and each list's items with `item`, in order and a few milliseconds
 * at a time (core/pace.ts), so that a 100,000-member request holds no other caller. On failure
 * the same 400 as one parse() of the whole body: every bad field of the items, then the envelope's.
 */
export async function parseWithLists<K extends string, S extends z.ZodType, R>(
  envelope: z.ZodType<Partial<Record<K, unknown[]>>>,
  item: S,
  input: unknown,
  names: readonly K[],
  /** What each parsed item becomes, in the same pieces. */
  map: (parsed: z.output<S>) => R,
  what = 'body',
): Promise<Record<K, R[]>> {
  const outer = envelope.safeParse(input);
  const out = {} as Record<K, R[]>;
  const issues: z.core.$ZodIssue[] = [];
  const pace = pacer();
  for (const name of names) {
    const list = (input as Record<string, unknown> | null)?.[name];
    const parsed: R[] = [];
    if (Array.isArray(list)) {
      await eachPaced(
        list,
        (value, index) => {
          const result = item.safeParse(value);
          if (result.success) parsed.push(map(result.data));
          else for (const issue of result.error.issues) issues.push({ ...issue, path: [name, index, ...issue.path] });
        },
        pace,
      );
    }
    out[name] = parsed;
  }
  if (!outer.success) issues.push(...outer.error.issues);
  if (issues.length > 0) refuse(issues, what);
  return out;
}

function refuse(issues: z.core.$ZodIssue[], what: string): never {
  const problems = issues.slice(0, 20).map((i) => {
    const path = i.path.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${keyText(String(p))}` : keyText(String(p))), '');
    return `${path || what}: ${clip(describe(i))}`;
  });
  const more = issues.length > 20 ? ` (and ${issues.length - 20} more)` : '';
  throw new ApiError('invalid_request', `Invalid ${what}: ${problems.join('; ')}${more}`);
}

/**
 * An id from a URL path, checked before it reaches the store: one of another shape names nothing
 * Tailor holds, so it is a 404 that does not quote it (it may hold NUL, which PostgreSQL refuses
 * with an error, or text that is no id at all).
 */
export function pathId(id: string, what: 'Audience' | 'Configuration'): string {
  if (!ID_RE.test(id)) throw new ApiError('not_found', `${what} does not exist (ids are letters, digits and . _ ~ -, at most ${MAX_ID_CHARS} characters)`);
  return id;
}
