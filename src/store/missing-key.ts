import { ConfigError } from '../core/config-error.ts';

/** Migration 0005 met user-id or mpid keys to convert and was given no TAILOR_SECRET_KEY. */
export function missingMemberKeySecret(): ConfigError {
  return new ConfigError([
    'TAILOR_SECRET_KEY: is required to apply migration 0005, which converts the member keys (user ids and mpids) of this database; set it to the key `tailor serve` uses, then run again (nothing was changed)',
  ]);
}
