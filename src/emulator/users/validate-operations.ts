/**
 * Validation of the users endpoint's body (docs/reference/x-ads-api.md 3.2): a JSON array of
 *   {operation_type: "Update"|"Delete", params: {users: [...], effective_at?, expires_at?}}
 * Each problem is reported at its operation's position, with `parameter` naming the item inside
 * the operation, e.g. `params.users[3].email[0]`. Any problem fails the whole request (3.3).
 */
import { type IdentifierKey, IDENTIFIER_KEYS } from '../audiences/membership.ts';
import { SHA256_HEX } from '../util/sha256.ts';
import { addMonths, parseIsoUtc } from '../util/time.ts';

export type UserObject = Partial<Record<IdentifierKey, string[]>>;

export interface ValidOperation {
  type: 'Update' | 'Delete';
  users: UserObject[];
  effectiveAt: number;
  expiresAt: number;
}

export interface OperationError {
  code: string;
  message: string;
  parameter: string;
}

export type Validation = { ok: true; operations: ValidOperation[]; userCount: number } | { ok: false; operationErrors: OperationError[][] };

/** docs/reference/x-ads-api.md 3.2: expires_at defaults to 13 months after the request. */
export const DEFAULT_EXPIRY_MONTHS = 13;

/** Enough to show what is wrong with an operation without answering megabytes of errors. */
const MAX_ERRORS_PER_OPERATION = 20;

/** partner_user_id is the one unhashed key (docs/reference/x-ads-api.md 3.2); X does not give its maximum length. */
const MAX_PARTNER_USER_ID_LENGTH = 1024;

export function validateOperations(body: readonly unknown[], now: number): Validation {
  const operations: ValidOperation[] = [];
  const operationErrors: OperationError[][] = [];
  let userCount = 0;
  for (const raw of body) {
    const errors: OperationError[] = [];
    const add = (code: string, parameter: string, message: string): void => {
      if (errors.length < MAX_ERRORS_PER_OPERATION) errors.push({ code, message, parameter });
    };
    const op = validateOne(raw, now, add);
    operationErrors.push(errors);
    if (op !== undefined && errors.length === 0) {
      operations.push(op);
      userCount += op.users.length;
    }
  }
  if (operationErrors.some((e) => e.length > 0)) return { ok: false, operationErrors };
  return { ok: true, operations, userCount };
}

type Add = (code: string, parameter: string, message: string) => void;

function validateOne(raw: unknown, now: number, add: Add): ValidOperation | undefined {
  if (!isObject(raw)) {
    add('INVALID_PARAMETER', 'operation_type', 'Each operation must be an object with operation_type and params');
    return undefined;
  }
  const type = raw.operation_type;
  if (type === undefined) add('MISSING_PARAMETER', 'operation_type', '"operation_type" is a required parameter');
  else if (type !== 'Update' && type !== 'Delete') {
    add('INVALID_PARAMETER', 'operation_type', `Expected Update or Delete, got ${JSON.stringify(type)} for operation_type`);
  }
  const params = raw.params;
  if (params === undefined) {
    add('MISSING_PARAMETER', 'params', '"params" is a required parameter');
    return undefined;
  }
  if (!isObject(params)) {
    add('INVALID_PARAMETER', 'params', 'params must be an object');
    return undefined;
  }
  const effectiveAt = readTime(params.effective_at, 'params.effective_at', now, add);
  const expiresAt = readTime(params.expires_at, 'params.expires_at', addMonths(now, DEFAULT_EXPIRY_MONTHS), add);
  if (effectiveAt !== undefined && expiresAt !== undefined && expiresAt <= effectiveAt) {
    add('INVALID_TIME_WINDOW', 'params.expires_at', 'expires_at must be after effective_at');
  }
  const users = readUsers(params.users, add);
  if (users === undefined || effectiveAt === undefined || expiresAt === undefined) return undefined;
  return { type: type === 'Delete' ? 'Delete' : 'Update', users, effectiveAt, expiresAt };
}

function readTime(value: unknown, parameter: string, fallback: number, add: Add): number | undefined {
  if (value === undefined) return fallback;
  const ms = typeof value === 'string' ? parseIsoUtc(value) : undefined;
  if (ms === undefined) add('INVALID_PARAMETER', parameter, `Expected ISO 8601 UTC time, got ${JSON.stringify(value)} for ${parameter}`);
  return ms;
}

function readUsers(value: unknown, add: Add): UserObject[] | undefined {
  if (value === undefined) {
    add('MISSING_PARAMETER', 'params.users', '"params.users" is a required parameter');
    return undefined;
  }
  if (!Array.isArray(value) || value.length === 0) {
    add('INVALID_PARAMETER', 'params.users', 'params.users must be a non-empty array of user objects');
    return undefined;
  }
  const users: UserObject[] = [];
  value.forEach((rawUser: unknown, i) => {
    const at = `params.users[${i}]`;
    if (!isObject(rawUser)) return add('INVALID_PARAMETER', at, `${at} must be an object of identifier arrays`);
    const user: UserObject = {};
    for (const [key, values] of Object.entries(rawUser)) {
      if (!(IDENTIFIER_KEYS as readonly string[]).includes(key)) {
        add('INVALID_PARAMETER', `${at}.${key}`, `Unknown identifier type "${key}"; expected one of ${IDENTIFIER_KEYS.join(', ')}`);
        continue;
      }
      const read = readValues(key as IdentifierKey, values, `${at}.${key}`, add);
      if (read !== undefined) user[key as IdentifierKey] = read;
    }
    if (Object.keys(rawUser).length === 0) add('INVALID_PARAMETER', at, `${at} holds no identifier`);
    users.push(user);
  });
  return users.length === value.length ? users : undefined;
}

function readValues(key: IdentifierKey, values: unknown, at: string, add: Add): string[] | undefined {
  if (!Array.isArray(values) || values.length === 0) {
    add('INVALID_PARAMETER', at, `${at} must be a non-empty array of strings`);
    return undefined;
  }
  let ok = true;
  values.forEach((v: unknown, j) => {
    const item = `${at}[${j}]`;
    if (typeof v !== 'string') {
      ok = false;
      return add('INVALID_PARAMETER', item, `${item} must be a string`);
    }
    if (key === 'partner_user_id') {
      if (v === '' || v.length > MAX_PARTNER_USER_ID_LENGTH) {
        ok = false;
        add('INVALID_PARAMETER', item, `${item} must be 1 to ${MAX_PARTNER_USER_ID_LENGTH} characters`);
      }
    } else if (!SHA256_HEX.test(v)) {
      ok = false;
      add('INVALID_PARAMETER', item, `${item} is not a SHA-256 hash (64 lower-case hex characters)`);
    }
  });
  return ok ? (values as string[]) : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
