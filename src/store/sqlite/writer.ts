import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import * as errors from '../../core/errors.ts';
import { yieldLoop } from '../../core/pace.ts';
import { ownFile } from '../../files.ts';
import type { MemberChange } from '../port.ts';
import { DOOR_SLOTS, doorSlot } from './door.ts';

/*
 * The serving thread's side of the SQLite writer thread (writer-thread.ts), issue 13.
 *
 * better-sqlite3 is synchronous: a transaction on the serving thread holds the event loop for its
 * whole length, commit (WAL fsync) included, and no request is read or answered meanwhile. So every
 * write of a serving store (member changes, claims, settles, and the admin writes too: one writer
 * per process, no lock between two) runs in a worker thread with its own connection, and the
 * serving thread only posts the call and awaits the answer, which comes after the commit. The
 * serving connection keeps the reads and is made read-only (index.ts), so a write that bypassed
 * the thread would fail loudly rather than race it.
 *
 * What the serving thread still does per call is copy its arguments (structured clone): a large
 * applyMemberChanges is posted in pieces of PIECE changes, the event loop free between them and
 * never more than PIECES_AHEAD of them ahead of the thread, and the thread applies the call once
 * its last piece is in. If the thread dies, every call waiting on
 * it fails with StoreUnavailableError (a 503: senders retry), and the next call starts a new one.
 *
 * The door: `waiting`, an Int32Array shared with the thread, counts the applyMemberChanges calls
 * posted and not yet taken in, in the slot of their audience (doorSlot: one added here per call,
 * one taken there per such call received). The thread cannot read a message while a transaction
 * runs, but it can read this: a big call ends its slice early when a call of another audience
 * waits (index.ts write()), so a small call (a Firehose message) waits for a short slice and a
 * commit rather than one grown long. A call of the big call's own audience would gain nothing from
 * the cut (it is applied after the big one anyway) and is not counted against it: cuts for it only
 * cost commits (measured: the Firehose from 4 senders into one audience lost a fifth of its rate).
 * Only member changes are counted: they answer requests, while the sync loop's calls (a nextDueAt
 * every turn) would cut every slice short and can wait one. Pieces are not counted: they are not calls.
 */
/** About 5 ms of structured clone on the serving thread (pieces of 2,000 showed up to about 50 ms in a profile on a busy machine). */
const PIECE = 500;

/**
 * Pieces posted and not yet taken in by the thread, at most. The thread reads every message
 * queued for it in one go, a piece costing it about 2.5 ms to copy in, so a call posted behind a
 * whole 100,000-member request's pieces waited for all of them (about 0.5 s, seen in a trace);
 * posted a few at a time, as the thread takes them, a call waits behind a few.
 */
const PIECES_AHEAD = 4;

export type Request =
  { kind: 'call'; id: number; method: string; args: unknown[]; pieces?: boolean } | { kind: 'piece'; id: number; changes: MemberChange[] } | { kind: 'stop' };
export interface ThreadError {
  name: string;
  className?: string;
  message: string;
  stack?: string | undefined;
  props: Record<string, unknown>;
}
export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: ThreadError } | { id: number; took: 'piece' };

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** The thread's file: its own bundle entry at the top of dist/ (scripts/build.mjs), or the .ts source under tsx/vitest (loaded through tsx). */
function threadEntry(): { source: string; eval: boolean } | { file: URL; eval: false } {
  const built = ownFile('writer-thread.js');
  if (import.meta.url.endsWith('.js') && existsSync(built)) return { file: built, eval: false };
  const tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const entry = ownFile('store/sqlite/writer-thread.ts').href;
  return { source: `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, eval: true };
}

/** Rebuilds a thread's error as the class the callers test for (StoreUnavailableError, Refusal, TypeError...). */
function rebuild(e: ThreadError): Error {
  const known = (errors as Record<string, unknown>)[e.className ?? ''] ?? (globalThis as Record<string, unknown>)[e.className ?? ''];
  const proto = typeof known === 'function' && known.prototype instanceof Error ? (known.prototype as object) : Error.prototype;
  const err = Object.create(proto) as Error;
  Object.assign(err, e.props);
  Object.defineProperty(err, 'message', { value: e.message, writable: true, configurable: true });
  Object.defineProperty(err, 'name', { value: e.name, writable: true, configurable: true });
  Object.defineProperty(err, 'stack', {
    value: `${e.stack ?? `${e.name}: ${e.message}`}\n    (in the SQLite writer thread)`,
    writable: true,
    configurable: true,
  });
  return err;
}

export class WriterClient {
  private worker: Worker | null = null;
  /** Member-change calls posted to `worker` and not yet taken in by it, per audience slot (the door, above; door.ts); one per thread. */
  private waiting = new Int32Array(new SharedArrayBuffer(4 * DOOR_SLOTS));
  private readonly pending = new Map<number, Pending>();
  private next = 1;
  private closing: Promise<void> | null = null;

  constructor(
    private readonly path: string,
    private readonly sliceMs: number,
  ) {}

  private spawn(): Worker {
    const entry = threadEntry();
    this.waiting = new Int32Array(new SharedArrayBuffer(4 * DOOR_SLOTS));
    const workerData = { path: this.path, sliceMs: this.sliceMs, waiting: this.waiting };
    const w = 'file' in entry ? new Worker(entry.file, { workerData }) : new Worker(entry.source, { eval: true, workerData });
    // An idle thread does not keep the process alive; a waiting call does (see wait()).
    w.unref();
    w.on('message', (m: Reply) => {
      if ('took' in m) {
        if (this.worker === w) this.tookPiece();
        return;
      }
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) w.unref();
      if (m.ok) p.resolve(m.value);
      else p.reject(rebuild(m.error));
    });
    const died = (why: string): void => {
      if (this.worker !== w) return;
      this.worker = null;
      this.piecesAhead = 0;
      this.wakePosters();
      const waiting = [...this.pending.values()];
      this.pending.clear();
      for (const p of waiting) p.reject(new errors.StoreUnavailableError(`the SQLite writer thread stopped (${why}); the change may not have been made`));
    };
    w.on('error', (err) => died(err.message));
    w.on('exit', (code) => died(`exit code ${code}`));
    return w;
  }

  private post(m: Request): void {
    if (this.closing) throw new errors.StoreUnavailableError('the store is closed');
    this.worker ??= this.spawn();
    if (m.kind === 'call' && m.method === 'applyMemberChanges') Atomics.add(this.waiting, doorSlot(m.args[0] as string), 1);
    this.worker.postMessage(m);
  }

  private wait(id: number, p: Pending): void {
    this.pending.set(id, p);
    this.worker?.ref();
  }

  /** Runs the store's `method` in the thread; resolves with its result once committed there. */
  call(method: string, args: unknown[]): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      // post() throws (synchronously, so the executor rejects) once the store is closed.
      this.post({ kind: 'call', id, method, args });
      this.wait(id, { resolve, reject });
    });
  }

  /**
   * applyMemberChanges, its changes posted in pieces when many (the event loop free between them).
   * A call for an audience whose big call is still being posted is posted after it, so the thread
   * gets one audience's calls in the order they were made; other audiences' calls do not wait.
   */
  apply(args: [string, MemberChange[], number, Record<string, number> | undefined]): Promise<unknown> {
    const audienceId = args[0];
    const before = this.posting.get(audienceId);
    if (before === undefined && args[1].length <= PIECE) return this.call('applyMemberChanges', args);
    const posted = (before ?? Promise.resolve()).then(() => (args[1].length <= PIECE ? null : this.postPieces(args[1])));
    const mine = posted.then(
      () => undefined,
      () => undefined,
    );
    this.posting.set(audienceId, mine);
    void mine.then(() => {
      if (this.posting.get(audienceId) === mine) this.posting.delete(audienceId);
    });
    return posted.then((id) => (id === null ? this.call('applyMemberChanges', args) : this.callPieced(id, args)));
  }

  /** Audiences with a call still being posted in pieces (or queued behind one). */
  private readonly posting = new Map<string, Promise<void>>();

  private callPieced(id: number, args: [string, MemberChange[], number, Record<string, number> | undefined]): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.post({ kind: 'call', id, method: 'applyMemberChanges', args: [args[0], [], args[2], args[3]], pieces: true });
      this.wait(id, { resolve, reject });
    });
  }

  /** Pieces posted to the current thread and not yet taken in, and the posters waiting for one to be. */
  private piecesAhead = 0;
  private readonly pieceWaiters: (() => void)[] = [];

  private wakePosters(): void {
    for (const wake of this.pieceWaiters.splice(0)) wake();
  }

  private tookPiece(): void {
    this.piecesAhead = Math.max(0, this.piecesAhead - 1);
    this.wakePosters();
  }

  private async postPieces(changes: MemberChange[]): Promise<number> {
    const id = this.next++;
    const worker = (this.worker ??= this.spawn());
    for (let from = 0; from < changes.length; from += PIECE) {
      // A thread that died meanwhile lost the pieces: fail rather than apply part of a call.
      if (this.worker !== worker) throw new errors.StoreUnavailableError('the SQLite writer thread stopped; the change was not made');
      this.post({ kind: 'piece', id, changes: changes.slice(from, from + PIECE) });
      this.piecesAhead += 1;
      await yieldLoop();
      while (this.piecesAhead >= PIECES_AHEAD && this.worker === worker) await new Promise<void>((resolve) => this.pieceWaiters.push(resolve));
    }
    if (this.worker !== worker) throw new errors.StoreUnavailableError('the SQLite writer thread stopped; the change was not made');
    return id;
  }

  /** Ends the thread (a call in flight first finishes: the thread takes messages in order) and its connection. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const w = this.worker;
      if (w === null) return resolve();
      const closed = setTimeout(() => void w.terminate(), 30_000);
      w.once('exit', () => {
        clearTimeout(closed);
        resolve();
      });
      w.postMessage({ kind: 'stop' } satisfies Request);
    });
    return this.closing;
  }

  /** Tests: the thread dies as a crash would end it. */
  kill(): Promise<number> {
    return this.worker?.terminate() ?? Promise.resolve(0);
  }
}
