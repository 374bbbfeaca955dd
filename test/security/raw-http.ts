/**
 * HTTP/1.1 over a bare socket, for what fetch and `app.inject` cannot send: absolute-form targets
 * (`GET http://host/path HTTP/1.1`), unnormalized paths (`/a/../b`, `//a`), odd Host headers,
 * slow and idle clients.
 */
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Time from sending to the connection's close. */
  ms: number;
}

/** Parses what a server sent on a connection it then closed (one response). */
export function parseResponse(text: string, ms: number): RawResponse {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const [statusLine = '', ...lines] = head.split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status, headers, body: end < 0 ? '' : text.slice(end + 4), ms };
}

export interface RawRequest {
  method: string;
  target: string;
  headers?: Record<string, string>;
  body?: string;
  /** Host header; `null` leaves it out. Default `127.0.0.1:<port>`. */
  host?: string | null;
}

/** One request on its own connection (`Connection: close`); resolves when the server closes it. */
export function rawRequest(port: number, r: RawRequest, timeoutMs = 10_000): Promise<RawResponse> {
  const headers: Record<string, string> = { ...(r.host === null ? {} : { host: r.host ?? `127.0.0.1:${port}` }), connection: 'close', ...r.headers };
  if (r.body !== undefined) headers['content-length'] = String(Buffer.byteLength(r.body));
  const text = `${r.method} ${r.target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n${r.body ?? ''}`;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer in ${timeoutMs} ms to ${r.method} ${r.target}`));
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined); // a reset after the answer still ends in 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseResponse(Buffer.concat(chunks).toString('utf8'), Date.now() - started));
    });
    socket.write(text);
  });
}

/** An open connection whose close (and anything received before it) can be awaited. */
export interface HeldSocket {
  socket: Socket;
  closed: Promise<RawResponse>;
  /** The response's status line and headers, as soon as they arrive (the body still unsent, maybe). */
  head(timeoutMs?: number): Promise<RawResponse>;
}

/** Opens a connection and sends `initial`; the caller drips the rest, or nothing. */
export function holdSocket(port: number, initial = ''): Promise<HeldSocket> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined);
    const closed = new Promise<RawResponse>((done) =>
      socket.on('close', () => done(parseResponse(Buffer.concat(chunks).toString('utf8'), Date.now() - started))),
    );
    const head = (timeoutMs = 5_000) =>
      new Promise<RawResponse>((done, fail) => {
        const check = (): void => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (!text.includes('\r\n\r\n')) return;
          clearTimeout(timer);
          socket.off('data', check);
          done(parseResponse(text, Date.now() - started));
        };
        const timer = setTimeout(() => {
          socket.off('data', check);
          fail(new Error(`no response head in ${timeoutMs} ms`));
        }, timeoutMs);
        socket.on('data', check);
        check();
      });
    socket.once('connect', () => {
      if (initial) socket.write(initial);
      resolve({ socket, closed, head });
    });
    socket.once('error', reject);
  });
}

/** Runs `fn` over `items`, `width` at a time. */
export async function inPool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
