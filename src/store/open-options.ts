/** What a caller hands the store when opening it, beyond where the database is. */
export interface OpenOptions {
  /**
   * Builds the member key of a user id or an mpid (`MemberKeys.of`, src/membership/member-key.ts,
   * bound to TAILOR_SECRET_KEY). Only migration 0005 needs it, to convert a ledger written before
   * keys were namespaced and keyed; when a conversion is needed and it is missing, opening fails
   * with a ConfigError naming TAILOR_SECRET_KEY and nothing is changed.
   */
  memberKey?: (kind: 'user_id' | 'mpid', raw: string) => string;
  /**
   * SQLite: how long one transaction of sliced work (a call's member changes, a claim, a settle)
   * may run before it commits and lets the event loop run (default SLICE_MS, 12 ms, for a process
   * that answers requests). `tailor import` serves nothing and passes more: fewer commits, and
   * still short enough that a `tailor serve` on the same file waits little for the write lock.
   * PostgreSQL ignores it (its queries do not hold the event loop).
   */
  sliceMs?: number;
  /**
   * SQLite: writes run in a worker thread with its own connection (sqlite/writer.ts), off the event
   * loop (default). `tailor import` passes false: it answers no requests, and keeps its writes on
   * its own thread.
   */
  writerThread?: boolean;
  /**
   * SQLite, with `writerThread: false`: the store of a bulk load (`tailor import`). Member changes
   * are applied in large parts, each table by table in key order (SqliteLedger.applySorted: the
   * same result as change by change), and the WAL is checkpointed less often.
   * PostgreSQL ignores it.
   */
  bulk?: boolean;
  /** Where a one-line notice goes (e.g. file permissions tightened at open). Default: stderr. */
  notice?: (message: string) => void;
}
