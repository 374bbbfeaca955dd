import type Database from 'better-sqlite3';
import type { ApplyResult, MemberChange } from '../port.ts';
import type { ChangeOp, IdentityType } from '../../core/terms.ts';
import { diffMember, holderTransition, outboxChanges, targetOf, type Identity } from '../../membership/diff.ts';
import { hashBytes, identitiesBytes, identitiesOf, memberKeyBytes } from '../binary.ts';
import { FORWARDING_STATES } from '../states.ts';

/**
 * The membership ledger on SQLite. The rule (member diff, holder transitions, fan-out to the
 * forwarding downstream audiences) is membership/diff.ts; this class reads the ledger and writes
 * what the rule returns. Changes are applied one after another, each against the ledger as the
 * previous one left it, inside the caller's IMMEDIATE transaction (one writer per file).
 *
 * Layout (migration 0019): one `members` row per (audience, member key) with the member's
 * identities in one value (binary.ts), and `hash_holders`, each hash's holder count. A change
 * reads its member's row (one seek), moves the count of each identity it gains or loses (one
 * upsert each: the count before and after give the transition), and writes the member's row once.
 */
export class SqliteLedger {
  private readonly memberRow: Database.Statement<[string, Buffer], Buffer>;
  private readonly putMember: Database.Statement<[string, Buffer, Buffer]>;
  private readonly dropMember: Database.Statement<[string, Buffer]>;
  private readonly gainHolder: Database.Statement<[string, string, Buffer], number>;
  private readonly loseHolder: Database.Statement<[string, string, Buffer], number>;
  private readonly dropHash: Database.Statement<[string, string, Buffer]>;
  private readonly holderCount: Database.Statement<[string, string, Buffer], number>;
  private readonly putHolders: Database.Statement<[string, string, Buffer, number]>;
  private readonly forwarding: Database.Statement<[string], { id: number; identity_type: IdentityType }>;
  private readonly enqueue: Database.Statement<[number, Buffer, string, number]>;
  private readonly countRejection: Database.Statement<[string, string, number, number]>;
  private readonly countMembers: Database.Statement<[number, string]>;

  constructor(private readonly db: Database.Database) {
    this.memberRow = db.prepare('SELECT identities FROM members WHERE audience_id = ? AND member_key = ?').pluck() as Database.Statement<
      [string, Buffer],
      Buffer
    >;
    this.putMember = db.prepare(
      'INSERT INTO members (audience_id, member_key, identities) VALUES (?, ?, ?) ON CONFLICT (audience_id, member_key) DO UPDATE SET identities = excluded.identities',
    );
    this.dropMember = db.prepare('DELETE FROM members WHERE audience_id = ? AND member_key = ?');
    // The count after the change; the count before is one less (a gain) or one more (a loss).
    this.gainHolder = db
      .prepare(
        `INSERT INTO hash_holders (audience_id, identity_type, hash, holders) VALUES (?, ?, ?, 1)
         ON CONFLICT (audience_id, identity_type, hash) DO UPDATE SET holders = holders + 1 RETURNING holders`,
      )
      .pluck() as Database.Statement<[string, string, Buffer], number>;
    this.loseHolder = db
      .prepare('UPDATE hash_holders SET holders = holders - 1 WHERE audience_id = ? AND identity_type = ? AND hash = ? RETURNING holders')
      .pluck() as Database.Statement<[string, string, Buffer], number>;
    this.dropHash = db.prepare('DELETE FROM hash_holders WHERE audience_id = ? AND identity_type = ? AND hash = ?');
    this.holderCount = db.prepare('SELECT holders FROM hash_holders WHERE audience_id = ? AND identity_type = ? AND hash = ?').pluck() as Database.Statement<
      [string, string, Buffer],
      number
    >;
    this.putHolders = db.prepare(
      `INSERT INTO hash_holders (audience_id, identity_type, hash, holders) VALUES (?, ?, ?, ?)
       ON CONFLICT (audience_id, identity_type, hash) DO UPDATE SET holders = excluded.holders`,
    );
    this.forwarding = db.prepare(`SELECT id, identity_type FROM downstreams WHERE audience_id = ? AND state IN ${FORWARDING_STATES}`);
    // Last state wins: the op is overwritten and any claim is cleared, so an in-flight batch that
    // settles later leaves this newer change pending. The first enqueue time is kept: a change's
    // wait is measured from when it first became pending.
    this.enqueue = db.prepare(
      `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token) VALUES (?, ?, ?, ?, NULL)
       ON CONFLICT (downstream_id, hash) DO UPDATE SET op = excluded.op, claim_token = NULL`,
    );
    this.countMembers = db.prepare('UPDATE audiences SET member_count = member_count + ? WHERE id = ?');
    this.countRejection = db.prepare(
      `INSERT INTO rejections (audience_id, reason, count, last_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (audience_id, reason) DO UPDATE SET count = count + excluded.count, last_at = excluded.last_at`,
    );
  }

  apply(audienceId: string, changes: MemberChange[], now: number, rejections: Record<string, number> = {}): ApplyResult {
    // Hashes and member keys are bytes on disk (binary.ts), hex in the rule and at the port.
    const forwarding = this.forwarding.all(audienceId).map((r) => ({ id: r.id, identityType: r.identity_type }));
    let queued = 0;
    const queue = (id: Identity, op: ChangeOp | null): void => {
      if (op === null) return;
      for (const c of outboxChanges([{ id, op }], forwarding)) {
        this.enqueue.run(c.downstreamId, hashBytes(c.hash), c.op, now);
        queued += 1;
      }
    };

    let memberDelta = 0;
    for (const change of changes) {
      const key = memberKeyBytes(change.memberKey);
      const stored = this.memberRow.get(audienceId, key);
      const old = stored === undefined ? [] : identitiesOf(stored);
      const target = targetOf(change);
      const diff = diffMember(old, target);
      if (diff.insert.length === 0 && diff.remove.length === 0) continue;
      memberDelta += diff.memberDelta;
      for (const id of diff.remove) {
        const hash = hashBytes(id.hash);
        const after = this.loseHolder.get(audienceId, id.type, hash);
        // The member held it, so its count is there and at least 1 (the counts cover exactly the member rows).
        if (after === undefined || after < 0) throw new Error(`ledger out of step: no holder count for a held hash in audience ${audienceId}`);
        if (after === 0) this.dropHash.run(audienceId, id.type, hash);
        queue(id, holderTransition(after + 1, after));
      }
      for (const id of diff.insert) {
        const after = this.gainHolder.get(audienceId, id.type, hashBytes(id.hash))!;
        queue(id, holderTransition(after - 1, after));
      }
      if (target.length === 0) this.dropMember.run(audienceId, key);
      else this.putMember.run(audienceId, key, identitiesBytes(target));
    }
    if (memberDelta !== 0) this.countMembers.run(memberDelta, audienceId);
    for (const [reason, count] of Object.entries(rejections)) {
      if (count > 0) this.countRejection.run(audienceId, reason, count, now);
    }
    return { queued };
  }

  /**
   * The same as apply(), for a large part (`tailor import`'s chunks): the same ledger, holder counts,
   * outbox rows and `queued` as applying the changes one after another, written table by table in
   * each table's key order instead of change by change. In a ledger larger than the page cache,
   * change by change lands every row on a random page of each of `members`, `hash_holders` and
   * `outbox`; in key order a transaction visits each page once, while it is in the cache.
   *
   * 1. Members, in member-key order (a member's own changes in their given order): each member's
   *    row is read once, its changes are diffed one after another, and its last state is written
   *    once. Every identity gained or lost is an event, numbered by its change's position.
   * 2. Holder counts, in (type, hash) order: each hash's count is read once and its events are
   *    replayed in change order, giving the transitions the change-by-change path would have made
   *    (and its "out of step" check); the last count is written once (its row deleted at 0).
   * 3. The outbox, in (downstream, hash) order: one upsert per hash with the op of its last
   *    transition. The change-by-change path's upserts of one hash keep the first enqueue time and
   *    end with the last op, so the row is the same; `queued` counts every transition as it did.
   */
  applySorted(audienceId: string, changes: MemberChange[], now: number, rejections: Record<string, number> = {}): ApplyResult {
    const forwarding = this.forwarding.all(audienceId).map((r) => ({ id: r.id, identityType: r.identity_type }));
    const keys = changes.map((c) => memberKeyBytes(c.memberKey));
    const order = changes.map((_, i) => i).sort((a, b) => Buffer.compare(keys[a]!, keys[b]!) || a - b);
    const events: { id: Identity; delta: 1 | -1; at: number }[] = [];
    let memberDelta = 0;
    for (let g = 0; g < order.length;) {
      const key = keys[order[g]!]!;
      const stored = this.memberRow.get(audienceId, key);
      let held: Identity[] = stored === undefined ? [] : identitiesOf(stored);
      let changed = false;
      for (; g < order.length && keys[order[g]!]!.equals(key); g += 1) {
        const at = order[g]!;
        const target = targetOf(changes[at]!);
        const diff = diffMember(held, target);
        if (diff.insert.length === 0 && diff.remove.length === 0) continue;
        changed = true;
        memberDelta += diff.memberDelta;
        for (const id of diff.remove) events.push({ id, delta: -1, at });
        for (const id of diff.insert) events.push({ id, delta: 1, at });
        held = target;
      }
      if (!changed) continue;
      if (held.length === 0) this.dropMember.run(audienceId, key);
      else this.putMember.run(audienceId, key, identitiesBytes(held));
    }

    // A change never both gains and loses one identity, so (hash, change position) orders a hash's events.
    events.sort((a, b) => (a.id.type < b.id.type ? -1 : a.id.type > b.id.type ? 1 : a.id.hash < b.id.hash ? -1 : a.id.hash > b.id.hash ? 1 : a.at - b.at));
    const last: { id: Identity; op: ChangeOp }[] = [];
    let queued = 0;
    for (let e = 0; e < events.length;) {
      const id = events[e]!.id;
      const hash = hashBytes(id.hash);
      const before = this.holderCount.get(audienceId, id.type, hash) ?? 0;
      let count = before;
      let op: ChangeOp | null = null;
      for (; e < events.length && events[e]!.id.type === id.type && events[e]!.id.hash === id.hash; e += 1) {
        const after = count + events[e]!.delta;
        if (after < 0) throw new Error(`ledger out of step: no holder count for a held hash in audience ${audienceId}`);
        const t = holderTransition(count, after);
        if (t !== null) {
          op = t;
          queued += outboxChanges([{ id, op: t }], forwarding).length;
        }
        count = after;
      }
      if (count === 0) {
        if (before !== 0) this.dropHash.run(audienceId, id.type, hash);
      } else if (count !== before) this.putHolders.run(audienceId, id.type, hash, count);
      if (op !== null) last.push({ id, op });
    }
    const outbox = outboxChanges(last, forwarding).sort((a, b) => a.downstreamId - b.downstreamId || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
    for (const c of outbox) this.enqueue.run(c.downstreamId, hashBytes(c.hash), c.op, now);

    if (memberDelta !== 0) this.countMembers.run(memberDelta, audienceId);
    for (const [reason, count] of Object.entries(rejections)) {
      if (count > 0) this.countRejection.run(audienceId, reason, count, now);
    }
    return { queued };
  }

  /**
   * Brings a downstream audience's outbox to the exact difference between the audience ledger and
   * the X ledger: adds for hashes members hold that X lacks, removes for hashes X holds that no
   * member does. Used when a Forward toggle is turned back on, and to refill a re-created audience.
   */
  resync(downstreamId: number, audienceId: string, type: IdentityType, now: number): void {
    this.db
      .prepare(
        `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
         SELECT ?, m.hash, 'add', ?, NULL FROM hash_holders m
         WHERE m.audience_id = ? AND m.identity_type = ?
           AND NOT EXISTS (SELECT 1 FROM x_members x WHERE x.downstream_id = ? AND x.hash = m.hash AND x.confirmed = 1)
         ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'add', claim_token = NULL`,
      )
      .run(downstreamId, now, audienceId, type, downstreamId);
    this.db
      .prepare(
        `INSERT INTO outbox (downstream_id, hash, op, enqueued_at, claim_token)
         SELECT ?, x.hash, 'remove', ?, NULL FROM x_members x
         WHERE x.downstream_id = ?
           AND NOT EXISTS (SELECT 1 FROM hash_holders m WHERE m.audience_id = ? AND m.identity_type = ? AND m.hash = x.hash)
         ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'remove', claim_token = NULL`,
      )
      .run(downstreamId, now, downstreamId, audienceId, type);
  }
}
