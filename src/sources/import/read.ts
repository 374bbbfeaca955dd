/**
 * Reading an import file as a stream of rows, in constant memory: CSV through csv-parse, NDJSON
 * line by line. Each row becomes a source member (the same shape as a REST member) or a problem
 * with its line number; only a problem with the file as a whole (an unknown column, an unreadable
 * file) throws, as an ImportFormatError. Values never appear in a problem's message.
 */
import { CsvError, parse as csvParse } from 'csv-parse';
import type { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { Refusal } from '../../core/errors.ts';
import { identifierTextProblem } from '../../core/text.ts';
import type { IdentityKind } from '../../identity/index.ts';
import type { SourceMember } from '../../membership/changes.ts';

export type ImportFormat = 'csv' | 'ndjson';

/** The columns (CSV) or fields (NDJSON) an import understands: the REST API's member fields. */
export const IMPORT_FIELDS = ['user_id', 'email', 'twitter_handle', 'ios_advertising_id', 'google_advertising_id', 'phone_number'] as const;
const IDENTITY_FIELDS: IdentityKind[] = ['email', 'twitter_handle', 'ios_advertising_id', 'google_advertising_id', 'phone_number'];
/** As in the REST API: a member key longer than this is refused. */
const MAX_USER_ID = 256;

/** A problem with the file itself: nothing more can be read from it. */
export class ImportFormatError extends Refusal {
  constructor(message: string) {
    super('invalid', message);
  }
}

export interface RowProblem {
  /** Why the row (or one of its identifiers) was dropped, e.g. `malformed_row`, `invalid_email`. */
  reason: string;
  field?: string;
  message: string;
}

export type ImportRow = { line: number; member: SourceMember } | { line: number; problem: RowProblem };

/** The format named by a file's extension, or null when the extension says nothing. */
export function formatOf(path: string): ImportFormat | null {
  const lower = path.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.ndjson') || lower.endsWith('.jsonl')) return 'ndjson';
  return null;
}

export function readRows(input: Readable, format: ImportFormat): AsyncGenerator<ImportRow> {
  return format === 'csv' ? readCsv(input) : readNdjson(input);
}

/** A row's fields → a source member; empty values are absent values. */
function toMember(fields: Partial<Record<string, string>>, line: number): ImportRow {
  const userId = fields.user_id ?? '';
  if (userId.length > MAX_USER_ID)
    return { line, problem: { reason: 'invalid_user_id', field: 'user_id', message: `user_id is longer than ${MAX_USER_ID} characters` } };
  // The member key is stored as read; identifiers get the same check in hashIdentity.
  const userIdProblem = identifierTextProblem(userId);
  if (userIdProblem !== null) return { line, problem: { reason: 'invalid_encoding', field: 'user_id', message: `user_id ${userIdProblem}` } };
  const identities = IDENTITY_FIELDS.flatMap((kind) => {
    const value = fields[kind];
    return value === undefined || value === '' ? [] : [{ kind, value }];
  });
  if (userId === '' && identities.length === 0) return { line, problem: { reason: 'empty_row', message: 'the row has no user_id and no identifier' } };
  return { line, member: { key: userId === '' ? null : { kind: 'user_id', value: userId }, identities } };
}

/** The known field a misspelt name was probably meant to be (at most two edits away), or null. */
function meantField(name: string): string | null {
  let best: string | null = null;
  let bestDistance = 3;
  for (const field of IMPORT_FIELDS) {
    const d = editDistance(name, field);
    if (d < bestDistance) [best, bestDistance] = [field, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const row = [i];
    for (let j = 1; j <= b.length; j += 1) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * Header names, trimmed and lower-cased; unknown or repeated columns stop the import. An unknown
 * name is never quoted: a file without a header has data in its first row (someone's e-mail and
 * handle), so the message says which column and, for a misspelling, which name was meant.
 */
function checkHeader(header: string[]): string[] {
  const names = header.map((h) => h.trim().toLowerCase());
  const known = (n: string): boolean => (IMPORT_FIELDS as readonly string[]).includes(n);
  if (!names.some(known)) {
    throw new ImportFormatError(
      `the first row looks like data, not a header: none of its ${names.length} cells names a column. A CSV import starts with a header naming its columns: ${IMPORT_FIELDS.join(', ')}`,
    );
  }
  const unknown = names.flatMap((n, i) => (known(n) ? [] : [i]));
  if (unknown.length > 0) {
    const described = unknown.map((i) => {
      const meant = meantField(names[i]!);
      return `column ${i + 1}${meant !== null && !names.includes(meant) ? ` (did you mean ${meant}?)` : ''}`;
    });
    throw new ImportFormatError(
      `the CSV header has ${unknown.length > 1 ? 'unknown columns' : 'an unknown column'}: ${described.join(', ')}; the columns are ${IMPORT_FIELDS.join(', ')}`,
    );
  }
  const repeated = names.filter((n, i) => names.indexOf(n) !== i);
  if (repeated.length > 0) throw new ImportFormatError(`column ${JSON.stringify(repeated[0])} appears twice in the CSV header`);
  if (!names.some((n) => n !== 'user_id'))
    throw new ImportFormatError(`the CSV header names no identifier column; name at least one of ${IDENTITY_FIELDS.join(', ')}`);
  return names;
}

async function* readCsv(input: Readable): AsyncGenerator<ImportRow> {
  // Rows csv-parse skips (wrong column count, bad quoting) are reported here, between records.
  const skipped: ImportRow[] = [];
  const parser = csvParse({
    columns: checkHeader,
    bom: true,
    trim: true,
    skip_empty_lines: true,
    info: true,
    skip_records_with_error: true,
    on_skip: (err: CsvError | undefined) => {
      const line = typeof err?.lines === 'number' ? err.lines : 0;
      skipped.push({ line, problem: { reason: 'malformed_row', message: csvProblem(err) } });
      return undefined;
    },
  });
  input.on('error', (err) => parser.destroy(err));
  input.pipe(parser);
  let headerSeen = false;
  try {
    for await (const item of parser as AsyncIterable<{ info: { lines: number }; record: Record<string, string> }>) {
      headerSeen = true;
      while (skipped.length > 0) yield skipped.shift()!;
      yield toMember(item.record, item.info.lines);
    }
  } catch (err) {
    if (err instanceof ImportFormatError) throw err;
    const code = (err as { code?: string }).code;
    // csv-parse's messages may quote a field's value (INVALID_OPENING_QUOTE does): only its code
    // and line are passed on.
    if (err instanceof CsvError || (code !== undefined && /^(CSV_|INVALID_)/.test(code))) {
      const line = (err as { lines?: unknown }).lines;
      throw new ImportFormatError(`the file is not readable as CSV (${code ?? 'unknown error'}${typeof line === 'number' ? ` at line ${line}` : ''})`);
    }
    throw err;
  }
  yield* skipped;
  if (!headerSeen && parser.info.bytes === 0) throw new ImportFormatError('the file is empty; a CSV import starts with a header naming its columns');
}

function csvProblem(err: CsvError | undefined): string {
  switch (err?.code) {
    case 'CSV_RECORD_INCONSISTENT_COLUMNS':
    case 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH':
      return 'the row does not have as many fields as the header';
    case 'CSV_INVALID_CLOSING_QUOTE':
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quoted field is not closed properly (the rows up to the next good one are skipped)';
    default:
      return `the row is not valid CSV (${err?.code ?? 'unknown error'})`;
  }
}

async function* readNdjson(input: Readable): AsyncGenerator<ImportRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const raw of lines) {
    line += 1;
    const text = raw.trim();
    if (text === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      yield { line, problem: { reason: 'invalid_json', message: 'the line is not valid JSON' } };
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      yield { line, problem: { reason: 'invalid_json', message: 'the line is not a JSON object' } };
      continue;
    }
    const fields: Partial<Record<string, string>> = {};
    let problem: RowProblem | null = null;
    for (const [key, v] of Object.entries(value)) {
      if (!(IMPORT_FIELDS as readonly string[]).includes(key)) {
        // Not quoted: a key may be an identifier (a line keyed by e-mail address).
        const meant = meantField(key.trim().toLowerCase());
        problem = {
          reason: 'unknown_field',
          message: `the line has an unknown field${meant !== null ? ` (did you mean ${meant}?)` : ''}; the fields are ${IMPORT_FIELDS.join(', ')}`,
        };
        break;
      }
      if (v === null || v === undefined) continue;
      if (typeof v === 'string') fields[key] = v.trim();
      else if (key === 'user_id' && typeof v === 'number' && Number.isSafeInteger(v)) fields[key] = String(v);
      else {
        problem = { reason: 'invalid_field', field: key, message: `${key} must be a string` };
        break;
      }
    }
    yield problem ? { line, problem } : toMember(fields, line);
  }
}
