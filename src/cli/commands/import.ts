/**
 * `tailor import FILE --audience ID [--remove]`: bulk add (or remove) members from CSV or NDJSON,
 * straight into the database named by TAILOR_DATABASE_URL (no X credentials needed; the server's
 * TAILOR_SECRET_KEY keys the rows' user ids). A running `tailor serve` or `tailor worker` on the
 * same database sends the queued changes to X; on SQLite the import and the server share the file
 * safely (WAL, busy timeout).
 *
 * Exit codes: 0 when the file was processed (even with rejected rows: see the summary), 1 on an
 * I/O or format error or an unknown audience, 2 on a bad environment or flag, 130 on interrupt.
 */
import type { Command } from 'commander';
import { createReadStream, statSync } from 'node:fs';
import type { ImportSummary } from '../../sources/import/run.ts';
import type { ImportFormat } from '../../sources/import/read.ts';
import { Refusal } from '../../core/errors.ts';
import { exitCodeOf } from '../refusal.ts';
import { configOrExit, exitOnConfigError } from '../run.ts';

interface Flags {
  audience: string;
  remove?: boolean;
  format?: string;
  json?: boolean;
  dryRun?: boolean;
}

const fmt = new Intl.NumberFormat('en-US');

/**
 * The import's SQLite transactions (OpenOptions.sliceMs): it answers no requests, so longer than a
 * server's, for fewer commits; short enough that a `tailor serve` on the same file is not held up long.
 */
const IMPORT_SLICE_MS = 100;

function fail(message: string, code = 1): never {
  process.stderr.write(`tailor import: ${message}\n`);
  process.exit(code);
}

export function register(program: Command): void {
  program
    .command('import')
    .description('bulk add (or remove) members of an audience from a CSV or NDJSON file, in constant memory')
    .argument(
      '<file>',
      'CSV with a header (user_id, email, twitter_handle, ios_advertising_id, google_advertising_id, phone_number) or NDJSON with those fields',
    )
    .requiredOption('--audience <id>', 'the audience to change (it must exist)')
    .option('--remove', 'remove the members instead of adding them')
    .option('--format <format>', 'csv or ndjson (default: from the extension .csv, .ndjson, .jsonl)')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--dry-run', 'report what the file would change (adds, removes, already present, rejected by reason, per identity type) and write nothing')
    .action(async (file: string, flags: Flags) => {
      // Loaded here, not at the top: every other command (and `tailor --help`) would pay for them.
      const [{ importMembers }, { progressReporter }, { formatOf }, { MemberKeys }, { openStore }] = await Promise.all([
        import('../../sources/import/run.ts'),
        import('../../sources/import/progress.ts'),
        import('../../sources/import/read.ts'),
        import('../../membership/member-key.ts'),
        import('../../store/open.ts'),
      ]);
      // The secret keys the rows' user ids exactly as the server keys them (src/membership/member-key.ts).
      const config = configOrExit({ secretKey: true });
      const memberKeys = new MemberKeys(config.secretKey ?? '');
      let format: ImportFormat;
      if (flags.format !== undefined) {
        if (flags.format !== 'csv' && flags.format !== 'ndjson') fail(`--format must be csv or ndjson, got "${flags.format}"`, 2);
        format = flags.format;
      } else {
        format = formatOf(file) ?? fail(`cannot tell the format of ${file} from its name; name it .csv, .ndjson or .jsonl, or pass --format csv|ndjson`);
      }
      let size: number;
      try {
        const stat = statSync(file);
        if (!stat.isFile()) fail(`${file} is not a file`);
        size = stat.size;
      } catch (err) {
        fail(`cannot read ${file}: ${(err as Error).message}`);
      }

      const store = await exitOnConfigError(() =>
        openStore(config.database, { memberKey: (kind, raw) => memberKeys.of(kind, raw), sliceMs: IMPORT_SLICE_MS, writerThread: false }),
      );
      const action = flags.remove ? 'remove' : 'add';
      let summary: ImportSummary;
      try {
        const audience = await store.getAudience(flags.audience);
        if (!audience) fail(`audience ${flags.audience} does not exist; create it first (PUT /api/v1/audiences/${flags.audience} or the web UI)`);

        const input = createReadStream(file);
        let bytes = 0;
        input.on('data', (chunk) => (bytes += chunk.length));
        const progress = progressReporter(size);
        let rows = 0;
        // First Ctrl-C: stop after the chunks already applied (they are kept); second: at once.
        let stop = false;
        process.on('SIGINT', () => {
          if (stop) process.exit(130);
          stop = true;
        });
        let ok = false;
        try {
          summary = await importMembers({
            store,
            memberKeys,
            phoneRegion: config.defaultPhoneRegion,
            audienceId: audience.id,
            action,
            input,
            format,
            onProgress: (p) => {
              rows = p.rows;
              progress.update(bytes, rows);
            },
            shouldStop: () => stop,
            ...(flags.dryRun ? { dryRun: true } : {}),
          });
          ok = true;
        } finally {
          progress.done(bytes, rows, ok);
        }
      } catch (err) {
        await store.close();
        if (err instanceof Refusal) fail(`${file}: ${err.message}`, exitCodeOf(err.code));
        const code = (err as NodeJS.ErrnoException).code;
        if (typeof code === 'string' && code.startsWith('E')) fail(`cannot read ${file}: ${(err as Error).message}`);
        throw err;
      }
      await store.close();
      report(file, flags, summary);
      process.exitCode = summary.interrupted ? 130 : 0;
    });
}

function report(file: string, flags: Flags, s: ImportSummary): void {
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ file, audience: flags.audience, ...(s.preview ? { dry_run: true } : {}), ...s, rejected_rows: s.rejectedRows, max_rss_bytes: maxRssBytes })}\n`,
    );
    return;
  }
  const out: string[] = [];
  if (s.preview) {
    reportDryRun(out, file, flags, s);
    process.stdout.write(`${out.join('\n')}\n`);
    return;
  }
  out.push(`${s.interrupted ? 'Interrupted import' : 'Imported'} ${file} into audience ${flags.audience} (${s.action}):`);
  out.push(`  rows read       ${fmt.format(s.rows)}`);
  out.push(`  rows applied    ${fmt.format(s.accepted)}`);
  out.push(`  rows rejected   ${fmt.format(s.rejectedRows)}`);
  out.push(`  changes queued  ${fmt.format(s.queued)} (for X, across the audience's downstream audiences)`);
  const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) {
    out.push('Dropped, by reason (rows and identifiers):');
    for (const [reason, n] of reasons) out.push(`  ${reason.padEnd(28)} ${fmt.format(n)}`);
    out.push(`First ${s.problems.length} problems:`);
    for (const p of s.problems) out.push(`  line ${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message} (${p.reason})`);
  }
  out.push(
    s.interrupted
      ? 'The chunks applied before the interruption are kept; run the same command again to finish (rows already applied change nothing).'
      : `A running Tailor (serve or worker) on this database sends the queued changes to X; follow them with GET /api/v1/audiences/${flags.audience}.`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

/** The dry run's report: what would change, per identity type; nothing was written. */
function reportDryRun(out: string[], file: string, flags: Flags, s: ImportSummary): void {
  out.push(`Dry run of ${file} into audience ${flags.audience} (${s.action}); nothing was written:`);
  out.push(`  rows read       ${fmt.format(s.rows)}`);
  out.push(`  rows accepted   ${fmt.format(s.accepted)}`);
  out.push(`  rows rejected   ${fmt.format(s.rejectedRows)}`);
  out.push('  identity type   would add   would remove   already present   X adds   X removes');
  for (const [type, c] of Object.entries(s.preview ?? {})) {
    const n = (v: number, w: number) => fmt.format(v).padStart(w);
    out.push(`  ${type.padEnd(14)}${n(c.add, 11)}${n(c.remove, 15)}${n(c.alreadyPresent, 18)}${n(c.xAdd, 9)}${n(c.xRemove, 12)}`);
  }
  const reasons = Object.entries(s.reasons).sort((a, b) => b[1] - a[1]);
  if (reasons.length > 0) {
    out.push('Would be dropped, by reason (rows and identifiers):');
    for (const [reason, n] of reasons) out.push(`  ${reason.padEnd(28)} ${fmt.format(n)}`);
    out.push(`First ${s.problems.length} problems:`);
    for (const p of s.problems) out.push(`  line ${p.line}: ${p.field ? `${p.field}: ` : ''}${p.message} (${p.reason})`);
  }
}
