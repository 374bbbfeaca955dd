import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('emulator')
    .description('run the X Ads API emulator alone')
    .option('--port <n>', 'port to listen on', '9090')
    .action(async () => {
      throw new Error('not built yet');
    });
}
