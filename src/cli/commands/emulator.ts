/**
 * `tailor emulator`: the X Ads API emulator alone (docs/emulator.md). The X app's credentials come
 * from TAILOR_X_CONSUMER_KEY / TAILOR_X_CONSUMER_SECRET when set, built-in values otherwise.
 */
import type { Command } from 'commander';

interface Flags {
  port: string;
  host: string;
  seed: string;
  population: string;
  sizingDelayMs: string;
  usersRateLimit: string;
  usersRateWindowMs: string;
  usersLatencyMs: string;
  appName: string;
  log?: boolean;
}

export function register(program: Command): void {
  program
    .command('emulator')
    .description('run the X Ads API emulator alone')
    .option('--port <n>', 'port to listen on (0 = any free port)', '9090')
    .option('--host <h>', 'address to bind; the /_emulator back door has no auth, so keep it local', '127.0.0.1')
    .option('--seed <s>', 'seed for accounts, logins, tokens and the population', '1')
    .option('--population <n>', 'number of synthetic X users audiences are matched against', '10000')
    .option('--sizing-delay-ms <n>', "delay before an audience change is sized (X's hours)", '3000')
    .option('--users-rate-limit <n>', 'requests per window on the users endpoint, per token', '1500')
    .option('--users-rate-window-ms <n>', 'the users endpoint rate-limit window', '60000')
    .option('--users-latency-ms <n>', 'added to every users call before it is answered (a distant X)', '0')
    .option('--app-name <name>', "the X app's name on the authorize page", 'Tailor')
    .option('--log', 'log every request (pino, JSON lines)')
    .action(async (flags: Flags) => {
      const { startEmulator } = await import('../../emulator/index.ts');
      const emulator = await startEmulator({
        port: intFlag('--port', flags.port, 0, 65_535),
        host: flags.host,
        seed: intFlag('--seed', flags.seed, 0, Number.MAX_SAFE_INTEGER),
        populationSize: intFlag('--population', flags.population, 0, 2_000_000),
        sizingDelayMs: intFlag('--sizing-delay-ms', flags.sizingDelayMs, 0, 7 * 86_400_000),
        usersRateLimit: {
          limit: intFlag('--users-rate-limit', flags.usersRateLimit, 1, 1_000_000_000),
          windowMs: intFlag('--users-rate-window-ms', flags.usersRateWindowMs, 1, 86_400_000),
        },
        usersLatencyMs: intFlag('--users-latency-ms', flags.usersLatencyMs, 0, 600_000),
        consumerKey: nonEmpty(process.env.TAILOR_X_CONSUMER_KEY),
        consumerSecret: nonEmpty(process.env.TAILOR_X_CONSUMER_SECRET),
        appName: flags.appName,
        logger: flags.log === true,
      });
      process.stdout.write(
        `X Ads API emulator listening on ${emulator.url}\n` +
          `  credentials: ${emulator.url}/_emulator/credentials\n` +
          `  API base:    ${emulator.url}/12/   OAuth: ${emulator.url}/oauth/\n`,
      );
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) process.exit(130);
        stopping = true;
        process.stderr.write(`tailor emulator: ${signal} received, stopping\n`);
        emulator.close().then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`tailor emulator: stop failed: ${String(err)}\n`);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}

/** A bad flag is one clear message and exit code 2, as for a bad environment variable. */
function intFlag(name: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < min || n > max) {
    process.stderr.write(`tailor emulator: ${name} must be an integer from ${min} to ${max}, got "${value}"\n`);
    process.exit(2);
  }
  return n;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
