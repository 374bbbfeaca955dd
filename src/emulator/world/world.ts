/**
 * Everything the emulator knows, in one object built from the settings. Routes read and change
 * it; nothing else holds state.
 *
 * Terms:
 * - account: an X ad account (`/12/accounts/:account_id`);
 * - login: an X user who can sign in on the authorize page and holds permissions on accounts;
 * - audience: a CRM custom audience owned by one account;
 * - member: a hash (or partner_user_id) an audience holds under one identifier key;
 * - population: the synthetic X users that members are matched against for audience_size;
 * - family: a rate-limit bucket (limits/families.ts).
 */
import { AudienceStore } from '../audiences/audience-store.ts';
import { WindowTable } from '../audiences/membership.ts';
import type { SizingContext } from '../audiences/sizing.ts';
import { Faults } from '../faults/faults.ts';
import { defaultRateLimits } from '../limits/families.ts';
import { RateLimiter } from '../limits/rate-limiter.ts';
import { NonceCache } from '../oauth/nonce-cache.ts';
import { TokenStore } from '../oauth/token-store.ts';
import { RequestLog } from '../observe/request-log.ts';
import { Stats } from '../observe/stats.ts';
import type { Settings } from '../options.ts';
import { createRng } from '../util/rng.ts';
import { Clock } from './clock.ts';
import { buildDirectory, type Directory } from './directory.ts';
import { Population } from './population.ts';

/**
 * X rejects "old" requests without saying how old (docs/reference/x-ads-api.md 9.2). Five minutes either way is
 * the common OAuth server choice and tolerates ordinary clock skew.
 */
export const TIMESTAMP_WINDOW_MS = 5 * 60_000;

export interface World {
  settings: Settings;
  directory: Directory;
  population: Population;
  tokens: TokenStore;
  nonces: NonceCache;
  audiences: AudienceStore;
  windows: WindowTable;
  limiter: RateLimiter;
  faults: Faults;
  log: RequestLog;
  stats: Stats;
  /** X's time: memberships, sizing, audience timestamps (clock.ts). */
  clock: Clock;
  /** Changeable at runtime through POST /_emulator/config. */
  config: { sizingDelayMs: number; usersLatencyMs: number; callbackUrls: string[] | null; clockSkewMs: number; adsApiAccess: boolean };
}

/**
 * X's wall clock as a client sees it: this machine's plus `clockSkewMs` (0 unless a test skews it).
 * What a client compares with its own clock reads this: the `Date` header and OAuth timestamps.
 */
export function wallClock(world: World): number {
  return Date.now() + world.config.clockSkewMs;
}

export function createWorld(settings: Settings): World {
  const directory = buildDirectory(settings.seed);
  const tokens = new TokenStore(createRng(settings.seed, 'tokens'));
  for (const login of directory.logins) tokens.addAccessToken(login.accessToken, login.accessTokenSecret, login.userId);
  return {
    settings,
    directory,
    population: new Population(settings.seed, settings.populationSize),
    tokens,
    nonces: new NonceCache(2 * TIMESTAMP_WINDOW_MS),
    audiences: new AudienceStore(createRng(settings.seed, 'audiences')),
    windows: new WindowTable(),
    limiter: new RateLimiter(defaultRateLimits(settings.usersRateLimit)),
    faults: new Faults(createRng(settings.seed, 'faults')),
    log: new RequestLog(),
    stats: new Stats(),
    clock: new Clock(),
    config: {
      sizingDelayMs: settings.sizingDelayMs,
      usersLatencyMs: settings.usersLatencyMs,
      callbackUrls: settings.callbackUrls,
      clockSkewMs: settings.clockSkewMs,
      adsApiAccess: settings.adsApiAccess,
    },
  };
}

export function sizingContext(world: World): SizingContext {
  return {
    population: world.population,
    windows: world.windows,
    delayMs: world.config.sizingDelayMs,
    mode: world.faults.settings.sizing,
  };
}
