import { parentPort, workerData } from 'node:worker_threads';
import type { MemberChange } from '../port.ts';
import { SqliteStore, WRITER_METHODS } from './index.ts';
import { openWriterConnection } from './open.ts';
import { callsWaitingAt, doorSlot } from './door.ts';
import type { Request, Reply, ThreadError } from './writer.ts';

/*
 * The writer thread (writer.ts is the serving thread's side): its own connection to the file, and a
 * SqliteStore on it that runs every write the serving thread hands over. Its transactions are the
 * same as on the serving thread (index.ts), and a call is answered only after its commit, so the
 * serving thread's promise still means durable. Calls arrive in the order they were made; the
 * store's own queue (applyMemberChanges) decides the order of their transactions.
 */
const { path, sliceMs, waiting } = workerData as { path: string; sliceMs: number; waiting: Int32Array };
const db = openWriterConnection(path);
// A big call's slice ends early while a call waits to be taken in (writer.ts: the door).
const store = new SqliteStore(db, sliceMs, null, { callsWaiting: (except) => callsWaitingAt(waiting, except) });
const methods = store as unknown as Record<string, ((...args: unknown[]) => Promise<unknown>) | undefined>;
const port = parentPort!;
/**
 * The sync loops' calls, started after the member changes taken in with them rather than at once:
 * the thread takes in every message queued for it in one go, and a claim or a settle started at
 * once ran its first transaction (20-60 ms, with its commit) before a Firehose message taken in
 * with it, whose sender waits for the answer (the slowest answers of a trace, session 9). So they
 * start a turn later, once the small calls in line by then are answered (index.ts
 * afterSmallCalls); a sync loop awaits each of its calls, so its own order is kept.
 */
const BEHIND = new Set<(typeof WRITER_METHODS)[number]>([
  'claim',
  'nextDueAt',
  'release',
  'settleSent',
  'settleCreated',
  'settleRefreshed',
  'settleRenamed',
  'settleRejected',
  'settleNotFound',
  'settleDeleted',
  'recordDelivery',
  'recordCreateAttempt',
  'takeRateToken',
  'holdRate',
  'holdDeletion',
  'pruneXData',
  'claimWebhooks',
  'settleWebhook',
]);

/** The pieces of a large applyMemberChanges call, until its last arrives (writer.ts sends them apart). */
const pieces = new Map<number, MemberChange[]>();

const errorOf = (err: unknown): ThreadError => {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err), props: {} };
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) if (typeof v !== 'function' && typeof v !== 'object') props[k] = v;
  return { name: err.name, className: err.constructor.name, message: err.message, stack: err.stack, props };
};

/** Calls not yet answered: a stop waits for them, so no transaction is cut off by the close. */
const inflight = new Set<Promise<unknown>>();

const answer = (id: number, run: () => Promise<unknown>): void => {
  const p = run().then(
    (value) => port.postMessage({ id, ok: true, value } satisfies Reply),
    (err: unknown) => port.postMessage({ id, ok: false, error: errorOf(err) } satisfies Reply),
  );
  inflight.add(p);
  void p.finally(() => inflight.delete(p));
};

port.on('message', (m: Request) => {
  if (m.kind === 'call' && m.method === 'applyMemberChanges') Atomics.sub(waiting, doorSlot(m.args[0] as string), 1);
  if (m.kind === 'stop') {
    void Promise.allSettled([...inflight]).then(() => {
      db.close();
      port.close();
    });
    return;
  }
  if (m.kind === 'piece') {
    const got = pieces.get(m.id) ?? [];
    for (const c of m.changes) got.push(c);
    pieces.set(m.id, got);
    // The serving thread posts the next pieces as these are taken (writer.ts PIECES_AHEAD).
    port.postMessage({ id: m.id, took: 'piece' } satisfies Reply);
    return;
  }
  if (m.method === 'applyMemberChanges' && m.pieces) {
    const changes = pieces.get(m.id) ?? [];
    pieces.delete(m.id);
    const [audienceId, , now, rejections] = m.args as Parameters<SqliteStore['applyMemberChanges']>;
    answer(m.id, () => store.applyMemberChanges(audienceId, changes, now, rejections));
    return;
  }
  const fn = methods[m.method];
  if (typeof fn !== 'function') {
    port.postMessage({ id: m.id, ok: false, error: { name: 'Error', message: `no store method ${m.method}`, props: {} } } satisfies Reply);
    return;
  }
  if (BEHIND.has(m.method as (typeof WRITER_METHODS)[number])) answer(m.id, () => store.afterSmallCalls().then(() => fn.apply(store, m.args)));
  else answer(m.id, () => fn.apply(store, m.args));
});
