/**
 * The one way member changes enter the ledger, for REST, the Firehose and import alike: prepare
 * (normalize, hash, build member keys: changes.ts), then apply everything with one
 * `applyMemberChanges` call (one transaction on PostgreSQL, short slices on SQLite: port.ts),
 * rejections counted by reason with the first change. The
 * sources differ only in how they parse a request and how they answer it.
 */
import { pacer } from '../core/pace.ts';
import type { PhoneRegion } from '../identity/index.ts';
import type { LedgerPreview, LedgerStore } from '../store/port.ts';
import type { MemberChange } from '../store/port.ts';
import { dropSuppressed, prepareChanges, suppressionKey, type PreparedChanges, type Rejection, type SourceMember } from './changes.ts';
import type { MemberKeys } from './member-key.ts';

/** Members prepared between two looks at the clock: a few milliseconds of hashing. */
const PIECE_MEMBERS = 250;

export type IngestAction = 'add' | 'remove';

/** Members that share one action. */
export interface IngestPart {
  action: IngestAction;
  members: SourceMember[];
  /** Position of the first member in its request or file, for the rejections' `index` (default 0). */
  firstIndex?: number;
}

export interface IngestRequest {
  audienceId: string;
  /** Applied in this order, in order (one call of applyMemberChanges): a member in an add part and a later remove part ends removed. */
  parts: IngestPart[];
  now: number;
  /** Identifiers the source dropped before hashing (the Firehose's unknown identity types), by reason. */
  rejections?: Record<string, number>;
  /** Where phone numbers without a country code are read (TAILOR_DEFAULT_PHONE_REGION; default US). */
  phoneRegion?: PhoneRegion;
  /** A dry run: the same preparation, then what the ledger would do (preview.ts), and nothing written. */
  dryRun?: boolean;
}

export interface IngestResult {
  /** Members accepted, by action: a member with a key, or one with at least one valid identity. */
  accepted: Record<IngestAction, number>;
  /** Ledger changes made, by action: a member without a key makes one per valid identity. */
  changes: Record<IngestAction, number>;
  /** Every identifier dropped, in part order, with the action of its part; never the value. */
  rejected: (Rejection & { action: IngestAction })[];
  /** Identifiers dropped, by reason (as stored for the audience's status). */
  counts: Record<string, number>;
  /** Changes queued for X (ApplyResult); 0 in a dry run. */
  queued: number;
  /** In a dry run: what would change, per identity type. */
  preview?: LedgerPreview;
}

export async function ingest(ledger: LedgerStore, keys: MemberKeys, req: IngestRequest): Promise<IngestResult> {
  const result: IngestResult = { accepted: { add: 0, remove: 0 }, changes: { add: 0, remove: 0 }, rejected: [], counts: { ...req.rejections }, queued: 0 };
  const changes: MemberChange[] = [];
  // Prepared a piece at a time (core/pace.ts): hashing 100,000 members takes about a second, and
  // the event loop stays free for other callers meanwhile.
  const pace = pacer();
  const normalize = { ...(req.phoneRegion && { phoneRegion: req.phoneRegion }) };
  const parts: { part: IngestPart; pieces: PreparedChanges[] }[] = [];
  // The suppression list (docs/privacy.md): one read for every identity the adds name.
  const named = new Map<string, { type: MemberChange['identities'][number]['type']; hash: string }>();
  for (const part of req.parts) {
    const pieces: PreparedChanges[] = [];
    for (let from = 0; from < part.members.length; from += PIECE_MEMBERS) {
      const piece = prepareChanges(keys, part.action, part.members.slice(from, from + PIECE_MEMBERS), (part.firstIndex ?? 0) + from, normalize);
      for (const c of piece.changes) for (const id of c.identities) named.set(suppressionKey(id), id);
      pieces.push(piece);
      await pace();
    }
    parts.push({ part, pieces });
  }
  const suppressed = named.size === 0 ? new Set<string>() : new Set((await ledger.suppressedAmong([...named.values()])).map(suppressionKey));
  for (const { part, pieces } of parts) {
    for (const piece of pieces) {
      const prepared: PreparedChanges = dropSuppressed(piece, suppressed);
      for (const c of prepared.changes) changes.push(c);
      result.accepted[part.action] += prepared.accepted;
      result.changes[part.action] += prepared.changes.length;
      for (const r of prepared.rejected) result.rejected.push({ ...r, action: part.action });
      for (const [reason, n] of Object.entries(prepared.counts)) result.counts[reason] = (result.counts[reason] ?? 0) + n;
      await pace();
    }
  }
  if (req.dryRun) {
    result.preview = changes.length === 0 ? {} : await ledger.previewMemberChanges(req.audienceId, changes);
    return result;
  }
  // Nothing to write: no transaction (an empty request or an attribute-only Firehose entry).
  if (changes.length === 0 && Object.keys(result.counts).length === 0) return result;
  result.queued = (await ledger.applyMemberChanges(req.audienceId, changes, req.now, result.counts)).queued;
  return result;
}
