/**
 * Run by harness.test.ts: starts the emulator and one `tailor serve`, as a bench run does, prints
 * the child's pid, and waits to be stopped by a signal.
 */
import { Emu, exitOnSignals, TailorProcess } from '../harness.ts';

const emu = await Emu.start();
const tailor = await TailorProcess.start(emu);
exitOnSignals(async () => emu.close());
console.log(`TAILOR_PID ${tailor.child.pid}`);
setInterval(() => {}, 60_000);
