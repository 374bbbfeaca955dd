/** What the figures were measured on: machine, software versions, commit, load. */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import Database from 'better-sqlite3';
import pg from 'pg';

export interface Machine {
  date: string;
  commit: string;
  command: string;
  cpu: string;
  cores: number;
  memoryBytes: number;
  node: string;
  sqlite: string;
  postgres: string | null;
  loadAtStart: number[];
}

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function machine(command: string, postgresUrl: string | null): Promise<Machine> {
  // Only what the figures depend on: other people's work in progress elsewhere does not count.
  const dirty = git(['status', '--porcelain', '--untracked-files=no', '--', 'src', 'bench', 'bin', 'package.json', 'package-lock.json']) !== '';
  let postgres: string | null = null;
  if (postgresUrl) {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    postgres = ((await client.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown').split(' ')[0]!;
    await client.end();
  }
  const db = new Database(':memory:');
  const sqlite = db.prepare('SELECT sqlite_version()').pluck().get() as string;
  db.close();
  return {
    date: new Date().toISOString(),
    commit: `${git(['rev-parse', '--short=12', 'HEAD'])}${dirty ? ' (with uncommitted changes in src, bench or package.json)' : ''}`,
    command,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memoryBytes: totalmem(),
    node: process.version,
    sqlite,
    postgres,
    loadAtStart: loadavg(),
  };
}
