/**
 * The `tailor` command: parses flags and hands over to the commands in ./commands.
 * Each command file exports one `register(program)` function.
 */
import { Command } from 'commander';
import { register as registerConfigurations } from './commands/configurations.ts';
import { register as registerDemo } from './commands/demo.ts';
import { register as registerDoctor } from './commands/doctor.ts';
import { register as registerEmulator } from './commands/emulator.ts';
import { register as registerImport } from './commands/import.ts';
import { register as registerServe } from './commands/serve.ts';

const program = new Command('tailor').description('Forward audiences from mParticle or any HTTP client to X Ads Custom Audiences.').showHelpAfterError();

registerDemo(program);
registerServe(program);
registerEmulator(program);
registerConfigurations(program);
registerImport(program);
registerDoctor(program);

await program.parseAsync(process.argv);
