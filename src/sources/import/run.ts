/**
 * Bulk import: rows from a file → member changes → the ledger, in chunks. Each chunk is one
 * `applyMemberChanges` transaction, so a change is durable once its chunk returns and an
 * interrupted import leaves whole chunks behind; running the same file again is harmless, since
 * the ledger holds sets (an add of a member's current identities changes nothing the second time).
 *
 * Memory stays flat whatever the file's size: one chunk of rows, the counts by reason and the
 * first few problems are all that is kept.
 */
import type { Readable } from 'node:stream';
import { countIngest, countRejections } from '../../metrics.ts';
import type { SourceMember } from '../../membership/changes.ts';
import { ingest } from '../../membership/ingest.ts';
import type { MemberKeys } from '../../membership/member-key.ts';
import type { PhoneRegion } from '../../identity/index.ts';
import type { IdentityType } from '../../core/terms.ts';
import type { LedgerPreview, LedgerStore } from '../../store/port.ts';
import { readRows, type ImportFormat, type RowProblem } from './read.ts';

/**
 * Rows per transaction. Large enough that the per-commit fsync costs little next to the rows'
 * work; small enough that one commit holds SQLite's write lock for well under a second, so a
 * running `tailor serve` (API, Firehose, workers) waits at most that long beside an import.
 */
export const IMPORT_CHUNK_ROWS = 5_000;
/** How many problems the summary lists with their line numbers; the rest are counted by reason. */
export const LISTED_PROBLEMS = 20;

export interface ImportProblem extends RowProblem {
  line: number;
}

export interface ImportSummary {
  action: 'add' | 'remove';
  /** Data rows read (the CSV header and blank lines are not rows). */
  rows: number;
  /** Rows applied to the ledger (a row with one bad identifier among good ones is applied). */
  accepted: number;
  /** Rows dropped whole: malformed, or without a usable identifier or user_id. */
  rejectedRows: number;
  /** Rows and identifiers dropped, by reason. */
  reasons: Record<string, number>;
  /** The first problems, with line numbers. */
  problems: ImportProblem[];
  /** Changes queued for X by the ledger (after coalescing, across downstream audiences). */
  queued: number;
  /** True when the import stopped early on request (SIGINT); the chunks applied are kept. */
  interrupted: boolean;
  /**
   * A dry run (`--dry-run`): what the file would change, per identity type, summed over its chunks;
   * nothing was written. Each chunk is previewed against the ledger as it is, so a member listed in
   * two chunks of one file counts in both.
   */
  preview?: LedgerPreview;
}

export interface ImportProgress {
  rows: number;
  accepted: number;
}

export interface ImportOptions {
  store: LedgerStore;
  /** Builds the member keys of rows with a user_id (from TAILOR_SECRET_KEY, as the server does). */
  memberKeys: MemberKeys;
  /** Where phone numbers without a country code are read (TAILOR_DEFAULT_PHONE_REGION; default US). */
  phoneRegion?: PhoneRegion;
  audienceId: string;
  action: 'add' | 'remove';
  input: Readable;
  format: ImportFormat;
  chunkRows?: number;
  now?: () => number;
  /** Called after each committed chunk. */
  onProgress?: (p: ImportProgress) => void;
  /** Checked between rows; true stops the import after the chunks already applied. */
  shouldStop?: () => boolean;
  /** Report what would change (summary.preview) and write nothing. */
  dryRun?: boolean;
}

function addPreview(into: LedgerPreview, more: LedgerPreview): void {
  for (const [type, c] of Object.entries(more) as [IdentityType, NonNullable<LedgerPreview[IdentityType]>][]) {
    const t = (into[type] ??= { add: 0, remove: 0, alreadyPresent: 0, xAdd: 0, xRemove: 0 });
    t.add += c.add;
    t.remove += c.remove;
    t.alreadyPresent += c.alreadyPresent;
    t.xAdd += c.xAdd;
    t.xRemove += c.xRemove;
  }
}

export async function importMembers(opts: ImportOptions): Promise<ImportSummary> {
  const chunkRows = opts.chunkRows ?? IMPORT_CHUNK_ROWS;
  const now = opts.now ?? Date.now;
  const summary: ImportSummary = { action: opts.action, rows: 0, accepted: 0, rejectedRows: 0, reasons: {}, problems: [], queued: 0, interrupted: false };
  if (opts.dryRun) summary.preview = {};
  const note = (p: ImportProblem): void => {
    summary.reasons[p.reason] = (summary.reasons[p.reason] ?? 0) + 1;
    // Keep the lowest line numbers: a chunk's identifier problems are noted after its bad rows.
    const list = summary.problems;
    if (list.length === LISTED_PROBLEMS && p.line >= list[list.length - 1]!.line) return;
    list.push(p);
    list.sort((x, y) => x.line - y.line);
    if (list.length > LISTED_PROBLEMS) list.pop();
  };

  let members: SourceMember[] = [];
  let lines: number[] = [];
  const flush = async (): Promise<void> => {
    if (members.length === 0) return;
    const result = await ingest(opts.store, opts.memberKeys, {
      audienceId: opts.audienceId,
      parts: [{ action: opts.action, members }],
      now: now(),
      ...(opts.phoneRegion !== undefined && { phoneRegion: opts.phoneRegion }),
      ...(opts.dryRun ? { dryRun: true } : {}),
    });
    for (const r of result.rejected) note({ line: lines[r.index] ?? 0, reason: r.reason, field: r.field, message: r.message });
    if (result.preview) addPreview((summary.preview ??= {}), result.preview);
    else countIngest('import', result.accepted, result.counts);
    const accepted = result.accepted[opts.action];
    summary.accepted += accepted;
    summary.rejectedRows += members.length - accepted;
    summary.queued += result.queued;
    members = [];
    lines = [];
    opts.onProgress?.({ rows: summary.rows, accepted: summary.accepted });
  };

  for await (const row of readRows(opts.input, opts.format)) {
    if (opts.shouldStop?.()) {
      summary.interrupted = true;
      break;
    }
    summary.rows += 1;
    if ('problem' in row) {
      note({ line: row.line, ...row.problem });
      summary.rejectedRows += 1;
      if (!opts.dryRun) countRejections('import', { [row.problem.reason]: 1 });
      continue;
    }
    // A remove by user_id takes out whatever the member contributed: its identifiers are not needed.
    members.push(opts.action === 'remove' && row.member.key !== null ? { key: row.member.key, identities: [] } : row.member);
    lines.push(row.line);
    if (members.length >= chunkRows) await flush();
  }
  if (summary.interrupted) opts.input.destroy();
  else await flush();
  opts.onProgress?.({ rows: summary.rows, accepted: summary.accepted });
  return summary;
}
