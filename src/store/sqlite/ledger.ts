import type Database from 'better-sqlite3';
import type { ApplyResult, MemberChange } from '../port.ts';
import type { IdentityType } from '../../core/terms.ts';
import { FORWARDING_STATES } from '../states.ts';


/**
 * The membership ledger on SQLite. For each member change it diffs the member's hashes, updates
 * the audience ledger, and queues a change for every forwarding downstream audience of that type
 * when a hash's holder count goes from 0 to 1 (add) or from 1 to 0 (remove). A hash shared by two
 * members therefore stays on X until the last of them leaves.
 */
export class SqliteLedger {
  private readonly memberHashes: Database.Statement<[string, string], { identity_type: string; hash: string }>;
  private readonly insertMember: Database.Statement<[string, string, string, string]>;
  private readonly deleteMember: Database.Statement<[string, string, string, string]>;
  private readonly hashHeld: Database.Statement<[string, string, string], number>;
  private readonly forwarding: Database.Statement<[string], { id: number; identity_type: string }>;
  private readonly enqueue: Database.Statement<[number, string, string, number]>;
  private readonly countRejection: Database.Statement<[string, string, number, number]>;
  private readonly countMembers: Database.Statement<[number, string]>;

  constructor(private readonly db: Database.Database) {
    this.memberHashes = db.prepare('SELECT identity_type, hash FROM members WHERE audience_id = ? AND member_key = ?');
    this.insertMember = db.prepare('INSERT OR IGNORE INTO members (audience_id, identity_type, hash, member_key) VALUES (?, ?, ?, ?)');
    this.deleteMember = db.prepare('DELETE FROM members WHERE audience_id = ? AND identity_type = ? AND hash = ? AND member_key = ?');
    this.hashHeld = db.prepare('SELECT EXISTS (SELECT 1 FROM members WHERE audience_id = ? AND identity_type = ? AND hash = ?)').pluck() as Database.Statement<[string, string, string], number>;
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
    const targets = new Map<string, number[]>();
    for (const row of this.forwarding.all(audienceId)) {
      const ids = targets.get(row.identity_type) ?? [];
      ids.push(row.id);
      targets.set(row.identity_type, ids);
    }
    let queued = 0;
    const queue = (type: string, hash: string, op: 'add' | 'remove'): void => {
      for (const id of targets.get(type) ?? []) {
        this.enqueue.run(id, hash, op, now);
        queued += 1;
      }
    };

    let memberDelta = 0;
    for (const change of changes) {
      const old = this.memberHashes.all(audienceId, change.memberKey);
      const target = new Map<string, { type: IdentityType; hash: string }>();
      if (change.action === 'add') for (const id of change.identities) target.set(`${id.type}:${id.hash}`, id);
      const oldKeys = new Set(old.map((o) => `${o.identity_type}:${o.hash}`));
      // A member exists while it holds at least one hash.
      memberDelta += (target.size > 0 ? 1 : 0) - (old.length > 0 ? 1 : 0);

      for (const o of old) {
        if (target.has(`${o.identity_type}:${o.hash}`)) continue;
        this.deleteMember.run(audienceId, o.identity_type, o.hash, change.memberKey);
        if (this.hashHeld.get(audienceId, o.identity_type, o.hash) === 0) queue(o.identity_type, o.hash, 'remove');
      }
      for (const [key, id] of target) {
        if (oldKeys.has(key)) continue;
        const heldBefore = this.hashHeld.get(audienceId, id.type, id.hash) === 1;
        this.insertMember.run(audienceId, id.type, id.hash, change.memberKey);
        if (!heldBefore) queue(id.type, id.hash, 'add');
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
