/**
 * The rule of `FirehoseAccess` (port.ts) as one SQL query, shared by both stores so they cannot
 * drift: a Firehose message for an account may act on a `firehose` audience created for that
 * account, or on one already connected to that account's configuration (an audience classified
 * by migration 0006 has no account, and so only the second way). REST and import audiences
 * (`api`) are never its to touch. No row: the audience is unknown.
 */
export function firehoseAccessSql(audienceParam: string, accountParam: string): string {
  return `SELECT CASE WHEN a.origin = 'firehose' AND (a.origin_account = ${accountParam} OR EXISTS (
            SELECT 1 FROM connections c JOIN configurations g ON g.id = c.configuration_id
             WHERE c.audience_id = a.id AND g.account_id = ${accountParam})) THEN 1 ELSE 0 END AS owned
            FROM audiences a WHERE a.id = ${audienceParam}`;
}
