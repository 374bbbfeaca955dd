/**
 * Import progress on stderr: a live bar on a terminal (rows, rate, ETA), plain lines otherwise
 * (CI logs, files). The ETA comes from the bytes of the file read so far, which is known from
 * the start, rather than from rows, whose total is not.
 */
import cliProgress from 'cli-progress';

/** Plain progress lines this often when stderr is not a terminal: readable in a log, not noisy. */
const PLAIN_EVERY_MS = 5_000;

export interface ProgressReporter {
  /** bytes: of the file read so far; rows: data rows applied or rejected so far. */
  update(bytes: number, rows: number): void;
  /** ok: false when the import failed; the bar is cleared away, no final line is written. */
  done(bytes: number, rows: number, ok: boolean): void;
}

const rowsFmt = new Intl.NumberFormat('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function progressReporter(totalBytes: number, stream: NodeJS.WriteStream = process.stderr, clock: () => number = Date.now): ProgressReporter {
  const started = clock();
  const rate = (rows: number): number => {
    const seconds = (clock() - started) / 1000;
    return seconds > 0 ? Math.round(rows / seconds) : 0;
  };

  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: 'importing [{bar}] {percentage}% | {rows} rows | {rate} rows/s | ETA {eta_formatted}',
        barsize: 30,
        hideCursor: true,
        // The rate of a long import changes slowly; a wide buffer keeps the ETA from jumping.
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(Math.max(1, totalBytes), 0, { rows: '0', rate: '0' });
    return {
      update: (bytes, rows) => bar.update(bytes, { rows: rowsFmt.format(rows), rate: rowsFmt.format(rate(rows)) }),
      done: (bytes, rows, ok) => {
        if (ok) bar.update(bytes, { rows: rowsFmt.format(rows), rate: rowsFmt.format(rate(rows)) });
        bar.stop();
      },
    };
  }

  let lastAt = started;
  const line = (bytes: number, rows: number, final: boolean): void => {
    const elapsed = (clock() - started) / 1000;
    const fraction = totalBytes > 0 ? Math.min(1, bytes / totalBytes) : 1;
    const eta = fraction > 0 ? (elapsed / fraction) * (1 - fraction) : Infinity;
    const pct = (fraction * 100).toFixed(1);
    stream.write(
      final
        ? `import: ${rowsFmt.format(rows)} rows in ${duration(elapsed)} (${rowsFmt.format(rate(rows))} rows/s)\n`
        : `import: ${pct}% | ${rowsFmt.format(rows)} rows | ${rowsFmt.format(rate(rows))} rows/s | ETA ${duration(eta)}\n`,
    );
  };
  return {
    update: (bytes, rows) => {
      if (clock() - lastAt < PLAIN_EVERY_MS) return;
      lastAt = clock();
      line(bytes, rows, false);
    },
    done: (bytes, rows, ok) => {
      if (ok) line(bytes, rows, true);
    },
  };
}
