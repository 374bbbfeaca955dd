/**
 * Every audience of every account, and every name each account has ever used: X rejects a name
 * used before, by a live or a deleted audience (docs/reference/x-ads-api.md 2.5; docs/reference/product.md 2).
 */
import { BASE36, type Rng } from '../util/rng.ts';
import type { Audience } from './audience.ts';
import { emptyMemberSets } from './membership.ts';

export class AudienceStore {
  private readonly byAccount = new Map<string, Audience[]>();
  private readonly byId = new Map<string, Audience>();
  private readonly usedNames = new Map<string, Set<string>>();
  private nextSeq = 0;
  private nextIdNumber: number;

  constructor(private readonly rng: Rng) {
    // X's audience ids are short base-36 strings like "2906h": start in the 5-character range.
    this.nextIdNumber = 36 ** 4 + rng.int(36 ** 4);
  }

  /** Names compare exactly as given (case-sensitive): X's rule here is UNCONFIRMED. */
  isNameUsed(accountId: string, name: string): boolean {
    return this.usedNames.get(accountId)?.has(name) ?? false;
  }

  create(accountId: string, name: string, description: string | null, now: number): Audience {
    // Steps of 1..36 make ids look unrelated, while staying unique and deterministic.
    this.nextIdNumber += 1 + this.rng.int(36);
    const audience: Audience = {
      id: toBase36(this.nextIdNumber),
      seq: this.nextSeq++,
      accountId,
      name,
      description,
      createdAt: now,
      updatedAt: now,
      deleted: false,
      members: emptyMemberSets(),
      pendingSince: now,
      matchedSize: null,
      sizedAt: null,
      refreshAt: null,
    };
    this.useName(accountId, name);
    const list = this.byAccount.get(accountId) ?? [];
    list.push(audience);
    this.byAccount.set(accountId, list);
    this.byId.set(audience.id, audience);
    return audience;
  }

  /** The old name stays used; the new one becomes used. */
  rename(audience: Audience, name: string): void {
    audience.name = name;
    this.useName(audience.accountId, name);
  }

  /** Deleted on X: gone from the API (unless with_deleted), its hashes dropped, its name still used. */
  markDeleted(audience: Audience, now: number): void {
    audience.deleted = true;
    audience.updatedAt = now;
    audience.members = emptyMemberSets();
    audience.refreshAt = null;
  }

  /** The audience with this id in this account, deleted or not. Another account's id is not found. */
  find(accountId: string, id: string): Audience | undefined {
    const audience = this.byId.get(id);
    return audience?.accountId === accountId ? audience : undefined;
  }

  /** In creation order, deleted ones included. */
  list(accountId: string): readonly Audience[] {
    return this.byAccount.get(accountId) ?? [];
  }

  all(): IterableIterator<Audience> {
    return this.byId.values();
  }

  private useName(accountId: string, name: string): void {
    const names = this.usedNames.get(accountId) ?? new Set<string>();
    names.add(name);
    this.usedNames.set(accountId, names);
  }
}

function toBase36(n: number): string {
  let out = '';
  do {
    out = BASE36.charAt(n % 36) + out;
    n = Math.floor(n / 36);
  } while (n > 0);
  return out;
}
