/**
 * Closes the network to everything but this machine's loopback, in every test worker: a test that
 * would reach out (a real X host left in a default, a DNS name) fails at once with the address it
 * tried, instead of hanging or talking to the internet. Processes that tests spawn are pointed at
 * loopback by the harnesses; this guards the test code itself. Unix sockets pass.
 */
import net from 'node:net';

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\]|::ffff:127(?:\.\d{1,3}){3})$/i;

/** Exported for its own test. */
export function isLoopback(host: string | undefined): boolean {
  // Node's default host for a bare port is localhost.
  return host === undefined || host === '' || LOOPBACK.test(host);
}

type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
const connect = net.Socket.prototype.connect as unknown as Connect;

function targetOf(args: unknown[]): { host?: string; path?: string } {
  const first = Array.isArray(args[0]) ? (args[0] as unknown[])[0] : args[0];
  if (typeof first === 'object' && first !== null) return first;
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  const host = args[1];
  return { host: typeof host === 'string' ? host : undefined };
}

(net.Socket.prototype as unknown as { connect: Connect }).connect = function guarded(this: net.Socket, ...args: unknown[]): net.Socket {
  const target = targetOf(args);
  if (target.path === undefined && !isLoopback(target.host)) {
    throw new Error(`Tests may only reach loopback; refused a connection to ${String(target.host)} (test/support/loopback-only.ts)`);
  }
  return connect.apply(this, args);
};
