import type Database from 'better-sqlite3';
import type { ApplyResult, MemberChange } from '../port.ts';
import type { ChangeOp, IdentityType } from '../../core/terms.ts';
import { diffMember, holderTransition, outboxChanges, targetOf, type Identity } from '../../membership/diff.ts';
import { hashBytes, hashHex, memberKeyBytes } from '../binary.ts';
import { FORWARDING_STATES } from '../states.ts';

/**
 * The membership ledger on SQLite. The rule (member diff, holder transitions, fan-out to the
 * forwarding downstream audiences) is membership/diff.ts; this class reads the ledger and writes
 * what the rule returns. Changes are applied one after another, each against the ledger as the
 * previous one left it, inside the caller's IMMEDIATE transaction (one writer per file), so a
 * hash's holders are read with EXISTS on the members table itself and need no separate count.
 */
export class SqliteLedger {
  private readonly memberHashes: Database.Statement<[string, Buffer], { identity_type: IdentityType; hash: Buffer }>;
  private readonly insertMember: Database.Statement<[string, string, Buffer, Buffer]>;
  private readonly deleteMember: Database.Statement<[string, string, Buffer, Buffer]>;
  private readonly hashHeld: Database.Statement<[string, string, Buffer], number>;
  private readonly forwarding: Database.Statement<[string], { id: number; identity_type: IdentityType }>;
  private readonly enqueue: Database.Statement<[number, Buffer, string, number]>;
  private readonly countRejection: Database.Statement<[string, string, number, number]>;
  private readonly countMembers: Database.Statement<[number, string]>;

  constructor(private readonly db: Database.Database) {
    this.memberHashes = db.prepare('SELECT identity_type, hash FROM members WHERE audience_id = ? AND member_key = ?');
    this.insertMember = db.prepare('INSERT OR IGNORE INTO members (audience_id, identity_type, hash, member_key) VALUES (?, ?, ?, ?)');
    this.deleteMember = db.prepare('DELETE FROM members WHERE audience_id = ? AND identity_type = ? AND hash = ? AND member_key = ?');
    this.hashHeld = db.prepare('SELECT EXISTS (SELECT 1 FROM members WHERE audience_id = ? AND identity_type = ? AND hash = ?)').pluck() as Database.Statement<
      [string, string, Buffer],
      number
    >;
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
    const held = (id: Identity, hash: Buffer): number => this.hashHeld.get(audienceId, id.type, hash) ?? 0;

    let memberDelta = 0;
    for (const change of changes) {
      const key = memberKeyBytes(change.memberKey);
      const old = this.memberHashes.all(audienceId, key).map((r) => ({ type: r.identity_type, hash: hashHex(r.hash) }));
      const diff = diffMember(old, targetOf(change));
      memberDelta += diff.memberDelta;
      // The member held each of these: at least one holder before, and EXISTS says whether any is left.
      for (const id of diff.remove) {
        const hash = hashBytes(id.hash);
        this.deleteMember.run(audienceId, id.type, hash, key);
        queue(id, holderTransition(1, held(id, hash)));
      }
      for (const id of diff.insert) {
        const hash = hashBytes(id.hash);
        const before = held(id, hash);
        this.insertMember.run(audienceId, id.type, hash, key);
        queue(id, holderTransition(before, 1));
      }
    }
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
         SELECT DISTINCT ?, m.hash, 'add', ?, NULL FROM members m
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
           AND NOT EXISTS (SELECT 1 FROM members m WHERE m.audience_id = ? AND m.identity_type = ? AND m.hash = x.hash)
         ON CONFLICT (downstream_id, hash) DO UPDATE SET op = 'remove', claim_token = NULL`,
      )
      .run(downstreamId, now, downstreamId, audienceId, type);
  }
}
