import type Database from 'better-sqlite3';
import type { IdentityType } from '../../core/terms.ts';
import type { LookupRow } from '../port.ts';
import { lookupRows, type DownstreamRead, type HoldingRead } from '../lookup.ts';
import type { ConnectionRow } from '../rows.ts';
import { hashBytes } from '../binary.ts';

/*
 * Where identities are held (the lookup). Plain reads outside any transaction: WAL gives each
 * statement a snapshot; the lookup is a view, and its parts may be a commit apart. Every read is a
 * seek per audience or X audience on a primary key (hash_holders, x_members and outbox all lead with
 * the audience or the downstream id), so no index by hash is needed; the suppression list is one
 * seek on its primary key.
 */
export function lookup(db: Database.Database, identities: { type: IdentityType; hash: string }[]): LookupRow[] {
  const holding = db.prepare(
    `SELECT a.id AS audience_id, a.name AS audience_name, h.holders FROM audiences a
     JOIN hash_holders h ON h.audience_id = a.id AND h.identity_type = ? AND h.hash = ? WHERE h.holders > 0 ORDER BY a.id`,
  );
  const downstreams = db.prepare(
    `SELECT d.id, d.audience_id, a.name AS audience_name, d.configuration_id, d.state, d.x_audience_id, x.confirmed, x.confirmed_at, o.op
     FROM downstreams d LEFT JOIN audiences a ON a.id = d.audience_id
     LEFT JOIN x_members x ON x.downstream_id = d.id AND x.hash = ?
     LEFT JOIN outbox o ON o.downstream_id = d.id AND o.hash = ?
     WHERE d.identity_type = ? AND d.state <> 'deleting' ORDER BY d.audience_id, d.configuration_id, d.id`,
  );
  const connections = db.prepare('SELECT * FROM connections WHERE audience_id = ?');
  const suppressed = db.prepare('SELECT 1 FROM suppressions WHERE identity_type = ? AND hash = ?').pluck();
  const out: LookupRow[] = [];
  for (const id of identities) {
    const hash = hashBytes(id.hash);
    const held = holding.all(id.type, hash) as HoldingRead[];
    const downs = downstreams.all(hash, hash, id.type) as DownstreamRead[];
    const audienceIds = new Set([...held.map((h) => h.audience_id), ...downs.map((d) => d.audience_id)]);
    const conns = [...audienceIds].flatMap((a) => connections.all(a) as ConnectionRow[]);
    out.push(...lookupRows(id, suppressed.get(id.type, hash) !== undefined, held, downs, conns));
  }
  return out;
}
