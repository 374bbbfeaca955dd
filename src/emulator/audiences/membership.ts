/**
 * An audience's members: per identifier key, the hashes it holds and each one's membership window
 * [effective_at, expires_at). A hash counts only while effective_at <= now < expires_at
 * (docs/reference/x-ads-api.md 3.2). Windows are interned: one request's operation shares one window, so a
 * member costs a map entry and a small integer, not an object.
 */

export const IDENTIFIER_KEYS = ['email', 'device_id', 'handle', 'twitter_id', 'phone_number', 'partner_user_id'] as const;
export type IdentifierKey = (typeof IDENTIFIER_KEYS)[number];

export interface MembershipWindow {
  effectiveAt: number;
  expiresAt: number;
}

export class WindowTable {
  private readonly windows: MembershipWindow[] = [];
  private readonly ids = new Map<string, number>();

  intern(effectiveAt: number, expiresAt: number): number {
    const key = `${effectiveAt}|${expiresAt}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.windows.length;
      this.windows.push({ effectiveAt, expiresAt });
      this.ids.set(key, id);
    }
    return id;
  }

  get(id: number): MembershipWindow {
    const w = this.windows[id];
    if (w === undefined) throw new RangeError(`unknown membership window ${id}`);
    return w;
  }
}

export function isEffective(w: MembershipWindow, now: number): boolean {
  return w.effectiveAt <= now && now < w.expiresAt;
}

export type MemberSets = Map<IdentifierKey, Map<string, number>>;

export function emptyMemberSets(): MemberSets {
  return new Map(IDENTIFIER_KEYS.map((k) => [k, new Map<string, number>()]));
}

/** The hashes effective now, per key, sorted: what /_emulator/…/members shows. */
export function effectiveMembers(sets: MemberSets, windows: WindowTable, now: number): Record<IdentifierKey, string[]> {
  const out = {} as Record<IdentifierKey, string[]>;
  for (const key of IDENTIFIER_KEYS) {
    const held: string[] = [];
    for (const [hash, windowId] of sets.get(key) ?? []) if (isEffective(windows.get(windowId), now)) held.push(hash);
    out[key] = held.sort();
  }
  return out;
}
