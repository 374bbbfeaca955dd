import type { Refusal, RefusalCode } from '../core/errors.ts';

/**
 * The exit code of a command refused for a reason in Tailor's words (src/core/errors.ts). 1 is
 * every command's "refused" (2 is kept for a bad environment or flag); a refusal because X could
 * not be asked is 75, sysexits' EX_TEMPFAIL, so a script can tell "try again later" from "fix
 * the input". Exhaustive: a new refusal code does not compile until it has its exit code.
 */
export function exitCodeOf(code: RefusalCode): number {
  switch (code) {
    case 'not_found':
    case 'in_use':
    case 'invalid':
    case 'x_refused':
      return 1;
    case 'x_unreachable':
      return 75;
  }
}

/** Prints a refusal as `tailor: <message>` and sets the process's exit code from it. */
export function reportRefusal(err: Refusal, command = 'tailor'): void {
  process.stderr.write(`${command}: ${err.message}\n`);
  process.exitCode = exitCodeOf(err.code);
}
