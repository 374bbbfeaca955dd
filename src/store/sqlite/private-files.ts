import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, relative, resolve, sep } from 'node:path';

/** The database file and the files SQLite keeps beside it (WAL mode: -wal and -shm; -journal otherwise). */
const COMPANIONS = ['', '-wal', '-shm', '-journal'];

const mode = (m: number): string => (m & 0o777).toString(8).padStart(4, '0');

/**
 * Makes the database private to Tailor's user before SQLite opens it: the data directory 0700, the
 * database file 0600. SQLite creates the -wal, -shm and -journal files later, lazily, with the
 * database file's own permission bits (its unix VFS copies them), so a 0600 database keeps them
 * 0600 too; any that already exist are tightened here. No process-wide umask is touched.
 *
 * An existing directory is tightened only when it looks like a data directory: owned by this
 * user, without the sticky bit (/tmp), and not the working directory, one of its parents, the home
 * directory or /. Those are left as they are (the files inside are still made 0600).
 *
 * Returns one line naming what was changed, or null when nothing was.
 */
export function makePrivate(path: string): string | null {
  const changed: string[] = [];
  const dir = resolve(dirname(path));
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } else {
    const st = statSync(dir);
    if ((st.mode & 0o077) !== 0 && isDataDirectory(dir, st)) {
      chmodSync(dir, st.mode & 0o700);
      changed.push(`${dir} ${mode(st.mode)} -> ${mode(st.mode & 0o700)}`);
    }
  }
  // An empty file is a valid empty database; creating it here gives it its mode (SQLite would use 0644 less the umask).
  if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  for (const suffix of COMPANIONS) {
    const file = `${path}${suffix}`;
    if (!existsSync(file)) continue;
    const st = statSync(file);
    if ((st.mode & 0o177) !== 0) {
      chmodSync(file, 0o600);
      changed.push(`${resolve(file)} ${mode(st.mode)} -> 0600`);
    }
  }
  return changed.length > 0 ? `database files made private (owner only): ${changed.join(', ')}` : null;
}

function isDataDirectory(dir: string, st: { mode: number; uid: number }): boolean {
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) return false;
  if ((st.mode & 0o1000) !== 0) return false;
  if (dir === resolve('/') || dir === resolve(homedir())) return false;
  const fromDir = relative(dir, process.cwd());
  const holdsCwd = fromDir === '' || (!fromDir.startsWith('..') && !fromDir.startsWith(sep) && !/^[a-zA-Z]:/.test(fromDir));
  return !holdsCwd;
}
