import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Emu, TailorProcess, sha, waitFor } from '../e2e/harness.ts';
import { runImport, startImport, writeLines } from './cli.ts';

/**
 * `tailor import` end to end: a real `tailor serve` syncing to the emulator, and the import run as
 * its own process on the same SQLite database (WAL lets both write). The emulator is the judge.
 */
describe('tailor import', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let configId: string;
  let accountId: string;
  const dir = mkdtempSync(join(tmpdir(), 'tailor-import-'));

  beforeAll(async () => {
    emu = await Emu.start();
    accountId = emu.admin().accountId;
    tailor = await TailorProcess.start(emu, { env: { TAILOR_LOG_LEVEL: 'warn' } });
    configId = await tailor.addConfiguration(emu);
  });
  afterAll(async () => {
    await tailor?.stop();
    await emu?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function audience(id: string): Promise<void> {
    expect((await tailor.api('PUT', `/audiences/${id}`, { name: `Import ${id}` })).status).toBe(201);
    expect((await tailor.api('PUT', `/audiences/${id}/connections/${configId}`, {})).status).toBe(201);
  }

  /** Waits until nothing is pending for the type and X holds `count` hashes per Tailor, then returns X's hashes. */
  async function synced(id: string, type: string, count: number, timeoutMs = 60_000): Promise<Set<string>> {
    await waitFor(
      `${id} ${type}: ${count} members on X, nothing pending`,
      async () => {
        const d = (await tailor.downstreams(id))[type];
        return d?.pending === 0 && d.members === count && d.x_audience_id;
      },
      timeoutMs,
      250,
    );
    const d = (await tailor.downstreams(id))[type];
    return new Set((await emu.members(accountId, d.x_audience_id))[type] ?? []);
  }

  it('imports 1,000,000 rows; the emulator ends with exactly their hashes; the importer stays small', async () => {
    await audience('big');
    const file = join(dir, 'big.csv');
    const N = 1_000_000;
    // Every row an e-mail (raw, mixed case: normalized before hashing); every tenth a handle too.
    await writeLines(file, 'user_id,email,twitter_handle', N, (i) => `u${i},User${i}@Example.com,${i % 10 === 0 ? `@Handle${i}` : ''}`);

    const run = await runImport(tailor, [file, '--audience', 'big', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ rows: N, accepted: N, rejectedRows: 0, reasons: {}, interrupted: false });
    // Streaming in chunks: a generous bound, far below what holding a million rows would take.
    expect(summary.max_rss_bytes).toBeLessThan(400 * 1024 * 1024);
    expect(run.stderr).toMatch(/import: 1,000,000 rows in/);

    const emails = await synced('big', 'email', N, 180_000);
    expect(emails.size).toBe(N);
    for (let i = 0; i < N; i += 1) if (!emails.has(sha(`user${i}@example.com`))) throw new Error(`email of row ${i} missing on X`);
    const handles = await synced('big', 'handle', N / 10);
    expect(handles.size).toBe(N / 10);
    for (let i = 0; i < N; i += 10) if (!handles.has(sha(`handle${i}`))) throw new Error(`handle of row ${i} missing on X`);
  }, 300_000);

  it('reports malformed rows with their line numbers and imports the rest; --remove takes members out', async () => {
    await audience('mixed');
    const file = join(dir, 'mixed.csv');
    writeFileSync(
      file,
      [
        'user_id,email,twitter_handle',
        'm1,one@example.com,',
        'm2,two@example.com,@two',
        'm3,three@example.com,@three,extra',
        'm4,not-an-email,@four',
        ',,',
        'm6,Six@Example.com,@six',
        '',
      ].join('\n'),
    );
    const run = await runImport(tailor, [file, '--audience', 'mixed']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/rows read\s+6/);
    expect(run.stdout).toMatch(/rows applied\s+4/);
    expect(run.stdout).toMatch(/rows rejected\s+2/);
    expect(run.stdout).toContain('line 4: the row does not have as many fields as the header (malformed_row)');
    expect(run.stdout).toContain('line 5: email: ');
    expect(run.stdout).toContain('(invalid_email)');
    expect(run.stdout).toContain('line 6: the row has no user_id and no identifier (empty_row)');
    // Reasons, never values.
    expect(run.stdout).not.toContain('not-an-email');
    const emails = await synced('mixed', 'email', 3);
    expect([...emails].sort()).toEqual([sha('one@example.com'), sha('two@example.com'), sha('six@example.com')].sort());
    const handles = await synced('mixed', 'handle', 3);
    expect([...handles].sort()).toEqual([sha('two'), sha('four'), sha('six')].sort());

    const removal = join(dir, 'remove.ndjson');
    writeFileSync(removal, '{"user_id":"m1"}\n{"user_id":"m2"}\nnot json\n');
    const removed = await runImport(tailor, [removal, '--audience', 'mixed', '--remove', '--json']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({
      action: 'remove',
      rows: 3,
      accepted: 2,
      rejectedRows: 1,
      problems: [{ line: 3, reason: 'invalid_json' }],
    });
    expect([...(await synced('mixed', 'email', 1))]).toEqual([sha('six@example.com')]);
    expect([...(await synced('mixed', 'handle', 2))].sort()).toEqual([sha('four'), sha('six')].sort());
  });

  it('can be killed mid-file and run again without harm', async () => {
    await audience('again');
    const file = join(dir, 'again.ndjson');
    const N = 200_000;
    await writeLines(file, null, N, (i) => JSON.stringify({ user_id: `a${i}`, email: `again${i}@example.com` }));

    const first = startImport(tailor, [file, '--audience', 'again', '--json']);
    // Killed without warning once some chunks are committed (members > 0) and before the end.
    await waitFor('a first chunk to be committed', async () => (await tailor.audience('again')).members > 0, 60_000, 20);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.stdout).toBe(''); // no summary: it did not finish
    const partial = (await tailor.audience('again')).members;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(N);

    const second = await runImport(tailor, [file, '--audience', 'again', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ rows: N, accepted: N, rejectedRows: 0 });
    const emails = await synced('again', 'email', N, 120_000);
    expect(emails.size).toBe(N);
    for (let i = 0; i < N; i += 1) if (!emails.has(sha(`again${i}@example.com`))) throw new Error(`row ${i} missing on X`);
    expect((await tailor.audience('again')).members).toBe(N);
  }, 240_000);

  it('refuses an unknown column, an unknown audience and an unknown format with a clear message and exit code 1', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'user_id,emial\nu1,a@example.com\n');
    const unknownColumn = await runImport(tailor, [bad, '--audience', 'mixed']);
    expect(unknownColumn.code).toBe(1);
    expect(unknownColumn.stderr).toContain(
      'the CSV header has an unknown column: column 2 (did you mean email?); the columns are user_id, email, twitter_handle, ios_advertising_id, google_advertising_id, phone_number',
    );

    const good = join(dir, 'good.csv');
    writeFileSync(good, 'email\na@example.com\n');
    const noAudience = await runImport(tailor, [good, '--audience', 'nope']);
    expect(noAudience.code).toBe(1);
    expect(noAudience.stderr).toContain('audience nope does not exist');

    const txt = join(dir, 'members.txt');
    writeFileSync(txt, 'email\na@example.com\n');
    const unknownFormat = await runImport(tailor, [txt, '--audience', 'mixed']);
    expect(unknownFormat.code).toBe(1);
    expect(unknownFormat.stderr).toContain('--format');
    expect((await runImport(tailor, [txt, '--audience', 'mixed', '--format', 'csv'])).code).toBe(0);

    const missing = await runImport(tailor, [join(dir, 'missing.csv'), '--audience', 'mixed']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cannot read');
  });
});
