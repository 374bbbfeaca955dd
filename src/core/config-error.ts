/**
 * A bad or missing setting, every problem named; the CLI prints it and exits with code 2. Its own
 * module (not config.ts) so that code which only raises it, such as the store's migrations in the
 * writer thread, does not load zod and the phone-number metadata that reading the environment needs.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
