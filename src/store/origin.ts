/**
 * The rule of `FirehoseAccess` (port.ts) as one SQL query, shared by both stores so they cannot
 * drift: a Firehose message may act on a `firehose` audience created for its mParticle account.
 * An audience classified by migration 0006 has no account: it may be acted on through the
 * configurations it is connected to, as before. REST and import audiences (`api`) are never the
 * Firehose's to touch. No row: the audience is unknown.
 */
export function firehoseAccessSql(audience: string, account: string, configuration: string): string {
  return `SELECT CASE WHEN a.origin = 'firehose' AND (a.origin_account = ${account} OR (a.origin_account IS NULL AND EXISTS (
            SELECT 1 FROM connections c WHERE c.audience_id = a.id AND c.configuration_id = ${configuration}))) THEN 1 ELSE 0 END AS owned
            FROM audiences a WHERE a.id = ${audience}`;
}
