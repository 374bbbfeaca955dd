import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RejectedError } from '../../src/core/errors.ts';
import { IDENTITY_TYPES, type IdentityType } from '../../src/core/terms.ts';
import { USERS_MAX_BODY_BYTES as MAX_BODY_BYTES, USERS_MAX_OPERATIONS as MAX_OPERATIONS } from '../../src/x/facts.ts';
import { packUsers, packUsersPaced } from '../../src/x/pack.ts';
import type { UserChange, UsersRequest } from '../../src/x/types.ts';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const TYPES: readonly IdentityType[] = IDENTITY_TYPES;

/** The (operation, hash) pairs a body carries, in body order, read back with JSON.parse. */
function bodyChanges(req: UsersRequest): UserChange[] {
  const ops = JSON.parse(req.body) as { operation_type: string; params: { users: Record<string, string[]>[] } }[];
  return ops.flatMap((o) =>
    o.params.users.map((u) => {
      if (Object.keys(u).join() !== req.identityType || u[req.identityType]?.length !== 1) {
        throw new Error(`unexpected user object ${JSON.stringify(u)}`);
      }
      return { op: o.operation_type === 'Update' ? 'add' : 'remove', hash: u[req.identityType]![0]! };
    }),
  );
}

/**
 * Sizes measured from JSON.stringify, independently of pack.ts: a body with `ops` operations and
 * `users` users weighs `base + ops·op + users·user` bytes (commas included), because JSON is linear
 * in its parts. Measured at two points per variable, then checked at a third.
 */
function measure(type: IdentityType) {
  const body = (ops: number, users: number) => {
    const perOp = Array.from({ length: ops }, (_, i) => (i === 0 ? users : 1));
    return Buffer.byteLength(
      JSON.stringify(
        perOp.map((n, i) => ({
          operation_type: i === 0 ? 'Update' : 'Delete',
          params: { users: Array.from({ length: n }, () => ({ [type]: [sha('x')] })) },
        })),
      ),
    );
  };
  const user = body(1, 2) - body(1, 1);
  const op = body(2, 1) - body(1, 1) - user; // the second op brings one user of its own
  const base = body(1, 1) - op - user;
  expect(body(1, 7)).toBe(base + op + 7 * user);
  expect(body(2, 5)).toBe(base + 2 * op + 6 * user);
  return { base, op, user };
}

/** Users per request: `k1` with one operation, `k2` with both. */
function capacities(type: IdentityType, maxBytes: number) {
  const { base, op, user } = measure(type);
  return { k1: Math.floor((maxBytes - base - op) / user), k2: Math.floor((maxBytes - base - 2 * op) / user) };
}

/**
 * The fewest requests that can carry `a` adds and `r` removes of distinct hashes when a request
 * holds at most k1 users with one operation and k2 (≤ k1) with both.
 *
 * Proof. Full one-operation requests hold k1; let F = ⌊a/k1⌋ + ⌊r/k1⌋ and a', r' the remainders.
 * (i) No request holds more than k1 users, so any packing needs ⌈(a+r)/k1⌉ requests, which is the
 *     answer when a' or r' is 0 (then a+r = F·k1 + a' + r' with a'+r' < k1).
 * (ii) If a', r' > 0 and a'+r' ≤ k2, F full requests plus one mixed request carry everything:
 *     F + 1 = ⌈(a+r)/k1⌉ requests, optimal by (i).
 * (iii) If a', r' > 0 and a'+r' > k2: F + 1 requests are not enough. With no mixed request the adds
 *     alone need ⌊a/k1⌋+1 and the removes ⌊r/k1⌋+1, so F+2. With m ≥ 1 mixed requests among F+1,
 *     capacity is at most (F+1-m)·k1 + m·k2 ≤ F·k1 + k2 < F·k1 + a' + r' = a + r. So F + 2, which
 *     one request for each remainder achieves.
 */
function optimum(a: number, r: number, k1: number, k2: number): number {
  if (a === 0 || r === 0) return Math.ceil((a + r) / k1);
  const F = Math.floor(a / k1) + Math.floor(r / k1);
  const ar = a % k1;
  const rr = r % k1;
  if (ar === 0 || rr === 0) return Math.ceil((a + r) / k1);
  return ar + rr <= k2 ? F + 1 : F + 2;
}

/** The same optimum by exhaustive search over every request content: checks the proof above. */
function bruteForceOptimum(a: number, r: number, k1: number, k2: number): number {
  const memo = new Map<string, number>();
  const go = (a: number, r: number): number => {
    if (a === 0 && r === 0) return 0;
    const key = `${a},${r}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let best = Infinity;
    for (let x = 0; x <= Math.min(a, k1); x++) {
      for (let y = 0; y <= Math.min(r, k1); y++) {
        if (x + y === 0) continue;
        const cap = x > 0 && y > 0 ? k2 : k1;
        if (x + y <= cap) best = Math.min(best, 1 + go(a - x, r - y));
      }
    }
    memo.set(key, best);
    return best;
  };
  return go(a, r);
}

function checkInvariants(changes: UserChange[], requests: UsersRequest[], type: IdentityType, maxBytes: number, maxOps = MAX_OPERATIONS): void {
  // Plain loops collecting violations, then one expect each: 100k `expect` calls take seconds.
  // Every change exactly once (by identity), and the body says exactly what `changes` says.
  const out = requests.flatMap((r) => r.changes);
  expect(out).toHaveLength(changes.length);
  expect(new Set(out).size).toBe(changes.length);
  const inputSet = new Set(changes);
  expect(out.filter((c) => !inputSet.has(c))).toEqual([]);
  const bothWays: string[] = [];
  for (const req of requests) {
    expect(req.identityType).toBe(type);
    const fromBody = bodyChanges(req);
    expect(fromBody.length).toBe(req.changes.length);
    expect(fromBody.filter((c, i) => c.op !== req.changes[i]!.op || c.hash !== req.changes[i]!.hash)).toEqual([]);
    expect(Buffer.byteLength(req.body)).toBeLessThanOrEqual(maxBytes);
    const ops = JSON.parse(req.body) as { operation_type: string }[];
    expect(ops.length).toBeGreaterThan(0);
    expect(ops.length).toBeLessThanOrEqual(Math.min(maxOps, 2));
    expect(new Set(ops.map((o) => o.operation_type)).size).toBe(ops.length);
    // Never a hash both added and removed in one request.
    const opOf = new Map<string, string>();
    for (const c of req.changes) {
      if ((opOf.get(c.hash) ?? c.op) !== c.op) bothWays.push(c.hash);
      opOf.set(c.hash, c.op);
    }
  }
  expect(bothWays).toEqual([]);
  // A hash's changes never change order: the request of each change is non-decreasing in input
  // order (and within one request they all have one op, checked above).
  const requestOf = new Map<UserChange, number>();
  requests.forEach((r, i) => r.changes.forEach((c) => requestOf.set(c, i)));
  const lastRequest = new Map<string, number>();
  const inverted: string[] = [];
  for (const c of changes) {
    const i = requestOf.get(c)!;
    if (i < (lastRequest.get(c.hash) ?? 0)) inverted.push(c.hash);
    lastRequest.set(c.hash, i);
  }
  expect(inverted).toEqual([]);
}

describe('packUsers', () => {
  it('writes the body X documents: one user object per hash, Update and Delete mixed', () => {
    const [h1, h2, h3] = [sha('a'), sha('b'), sha('c')];
    const changes: UserChange[] = [
      { op: 'add', hash: h1 },
      { op: 'remove', hash: h2 },
      { op: 'add', hash: h3 },
    ];
    const [req, ...rest] = packUsers('email', changes);
    expect(rest).toEqual([]);
    expect(req!.body).toBe(
      `[{"operation_type":"Update","params":{"users":[{"email":["${h1}"]},{"email":["${h3}"]}]}},` +
        `{"operation_type":"Delete","params":{"users":[{"email":["${h2}"]}]}}]`,
    );
    expect(req!.changes).toEqual([changes[0], changes[2], changes[1]]);
    expect(packUsers('device_id', [{ op: 'remove', hash: h1 }])[0]!.body).toBe(`[{"operation_type":"Delete","params":{"users":[{"device_id":["${h1}"]}]}}]`);
  });

  it('returns no request for no changes', () => {
    expect(packUsers('handle', [])).toEqual([]);
  });

  it('splits a hash added and removed in one batch, keeping its order', () => {
    const h = sha('flap');
    const other = sha('other');
    const changes: UserChange[] = [
      { op: 'add', hash: h },
      { op: 'add', hash: other },
      { op: 'remove', hash: h },
      { op: 'add', hash: h },
    ];
    const requests = packUsers('email', changes);
    expect(requests.map((r) => r.changes.map((c) => `${c.op}:${c.hash === h ? 'h' : 'o'}`))).toEqual([['add:h', 'add:o'], ['remove:h'], ['add:h']]);
    checkInvariants(changes, requests, 'email', MAX_BODY_BYTES);
  });

  it('fills a request to exactly the byte limit and no further', () => {
    const { k1 } = capacities('email', MAX_BODY_BYTES);
    const changes = Array.from({ length: 2 * k1 + 1 }, (_, i): UserChange => ({ op: 'add', hash: sha(`u${i}`) }));
    const requests = packUsers('email', changes);
    expect(requests.map((r) => r.changes.length)).toEqual([k1, k1, 1]);
    // One more user would not have fitted.
    const { user } = measure('email');
    expect(Buffer.byteLength(requests[0]!.body)).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect(Buffer.byteLength(requests[0]!.body) + user).toBeGreaterThan(MAX_BODY_BYTES);
    checkInvariants(changes, requests, 'email', MAX_BODY_BYTES);
  });

  it('needs the fewest requests at the real limit with adds and removes mixed', () => {
    const { k1, k2 } = capacities('handle', MAX_BODY_BYTES);
    const a = k1 + 17;
    const r = Math.max(1, k2 - 17 - 1); // the two remainders share one request
    const changes = [
      ...Array.from({ length: a }, (_, i): UserChange => ({ op: 'add', hash: sha(`a${i}`) })),
      ...Array.from({ length: r }, (_, i): UserChange => ({ op: 'remove', hash: sha(`r${i}`) })),
    ];
    // Interleave so input order is as unhelpful as it gets.
    changes.sort((x, y) => (x.hash < y.hash ? -1 : 1));
    const requests = packUsers('handle', changes);
    expect(requests).toHaveLength(optimum(a, r, k1, k2));
    expect(requests).toHaveLength(2);
    checkInvariants(changes, requests, 'handle', MAX_BODY_BYTES);
  });

  it('the optimum formula matches exhaustive search', () => {
    for (let k1 = 1; k1 <= 6; k1++) {
      for (let k2 = 1; k2 <= k1; k2++) {
        for (let a = 0; a <= 14; a++) {
          for (let r = 0; r <= 14; r++) expect(optimum(a, r, k1, k2)).toBe(bruteForceOptimum(a, r, k1, k2));
        }
      }
    }
  });

  it('property: coalesced changes use the minimum number of requests, within every limit', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES),
        fc.integer({ min: 1, max: 12 }), // users per one-operation request
        fc.integer({ min: 0, max: 200 }), // slack bytes, so limits fall between user boundaries
        fc.array(fc.boolean(), { maxLength: 120 }),
        (type, k, slack, ops) => {
          const { base, op, user } = measure(type);
          const maxBytes = base + op + k * user + (slack % user);
          const changes = ops.map((isAdd, i): UserChange => ({ op: isAdd ? 'add' : 'remove', hash: sha(`${i}`) }));
          const requests = packUsers(type, changes, { maxBodyBytes: maxBytes });
          checkInvariants(changes, requests, type, maxBytes);
          const { k1, k2 } = capacities(type, maxBytes);
          const a = ops.filter(Boolean).length;
          expect(requests).toHaveLength(optimum(a, ops.length - a, k1, Math.max(k2, 0)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: repeated hashes keep their order and are never both ways in one request', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...TYPES),
        fc.array(fc.record({ op: fc.constantFrom('add' as const, 'remove' as const), h: fc.integer({ min: 0, max: 5 }) }), {
          maxLength: 80,
        }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        (type, raw, k, maxOps) => {
          const { base, op, user } = measure(type);
          const maxBytes = base + op + k * user;
          const changes = raw.map((c): UserChange => ({ op: c.op, hash: sha(`h${c.h}`) }));
          const requests = packUsers(type, changes, { maxBodyBytes: maxBytes, maxOperations: maxOps });
          checkInvariants(changes, requests, type, maxBytes, maxOps);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('rejects a user that could never fit', () => {
    expect(() => packUsers('email', [{ op: 'add', hash: sha('a') }], { maxBodyBytes: 60 })).toThrow(RejectedError);
  });

  it('packs a full batch a piece at a time (packUsersPaced): the same requests, the loop given back between pieces', async () => {
    const changes = Array.from({ length: 10_000 }, (_, i): UserChange => ({ op: i % 7 === 0 ? 'remove' : 'add', hash: sha(`p${i}`) }));
    let looks = 0;
    const requests = await packUsersPaced('email', changes, () => {
      looks += 1;
      return undefined;
    });
    expect(requests).toEqual(packUsers('email', changes));
    // A look at the clock every 1,024 changes: a caller's pace (core/pace.ts) yields when its budget is spent.
    expect(looks).toBe(Math.floor(10_000 / 1_024));
    await expect(packUsersPaced('email', [{ op: 'add', hash: sha('a') }], undefined, { maxBodyBytes: 60 })).rejects.toThrow(RejectedError);
  });
});
