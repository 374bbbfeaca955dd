/**
 * The synthetic population of X users that audiences are matched against. User i has the raw
 * identities `user{i}@population.example`, handle `popuser{i}`, an IDFA and a GAID (seeded UUIDs),
 * the phone number `+1202` followed by 2000000 + i (E.164: +12022000000 for user 0),
 * and an "active in the last 90 days" flag: only active users count in an audience's size
 * (docs/reference/x-ads-api.md 6.4).
 *
 * Matching follows X's normalization (docs/reference/x-ads-api.md 5.2): emails and handles lower-case (handles
 * without "@"), device ids lower-case with dashes, each SHA-256 hex. Phone numbers: X's audience docs give
 * no rule (5.3); the emulator hashes E.164 with its `+`, as X's Conversions API docs do.
 */
import { createRng } from '../util/rng.ts';
import { sha256Hex } from '../util/sha256.ts';

export interface PopulationUser {
  email: string;
  handle: string;
  idfa: string;
  gaid: string;
  /** E.164, with its `+`. */
  phone: string;
  active: boolean;
}

/** About four in five people with an X account used it in the last 90 days: the brief's ~80%. */
const ACTIVE_SHARE = 0.8;

/** The identifier keys the population can match; other keys (twitter_id, partner_user_id) never match. */
export type MatchableKey = 'email' | 'handle' | 'device_id' | 'phone_number';

export class Population {
  readonly size: number;
  readonly activeCount: number;
  private readonly users: PopulationUser[] = [];
  private readonly index: Record<MatchableKey, Map<string, number>> = {
    email: new Map(),
    handle: new Map(),
    device_id: new Map(),
    phone_number: new Map(),
  };

  constructor(seed: number, size: number) {
    this.size = size;
    const rng = createRng(seed, 'population');
    let active = 0;
    for (let i = 0; i < size; i++) {
      const user: PopulationUser = {
        email: `user${i}@population.example`,
        handle: `popuser${i}`,
        idfa: rng.uuid(),
        gaid: rng.uuid(),
        phone: `+1202${2_000_000 + i}`,
        active: rng.next() < ACTIVE_SHARE,
      };
      if (user.active) active++;
      this.users.push(user);
      this.index.email.set(sha256Hex(user.email), i);
      this.index.handle.set(sha256Hex(user.handle), i);
      this.index.device_id.set(sha256Hex(user.idfa), i);
      this.index.device_id.set(sha256Hex(user.gaid), i);
      this.index.phone_number.set(sha256Hex(user.phone), i);
    }
    this.activeCount = active;
  }

  slice(offset: number, limit: number): PopulationUser[] {
    return this.users.slice(offset, offset + limit).map((u) => ({ ...u }));
  }

  /** The index of the ACTIVE user this hash identifies, or undefined. */
  matchActive(key: MatchableKey, hash: string): number | undefined {
    const i = this.index[key].get(hash);
    return i !== undefined && this.users[i]?.active === true ? i : undefined;
  }
}
