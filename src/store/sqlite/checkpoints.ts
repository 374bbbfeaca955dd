import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints off the request path.
 *
 * In WAL mode every commit appends pages to the -wal file; a checkpoint copies them back into the
 * database file. By default SQLite runs one inside the commit that pushes the WAL past 1,000 pages,
 * so one request in a few pays for copying (and fsyncing) everything its predecessors wrote: the
 * ledger and outbox are keyed by hash, so a request of 1,000 members touches thousands of random
 * pages, and a CPU profile of `tailor serve` under REST ingest showed that checkpoint as about a
 * fifth of the event loop.
 *
 * So the connection that serves requests checkpoints like this instead:
 * - Every 100 ms, if it (or the writer thread's connection, writer.ts) wrote since the last look, a worker thread with its own connection runs a
 *   PASSIVE checkpoint: it copies what is committed without taking the write lock or waiting for
 *   readers, beside the event loop, and a page rewritten meanwhile is copied once. Not every
 *   second: at 50 REST requests a second a second's WAL can pass the cap, and then a request
 *   would pay for copying it all inline after all.
 * - A cap (`wal_autocheckpoint` raised from 1,000 pages to CAP_BYTES) stays as SQLite's own inline
 *   checkpoint: under back-to-back writes (a tight import loop, where timers do not run) or if the
 *   worker fails, the WAL still cannot grow past it by more than one transaction. The worker has
 *   usually copied most frames already, so that inline pass has little left to do.
 * - Closing stops the worker first, then closes the connection: the last connection to close
 *   checkpoints the whole WAL and deletes it.
 *
 * Durability is untouched: synchronous=FULL still fsyncs the WAL in every commit, so an
 * acknowledged change is on disk whether or not it has been checkpointed; after a crash SQLite
 * replays the WAL at the next open (the cap bounds how long that takes). Other processes opening
 * the file (a CLI import) checkpoint by their own settings; a checkpoint by any of them covers all.
 */
/**
 * Not larger: on a small filesystem a larger WAL can take the last free space, and the 48 MB disk of
 * test/reliability/database-faults.e2e.test.ts then stayed stuck after the fault cleared with a
 * 64 MB cap (not understood further; 16 MB passes).
 */
export const CAP_BYTES = 16 * 1024 * 1024;
/** How often the serving connection looks whether it wrote (one cheap statement), and if so asks for a checkpoint. */
const EVERY_MS = 100;
/** How long close() waits for a checkpoint in flight to end before it closes anyway. */
const CLOSE_WAIT_MS = 10_000;

/**
 * The worker's whole program (an eval'd CommonJS script, so it runs the same under tsx, vitest and
 * the compiled dist/ without a TypeScript loader). `done` is an Int32Array shared with the main
 * thread: set to 1 once the connection is closed, so close() can wait for it synchronously.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const done = new Int32Array(workerData.done);
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
      parentPort.postMessage({ ok: true });
    } catch (err) {
      parentPort.postMessage({ ok: false, message: String(err && err.message) });
    }
  } else {
    db.close();
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
    parentPort.close();
  }
});
`;

export interface Checkpoints {
  /** Stops the timer and the worker; the caller closes its connection after. Synchronous. */
  stop(): void;
}

/** Sets the serving connection's checkpoint policy (above) and starts the timer. */
export function checkpointInBackground(db: Database.Database, path: string, notice: (message: string) => void): Checkpoints {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`wal_autocheckpoint = ${Math.ceil(CAP_BYTES / pageSize)}`);
  // A reset WAL is truncated back to the cap, so a burst does not leave a large file behind.
  db.pragma(`journal_size_limit = ${CAP_BYTES}`);
  // This connection's own writes, and (data_version) those of the writer thread's connection (writer.ts).
  const changesOf = db.prepare('SELECT total_changes()').pluck();
  const versionOf = db.prepare('PRAGMA data_version').pluck();
  const changes = { get: (): string => `${versionOf.get() as number}:${changesOf.get() as number}` };
  const done = new Int32Array(new SharedArrayBuffer(4));
  let worker: Worker | null = null;
  let failed = false;
  let failing = false;
  let busy = false;
  let seen = changes.get();

  const spawn = (): Worker => {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { driver: createRequire(import.meta.url).resolve('better-sqlite3'), path, done: done.buffer },
    });
    w.unref();
    w.on('message', (m: { ok: boolean; message?: string }) => {
      busy = false;
      // A failed checkpoint (disk full, say) is tried again at the next look; said once per spell.
      if (!m.ok && !failing) notice(`a background WAL checkpoint failed (${m.message ?? 'unknown error'}); retrying`);
      failing = !m.ok;
      if (failing) {
        // A fresh connection next time: one whose checkpoint failed is not trusted to recover.
        seen = '';
        stopWorker();
      }
    });
    w.on('error', (err) => giveUp(err.message));
    return w;
  };
  // The worker itself died. The inline cap still bounds the WAL: this costs speed, not safety.
  const giveUp = (message: string): void => {
    if (failed) return;
    failed = true;
    void worker?.terminate();
    worker = null;
    notice(`background WAL checkpoints stopped (${message}); SQLite checkpoints inline at ${CAP_BYTES / 1024 / 1024} MB instead`);
  };

  const timer = setInterval(() => {
    if (failed || busy || !db.open) return;
    const now = changes.get();
    if (now === seen) return;
    seen = now;
    worker ??= spawn();
    busy = true;
    worker.postMessage('checkpoint');
  }, EVERY_MS);
  timer.unref();

  // The main connection must be the last one open, so that its close checkpoints and deletes the
  // WAL: wait for the worker's connection to close (it finishes a checkpoint in flight first).
  function stopWorker(): void {
    if (worker === null) return;
    worker.postMessage('stop');
    Atomics.wait(done, 0, 0, CLOSE_WAIT_MS);
    Atomics.store(done, 0, 0);
    void worker.terminate();
    worker = null;
    busy = false;
  }

  return {
    stop() {
      clearInterval(timer);
      stopWorker();
    },
  };
}
