import type { Command } from 'commander';
import { configOrExit, exitOnConfigError, untilSignal } from '../run.ts';

/** Loaded by the command that runs, so `tailor --help` and the other commands do not pay for the server's modules. */
async function runtime(): Promise<{ startTailor: typeof import('../../app.ts').startTailor; createLogger: typeof import('../../log.ts').createLogger }> {
  const [{ startTailor }, { createLogger }] = await Promise.all([import('../../app.ts'), import('../../log.ts')]);
  return { startTailor, createLogger };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('HTTP API, web UI and sync workers in one process')
    .action(async () => {
      const config = configOrExit({ adminToken: true, secretKey: true, xApp: true, serves: true });
      const { startTailor, createLogger } = await runtime();
      const log = createLogger(config.logLevel);
      const tailor = await exitOnConfigError(() => startTailor(config, { serve: true, work: true, log }));
      log.info({ url: tailor.url }, 'Tailor is serving');
      process.stdout.write(`Tailor listening on ${tailor.url}\n`);
      untilSignal(() => tailor.close());
    });

  program
    .command('worker')
    .description('sync workers only (scale-out on PostgreSQL)')
    .action(async () => {
      const config = configOrExit({ secretKey: true, xApp: true });
      const { startTailor, createLogger } = await runtime();
      const log = createLogger(config.logLevel);
      const tailor = await exitOnConfigError(() => startTailor(config, { serve: false, work: true, log }));
      log.info({ owner: tailor.worker?.owner }, 'Tailor worker started');
      untilSignal(() => tailor.close());
    });

  program
    .command('migrate')
    .description('apply database migrations and exit')
    .action(async () => {
      const config = configOrExit({});
      const { openStore } = await import('../../store/open.ts');
      const { MemberKeys } = await import('../../membership/member-key.ts');
      // Needed only by a migration that converts member keys (0005); without it, that one fails and names it.
      const keys = config.secretKey === null ? null : new MemberKeys(config.secretKey);
      const store = await exitOnConfigError(() => openStore(config.database, keys ? { memberKey: (kind, raw) => keys.of(kind, raw) } : {}));
      await store.close();
      process.stdout.write('Database is up to date.\n');
    });
}
