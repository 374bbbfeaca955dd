/**
 * The emulator's start-up options and their defaults. Each default says why it has that value.
 */

export interface EmulatorOptions {
  /** 0 = any free port. */
  port?: number;
  /** Default 127.0.0.1: the emulator's back door (/_emulator/*) has no authentication. */
  host?: string;
  consumerKey?: string;
  consumerSecret?: string;
  /** Same seed, same accounts, logins, tokens, audience ids and population. */
  seed?: number;
  /** Default 10000. */
  populationSize?: number;
  /** Default 3000. */
  sizingDelayMs?: number;
  /** Default 1500 per 60000. */
  usersRateLimit?: { limit: number; windowMs: number };
  /**
   * Default 0. Added to every `users` call before it is answered, as a distant X adds a round
   * trip and its own processing (a test knob for scale-out: with it, sync time is waiting, not CPU).
   */
  usersLatencyMs?: number;
  logger?: boolean;
  /** The X app's name shown on the authorize page. Default "Tailor". */
  appName?: string;
  /**
   * The app's registered callback URLs (X's User authentication settings; docs/reference/x-ads-api.md
   * 9.1: the callback "must be registered in the app settings"). Default null: any http(s) callback.
   */
  callbackUrls?: string[] | null;
  /**
   * Default 0. How far X's wall clock reads ahead of this machine's (negative: behind), as when a
   * client's clock is off: every answer's `Date` header and the OAuth timestamp check use it
   * (a test knob for clock checks such as `tailor doctor`'s). At most a day either way.
   */
  clockSkewMs?: number;
  /**
   * Default true. False plays an app X has not approved for the Ads API (docs/reference/x-ads-api.md
   * 8.2): every authenticated /12/ call answers 403 UNAUTHORIZED_CLIENT_APPLICATION; OAuth works.
   */
  adsApiAccess?: boolean;
}

export interface Settings {
  port: number;
  host: string;
  consumerKey: string;
  consumerSecret: string;
  seed: number;
  populationSize: number;
  sizingDelayMs: number;
  usersRateLimit: { limit: number; windowMs: number };
  usersLatencyMs: number;
  logger: boolean;
  appName: string;
  callbackUrls: string[] | null;
  clockSkewMs: number;
  adsApiAccess: boolean;
}

/** A day: far more than any clock check needs, and a bound on a typo. */
export const MAX_CLOCK_SKEW_MS = 86_400_000;

/** Built-in app credentials: readable on purpose, since the emulator is a test bench, not a vault. */
export const DEFAULT_CONSUMER_KEY = 'emulator-consumer-key';
export const DEFAULT_CONSUMER_SECRET = 'emulator-consumer-secret';

/** A fixed default seed, so two runs without flags see the same ids and tokens. */
export const DEFAULT_SEED = 1;

/** Large enough to size audiences in the thousands, small enough to build in ~50 ms. */
export const DEFAULT_POPULATION_SIZE = 10_000;

/** The population's hash index costs ~150 bytes per identifier; 2M users is ~1.2 GB, the sane ceiling. */
export const MAX_POPULATION_SIZE = 2_000_000;

/** X sizes audiences in batches every 6 to 8 hours (docs/reference/x-ads-api.md 6.3); seconds stand in for hours here. */
export const DEFAULT_SIZING_DELAY_MS = 3_000;

/** docs/reference/x-ads-api.md 3.4: 1500 requests per 1-minute window on the users endpoint. */
export const DEFAULT_USERS_RATE_LIMIT = { limit: 1500, windowMs: 60_000 } as const;

export function resolveSettings(opts: EmulatorOptions = {}): Settings {
  const populationSize = opts.populationSize ?? DEFAULT_POPULATION_SIZE;
  if (!Number.isInteger(populationSize) || populationSize < 0 || populationSize > MAX_POPULATION_SIZE) {
    throw new RangeError(`populationSize must be an integer from 0 to ${MAX_POPULATION_SIZE}`);
  }
  const sizingDelayMs = opts.sizingDelayMs ?? DEFAULT_SIZING_DELAY_MS;
  if (!Number.isFinite(sizingDelayMs) || sizingDelayMs < 0) throw new RangeError('sizingDelayMs must be >= 0');
  const usersLatencyMs = opts.usersLatencyMs ?? 0;
  if (!Number.isInteger(usersLatencyMs) || usersLatencyMs < 0 || usersLatencyMs > 600_000)
    throw new RangeError('usersLatencyMs must be an integer from 0 to 600000');
  const clockSkewMs = opts.clockSkewMs ?? 0;
  if (!Number.isInteger(clockSkewMs) || Math.abs(clockSkewMs) > MAX_CLOCK_SKEW_MS)
    throw new RangeError(`clockSkewMs must be an integer from -${MAX_CLOCK_SKEW_MS} to ${MAX_CLOCK_SKEW_MS}`);
  const usersRateLimit = opts.usersRateLimit ?? DEFAULT_USERS_RATE_LIMIT;
  if (!(usersRateLimit.limit >= 1 && usersRateLimit.windowMs >= 1)) {
    throw new RangeError('usersRateLimit needs limit >= 1 and windowMs >= 1');
  }
  return {
    port: opts.port ?? 0,
    host: opts.host ?? '127.0.0.1',
    consumerKey: opts.consumerKey ?? DEFAULT_CONSUMER_KEY,
    consumerSecret: opts.consumerSecret ?? DEFAULT_CONSUMER_SECRET,
    seed: opts.seed ?? DEFAULT_SEED,
    populationSize,
    sizingDelayMs,
    usersRateLimit: { limit: usersRateLimit.limit, windowMs: usersRateLimit.windowMs },
    usersLatencyMs,
    logger: opts.logger ?? false,
    appName: opts.appName ?? 'Tailor',
    callbackUrls: opts.callbackUrls ? [...opts.callbackUrls] : null,
    clockSkewMs,
    adsApiAccess: opts.adsApiAccess ?? true,
  };
}
