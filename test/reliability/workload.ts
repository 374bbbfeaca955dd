/**
 * A deterministic membership workload and the model of what X must end up holding.
 *
 * Each request mixes new members, identity changes (a member with a new e-mail or handle: the old
 * hash must leave X) and removes, with raw identifiers in mixed case and padding (Tailor
 * normalizes them) and a few device ids shared by two members (a hash stays on X until its last
 * holder leaves). The model is updated only for acknowledged requests; an unacknowledged request
 * is sent again, as mParticle or any careful client would.
 */
import { createHash } from 'node:crypto';

export const sha = (v: string): string => createHash('sha256').update(v, 'utf8').digest('hex');

export type HashType = 'email' | 'handle' | 'device_id';
export const HASH_TYPES: HashType[] = ['email', 'handle', 'device_id'];

/** A REST member as sent (raw, un-normalized values). */
export interface WireMember {
  user_id: string;
  email?: string;
  twitter_handle?: string;
  ios_advertising_id?: string;
  google_advertising_id?: string;
}
export interface MembersRequest {
  add: WireMember[];
  remove: { user_id: string }[];
}

/** What a member holds after its last acknowledged add, normalized. */
interface Held {
  email: string;
  handle: string;
  device: string;
}

const uuid = (n: number): string => {
  const hex = n.toString(16).padStart(12, '0');
  return `0000${hex.slice(0, 4)}-0000-4000-8000-${hex}`;
};

/** A small LCG: the same seed gives the same workload on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export class Workload {
  /** audience id → user id → held identities. */
  private readonly model = new Map<string, Map<string, Held>>();
  private readonly random: () => number;
  private next = 0;
  /** Member changes acknowledged so far (adds, identity changes and removes, counted per member). */
  changes = 0;
  /** Raw identifiers sent (user ids included), a sample for the "no raw PII on disk or in logs" checks. */
  readonly rawSample: string[] = [];

  constructor(
    readonly tag: string,
    seed = 1,
  ) {
    this.random = lcg(seed);
  }

  private pick<T>(items: T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  private members(audience: string): Map<string, Held> {
    let m = this.model.get(audience);
    if (!m) this.model.set(audience, (m = new Map()));
    return m;
  }

  /** A new member's identities: raw as sent, and normalized as the model keeps them. */
  private fresh(userId: string): { wire: WireMember; held: Held } {
    const n = (this.next += 1);
    const local = `${this.tag}.${n}`;
    // 2% share one of ten "family" devices with other members.
    const device = this.random() < 0.02 ? uuid(900_000_000 + Math.floor(this.random() * 10)) : uuid(n);
    const ios = this.random() < 0.5;
    const wire: WireMember = {
      user_id: userId,
      email: this.random() < 0.3 ? `  ${local.toUpperCase()}@Example.COM ` : `${local}@example.com`,
      twitter_handle: this.random() < 0.5 ? `@H_${this.tag}_${n}` : `h_${this.tag}_${n}`,
      [ios ? 'ios_advertising_id' : 'google_advertising_id']: this.random() < 0.3 ? device.toUpperCase() : device,
    };
    // User ids are stored only keyed (src/membership/member-key.ts); theirs hold non-hex letters, so no hash can spell one by chance.
    if (this.rawSample.length < 400) this.rawSample.push(userId, `${local}@example.com`, `h_${this.tag}_${n}`.toLowerCase(), device);
    return { wire, held: { email: `${local}@example.com`.toLowerCase(), handle: `h_${this.tag}_${n}`.toLowerCase(), device } };
  }

  /**
   * One request of `size` member changes for an audience: 15% removes and 25% identity changes once
   * the audience has members, new members otherwise.
   */
  request(audience: string, size: number): MembersRequest {
    const current = this.members(audience);
    const existing = [...current.keys()];
    const used = new Set<string>();
    const req: MembersRequest = { add: [], remove: [] };
    for (let i = 0; i < size; i += 1) {
      const r = this.random();
      const someone = existing.length > used.size * 2 ? this.pick(existing) : undefined;
      if (someone !== undefined && !used.has(someone) && r < 0.15) {
        used.add(someone);
        req.remove.push({ user_id: someone });
      } else if (someone !== undefined && !used.has(someone) && r < 0.4) {
        used.add(someone);
        req.add.push(this.fresh(someone).wire); // same member, every identity new
      } else {
        const id = `${this.tag}-u${this.next + 1}`;
        used.add(id);
        req.add.push(this.fresh(id).wire);
      }
    }
    return req;
  }

  /** Records an acknowledged (202) request. Adds apply before removes, as Tailor does. */
  ack(audience: string, req: MembersRequest): void {
    const m = this.members(audience);
    for (const w of req.add) {
      m.set(w.user_id, {
        email: w.email!.trim().toLowerCase(),
        handle: w.twitter_handle!.trim().replace(/^@/, '').toLowerCase(),
        device: (w.ios_advertising_id ?? w.google_advertising_id)!.trim().toLowerCase(),
      });
    }
    for (const r of req.remove) m.delete(r.user_id);
    this.changes += req.add.length + req.remove.length;
  }

  /** The hashes X must hold for the audience, by type, sorted. */
  expected(audience: string): Record<HashType, string[]> {
    const held = [...this.members(audience).values()];
    const set = (f: (h: Held) => string): string[] => [...new Set(held.map((h) => sha(f(h))))].sort();
    return { email: set((h) => h.email), handle: set((h) => h.handle), device_id: set((h) => h.device) };
  }

  memberCount(audience: string): number {
    return this.members(audience).size;
  }
}
