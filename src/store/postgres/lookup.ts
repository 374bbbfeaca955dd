import type { IdentityType } from '../../core/terms.ts';
import type { LookupRow } from '../port.ts';
import { lookupRows, type DownstreamRead, type HoldingRead } from '../lookup.ts';
import type { ConnectionRow } from '../rows.ts';
import type { Reader } from './db.ts';
import { hashBytes } from '../binary.ts';

/*
 * Where identities are held (the lookup). Reads on the pool, no locks: the lookup is a view, and
 * its parts may be a commit apart. Holders come from hash_holders (its primary key leads with
 * the audience); x_members and outbox lead with the downstream id: a seek per X audience; the
 * suppression list one seek on its primary key.
 */
export async function lookup(c: Reader, identities: { type: IdentityType; hash: string }[]): Promise<LookupRow[]> {
  const out: LookupRow[] = [];
  for (const id of identities) {
    const held = await c.query<HoldingRead>(
      `SELECT a.id AS audience_id, a.name AS audience_name, h.holders FROM audiences a
       JOIN hash_holders h ON h.audience_id = a.id AND h.identity_type = $1 AND h.hash = $2 WHERE h.holders > 0 ORDER BY a.id`,
      [id.type, hashBytes(id.hash)],
    );
    const downs = await c.query<DownstreamRead>(
      `SELECT d.id, d.audience_id, a.name AS audience_name, d.configuration_id, d.state, d.x_audience_id, x.confirmed, x.confirmed_at, o.op
       FROM downstreams d LEFT JOIN audiences a ON a.id = d.audience_id
       LEFT JOIN x_members x ON x.downstream_id = d.id AND x.hash = $1
       LEFT JOIN outbox o ON o.downstream_id = d.id AND o.hash = $1
       WHERE d.identity_type = $2 AND d.state <> 'deleting' ORDER BY d.audience_id, d.configuration_id, d.id`,
      [hashBytes(id.hash), id.type],
    );
    const audienceIds = [...new Set([...held.rows.map((h) => h.audience_id), ...downs.rows.map((d) => d.audience_id)])];
    const conns = await c.query<ConnectionRow>('SELECT * FROM connections WHERE audience_id = ANY($1::text[])', [audienceIds]);
    const suppressed = await c.query('SELECT 1 FROM suppressions WHERE identity_type = $1 AND hash = $2', [id.type, hashBytes(id.hash)]);
    out.push(...lookupRows(id, (suppressed.rowCount ?? 0) > 0, held.rows, downs.rows, conns.rows));
  }
  return out;
}
