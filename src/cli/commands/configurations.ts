import type { Command } from 'commander';
import { Refusal } from '../../core/errors.ts';
import { reportRefusal } from '../refusal.ts';
import { configOrExit, exitOnConfigError } from '../run.ts';

export function register(program: Command): void {
  const configurations = program.command('configurations').description('manage X configurations');
  configurations
    .command('add')
    .description('add an X configuration headlessly (tokens from X’s developer console), validated against X')
    .requiredOption('--account-id <id>', 'X ad account id')
    .requiredOption('--access-token <token>', 'OAuth 1.0a access token of a login with ACCOUNT_ADMIN on the account')
    .requiredOption('--access-token-secret <secret>', 'its secret')
    .option('--name <name>', 'a name for the configuration (default: the account’s name)')
    .action(async (o: { accountId: string; accessToken: string; accessTokenSecret: string; name?: string }) => {
      const config = configOrExit({ secretKey: true, xApp: true });
      const [{ startTailor }, { createLogger }, { addConfiguration }] = await Promise.all([
        import('../../app.ts'),
        import('../../log.ts'),
        import('../../services/configurations.ts'),
      ]);
      const tailor = await exitOnConfigError(() => startTailor(config, { serve: false, work: false, log: createLogger('warn') }));
      try {
        const { configuration, created } = await addConfiguration(tailor.services, {
          actor: 'cli',
          name: o.name,
          accountId: o.accountId,
          tokens: { accessToken: o.accessToken, accessTokenSecret: o.accessTokenSecret },
        });
        process.stdout.write(
          `${created ? 'Added' : 'Re-authorized'} configuration ${configuration.id} for account ${configuration.accountId} (${configuration.name}).\n`,
        );
      } catch (err) {
        if (!(err instanceof Refusal)) throw err;
        reportRefusal(err);
      } finally {
        await tailor.close();
      }
    });
}
