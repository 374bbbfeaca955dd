/**
 * The `tailor` command: parses flags and hands over to the commands in ./commands.
 * Each command file exports one `register(program)` function.
 */
import { Command } from 'commander';
import { register as registerEmulator } from './commands/emulator.ts';

const program = new Command('tailor')
  .description('Forward audiences from mParticle or any HTTP client to X Ads Custom Audiences.')
  .showHelpAfterError();

registerEmulator(program);

await program.parseAsync(process.argv);
