/** Running `tailor import` as a child process on a Tailor's database, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { TailorProcess } from '../e2e/harness.ts';

export interface ImportRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function startImport(tailor: TailorProcess, args: string[]): { child: ChildProcess; done: Promise<ImportRun> } {
  const child = spawn(process.execPath, ['bin/tailor.js', 'import', ...args], {
    // The database and the server's secret (it keys user ids): an import needs no X credentials.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      TAILOR_DATABASE_URL: tailor.env.TAILOR_DATABASE_URL!,
      TAILOR_SECRET_KEY: tailor.env.TAILOR_SECRET_KEY!,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<ImportRun>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

export function runImport(tailor: TailorProcess, args: string[]): Promise<ImportRun> {
  return startImport(tailor, args).done;
}

/** Writes lines to a file with backpressure (a million rows without holding them). */
export async function writeLines(path: string, header: string | null, count: number, line: (i: number) => string): Promise<void> {
  const out = createWriteStream(path);
  if (header !== null) out.write(`${header}\n`);
  for (let i = 0; i < count; i += 1) {
    if (!out.write(`${line(i)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}
