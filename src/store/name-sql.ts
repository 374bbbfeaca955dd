import { AUDIENCE_NAME_SUFFIX, IDENTITY_TYPES } from '../core/terms.ts';

/**
 * core/names.ts downstreamName() as SQL, built from the same suffix table: `<name> (email)`, and
 * `… [n]` once X refused a name. Both dialects' claims compare it with the X name to find renames
 * due; the same text runs on SQLite and PostgreSQL (test/store/names-sql.test.ts checks both
 * against downstreamName()).
 */
export function downstreamNameSql(audienceName: string, identityType: string, nameSuffix: string): string {
  const cases = IDENTITY_TYPES.map((t) => `WHEN '${t}' THEN '${AUDIENCE_NAME_SUFFIX[t].replaceAll("'", "''")}'`).join(' ');
  return `(${audienceName} || ' ' || CASE ${identityType} ${cases} END || CASE WHEN ${nameSuffix} > 1 THEN ' [' || ${nameSuffix} || ']' ELSE '' END)`;
}
