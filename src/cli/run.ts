import { loadConfig, type Config, type Needs } from '../config.ts';
import { ConfigError } from '../core/config-error.ts';

/** Loads the config for a command; a bad environment prints one message and exits with code 2. */
export function configOrExit(needs: Needs, env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env, needs);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tailor: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * Runs until SIGINT or SIGTERM, then closes gracefully. A second signal exits at once; a close
 * that takes longer than the grace period exits anyway (leases then expire and are taken over).
 */
export function untilSignal(close: () => Promise<void>, graceMs = 45_000): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) process.exit(130);
    stopping = true;
    process.stderr.write(`tailor: ${signal} received, shutting down\n`);
    setTimeout(() => process.exit(1), graceMs).unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`tailor: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

/** Turns a ConfigError raised after start-up (e.g. by the store) into exit code 2 too. */
export async function exitOnConfigError<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`tailor: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
