/**
 * Dry runs: what applying member changes would do, from the same rule the ledgers apply (diff.ts),
 * over reads only. A store reads what each member holds and how many members hold each hash it
 * is asked about; nothing is written, so a dry run leaves the database as it was.
 */
import type { IdentityType } from '../core/terms.ts';
import type { LedgerPreview, MemberChange } from '../store/port.ts';
import { diffMember, holderDeltas, holderTransition, identityKey, lastChangeWins, type Identity, type MemberDiff } from './diff.ts';

export interface LedgerReads {
  /** The identities each member key holds in the audience (absent: none). */
  heldBy(memberKeys: string[]): Promise<Map<string, Identity[]>> | Map<string, Identity[]>;
  /** How many members hold each identity, by identityKey (absent: none). */
  holders(identities: Identity[]): Promise<Map<string, number>> | Map<string, number>;
}

export async function previewChanges(changes: readonly MemberChange[], read: LedgerReads): Promise<LedgerPreview> {
  const out: LedgerPreview = {};
  const of = (type: IdentityType) => (out[type] ??= { add: 0, remove: 0, alreadyPresent: 0, xAdd: 0, xRemove: 0 });
  const targets = lastChangeWins(changes);
  const held = await read.heldBy([...targets.keys()]);
  const diffs: MemberDiff[] = [];
  for (const [key, target] of targets) {
    const old = held.get(key) ?? [];
    const d = diffMember(old, target);
    diffs.push(d);
    for (const id of d.insert) of(id.type).add += 1;
    for (const id of d.remove) of(id.type).remove += 1;
    const had = new Set(old.map(identityKey));
    for (const id of target) if (had.has(identityKey(id))) of(id.type).alreadyPresent += 1;
  }
  const deltas = [...holderDeltas(diffs).values()];
  const counts = await read.holders(deltas.map((e) => e.id));
  for (const { id, delta } of deltas) {
    const before = counts.get(identityKey(id)) ?? 0;
    const op = holderTransition(before, Math.max(0, before + delta));
    if (op === 'add') of(id.type).xAdd += 1;
    if (op === 'remove') of(id.type).xRemove += 1;
  }
  return out;
}
