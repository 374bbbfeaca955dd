import pg from 'pg';

/** The channel ingest and structural changes NOTIFY on commit; every worker process LISTENs. */
export const WAKE_CHANNEL = 'tailor_wake';

/** Sent inside a structural change's transaction: PostgreSQL delivers it only if that commits. */
export const NOTIFY_STRUCTURE = `SELECT pg_notify('${WAKE_CHANNEL}', 'structure')`;

/**
 * After a lost connection, listen again this soon. While the listener is down, workers find work
 * by polling (worker.ts, at least once a second); while it listens, they sleep until the next due
 * time and rely on the wake-ups.
 */
const RECONNECT_MS = 1_000;
/**
 * At most one wake-up per this interval (the first at once, one more at its end if any arrived
 * meanwhile). Under a stream of small ingest transactions (the Firehose), every commit notifies;
 * without this, every idle loop of every process would run a claim for each one.
 */
const WAKE_MIN_INTERVAL_MS = 50;

/**
 * One dedicated connection per process that LISTENs for wake-ups (LISTEN needs a session, so it
 * cannot use a pooled client). Started on the first subscriber, reconnects by itself.
 */
export class WakeListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private throttle: NodeJS.Timeout | null = null;
  private missed = false;
  /** LISTEN is in place on a live connection: every NOTIFY from now on reaches the listeners. */
  private listening = false;

  constructor(private readonly connectionString: string) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.client && !this.timer) this.connect();
    return () => {
      this.listeners.delete(listener);
    };
  }

  private connect(): void {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.connectionString, application_name: 'tailor-wake' });
    this.client = client;
    const retry = (): void => {
      if (this.client !== client) return;
      this.client = null;
      this.listening = false;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.closed) return;
      this.timer = setTimeout(() => {
        this.timer = null;
        this.connect();
      }, RECONNECT_MS);
      this.timer.unref();
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', () => this.wakeUp());
    client
      .connect()
      .then(() => client.query(`LISTEN ${WAKE_CHANNEL}`))
      .then(() => {
        if (this.client === client) this.listening = true;
        // Changes may have arrived while nobody listened: wake once now.
        this.listeners.forEach((l) => l());
      })
      .catch(retry);
  }

  private wakeUp(): void {
    if (this.throttle) {
      this.missed = true;
      return;
    }
    for (const l of this.listeners) l();
    this.throttle = setTimeout(() => {
      this.throttle = null;
      if (this.missed) {
        this.missed = false;
        this.wakeUp();
      }
    }, WAKE_MIN_INTERVAL_MS);
    this.throttle.unref();
  }

  /** Whether LISTEN is in place (workers then rely on wake-ups, not a one-second poll). */
  isListening(): boolean {
    return this.listening;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listening = false;
    if (this.throttle) clearTimeout(this.throttle);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const client = this.client;
    this.client = null;
    if (client) await client.end().catch(() => undefined);
  }
}
