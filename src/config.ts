/**
 * The environment, read once at start-up into one frozen, validated Config. Every bad or missing
 * variable is named in a single ConfigError; the CLI prints it and exits with code 2.
 */
import { z } from 'zod';
import { ConfigError } from './core/config-error.ts';
import { isHostName, isLoopbackHost } from './core/hosts.ts';
import { phoneRegionOf, type PhoneRegion } from './identity/phone.ts';
import { MEMBERSHIP_DAYS, USERS_REQUESTS_PER_MINUTE } from './x/facts.ts';

export type DatabaseTarget = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

export interface Config {
  database: DatabaseTarget;
  host: string;
  port: number;
  xApiUrl: string;
  xOauthUrl: string;
  xConsumerKey: string | null;
  xConsumerSecret: string | null;
  secretKey: string | null;
  adminToken: string | null;
  firehoseToken: string | null;
  /** The `encoding` Tailor asks mParticle for in its Firehose registration: raw (Tailor normalizes) or sha256. */
  firehoseEncoding: 'raw' | 'sha256';
  flushIntervalMs: number;
  /** Tailor's own ceiling for X `users` calls per account, kept under X's 1500 per minute (USERS_REQUESTS_PER_MINUTE). */
  xRequestsPerMinute: number;
  refreshIntervalMs: number;
  /** A hash X confirmed longer ago than this is sent again before X's 13-month expiry drops it. */
  renewAfterMs: number;
  /** TAILOR_X_DATA_RETENTION_DAYS: X's sizes and targetability, and their history, are kept at most this long (src/sync/retention.ts). */
  xDataRetentionMs: number;
  /** How long the delivery log keeps each `users` call (TAILOR_DELIVERY_LOG_DAYS). */
  deliveryLogMs: number;
  workerConcurrency: number;
  xTimeoutMs: number;
  logLevel: string;
  /** Where browsers reach Tailor (the X login's callback URL is built from it); null: the request's Host. */
  publicUrl: string | null;
  /** Extra `Host` names the UI and /api/v1 answer to (src/server/hosts.ts), lower-case. */
  allowedHosts: readonly string[];
  /** Most open client connections (Node's `server.maxConnections`). */
  maxConnections: number;
  /** Longest time a client may take to send one request, headers and body. */
  requestTimeoutMs: number;
  /** Where alert events are POSTed (src/alerts/); null: events are only recorded and listed. */
  webhookUrl: string | null;
  /** The HMAC-SHA256 key of `X-Tailor-Signature`; set whenever webhookUrl is. */
  webhookSecret: string | null;
  /** A downstream audience failing this long raises `x_audience.failing`. */
  alertAfterMs: number;
  /** The region phone numbers written without a country code are read in (ISO 3166 alpha-2). */
  defaultPhoneRegion: PhoneRegion;
}

/** What a command needs beyond the defaults. */
export interface Needs {
  adminToken?: boolean;
  secretKey?: boolean;
  xApp?: boolean;
  /**
   * The command serves HTTP: a non-loopback TAILOR_HOST then needs TAILOR_FIREHOSE_TOKEN, since
   * /firehose would otherwise take membership changes from anyone who can reach the port.
   */
  serves?: boolean;
}

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/**
 * Days, decimals allowed (tests renew after seconds), up to X's 13-month default expiry
 * (MEMBERSHIP_DAYS): a member renewed later than that has already dropped out of X. 330 days
 * leaves two months for a backlog.
 */
const MAX_RENEW_DAYS = MEMBERSHIP_DAYS;
const days = z
  .string()
  .regex(/^\d+(\.\d+)?$/, `must be a number of days from 0.00001 to ${MAX_RENEW_DAYS}, decimals allowed`)
  .transform(Number)
  .pipe(
    z.number().min(0.00001, 'must be more than 0').max(MAX_RENEW_DAYS, `must be at most ${MAX_RENEW_DAYS} (X drops members 13 months after their last update)`),
  );

/** X's Ads API Agreement 8.4: data X makes available is deleted at the latest 90 days after it was received. */
export const MAX_X_DATA_RETENTION_DAYS = 90;
const retentionDays = z
  .string()
  .regex(/^\d+(\.\d+)?$/, `must be a number of days from 0.00001 to ${MAX_X_DATA_RETENTION_DAYS}, decimals allowed`)
  .transform(Number)
  .pipe(
    z
      .number()
      .min(0.00001, 'must be more than 0')
      .max(MAX_X_DATA_RETENTION_DAYS, `must be at most ${MAX_X_DATA_RETENTION_DAYS} (X's Ads API Agreement 8.4: X's data is deleted within 90 days)`),
  );

const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).transform((u) => u.replace(/\/+$/, ''));

/** Loopback: Tailor is reachable from this machine only until TAILOR_HOST says otherwise. */
const DEFAULT_HOST = '127.0.0.1';

const schema = z.object({
  TAILOR_DATABASE_URL: z
    .string()
    .default('sqlite:./data/tailor.db')
    .transform((v, ctx): DatabaseTarget => {
      if (v.startsWith('sqlite:') && v.length > 'sqlite:'.length) return { kind: 'sqlite', path: v.slice('sqlite:'.length) };
      if (/^postgres(ql)?:\/\//.test(v)) return { kind: 'postgres', url: v };
      ctx.addIssue({ code: 'custom', message: 'must be sqlite:PATH or postgres://…' });
      return z.NEVER;
    }),
  TAILOR_HOST: z.string().min(1).default(DEFAULT_HOST),
  TAILOR_PORT: int(0, 65535).default(8080),
  TAILOR_X_API_URL: url.default('https://ads-api.x.com'),
  TAILOR_X_OAUTH_URL: url.default('https://api.x.com'),
  TAILOR_X_CONSUMER_KEY: z.string().min(1).optional(),
  TAILOR_X_CONSUMER_SECRET: z.string().min(1).optional(),
  TAILOR_SECRET_KEY: z.string().min(32, 'must be at least 32 characters (e.g. `openssl rand -hex 32`)').optional(),
  TAILOR_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  TAILOR_FIREHOSE_TOKEN: z.string().min(1).optional(),
  TAILOR_FIREHOSE_ENCODING: z.enum(['raw', 'sha256'], { error: 'must be raw or sha256' }).default('raw'),
  TAILOR_FLUSH_INTERVAL_MS: int(10, 3_600_000).default(10_000),
  TAILOR_X_REQUESTS_PER_MINUTE: int(1, USERS_REQUESTS_PER_MINUTE).default(1400),
  TAILOR_REFRESH_INTERVAL_MS: int(1000, 86_400_000).default(300_000),
  TAILOR_RENEW_AFTER_DAYS: days.default(330),
  TAILOR_X_DATA_RETENTION_DAYS: retentionDays.default(MAX_X_DATA_RETENTION_DAYS),
  TAILOR_DELIVERY_LOG_DAYS: int(1, 3650).default(14),
  TAILOR_WORKER_CONCURRENCY: int(1, 64).default(4),
  TAILOR_X_TIMEOUT_MS: int(100, 600_000).default(30_000),
  TAILOR_PUBLIC_URL: url.optional(),
  TAILOR_ALLOWED_HOSTS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ''),
    )
    .refine((hosts) => hosts.every(isHostName), 'must be host names without scheme, port or path, comma-separated (e.g. tailor.example.com,10.0.0.5)')
    .optional(),
  TAILOR_MAX_CONNECTIONS: int(1, 1_000_000).default(1000),
  TAILOR_REQUEST_TIMEOUT_MS: int(1000, 3_600_000).default(30_000),
  TAILOR_WEBHOOK_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  TAILOR_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters (e.g. `openssl rand -hex 32`)').optional(),
  TAILOR_ALERT_AFTER_MINUTES: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a number of minutes from 0.01 to 10080, decimals allowed')
    .transform(Number)
    .pipe(z.number().min(0.01, 'must be at least 0.01').max(10_080, 'must be at most 10080 (a week)'))
    .default(15),
  TAILOR_DEFAULT_PHONE_REGION: z
    .string()
    .default('US')
    .transform((v, ctx): PhoneRegion => {
      const region = phoneRegionOf(v);
      if (region !== null) return region;
      ctx.addIssue({ code: 'custom', message: 'must be an ISO 3166 alpha-2 region code with a telephone numbering plan (e.g. US, GB, DE)' });
      return z.NEVER;
    }),
  TAILOR_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export function loadConfig(env: NodeJS.ProcessEnv, needs: Needs = {}): Config {
  // An empty variable counts as unset, as shells and .env files often leave them.
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k.startsWith('TAILOR_') && v !== ''));
  const parsed = schema.safeParse(present);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`);
  const need = (name: keyof typeof present, wanted: boolean | undefined, why: string): void => {
    if (wanted && present[name] === undefined) problems.push(`${name}: is required ${why}`);
  };
  need('TAILOR_ADMIN_TOKEN', needs.adminToken, 'to protect /api/v1 and the UI');
  need('TAILOR_SECRET_KEY', needs.secretKey, 'to encrypt X tokens and key members at rest');
  need('TAILOR_X_CONSUMER_KEY', needs.xApp, "(the X app's consumer key)");
  need('TAILOR_X_CONSUMER_SECRET', needs.xApp, "(the X app's consumer secret)");
  if (present.TAILOR_WEBHOOK_URL !== undefined && present.TAILOR_WEBHOOK_SECRET === undefined)
    problems.push('TAILOR_WEBHOOK_SECRET: is required with TAILOR_WEBHOOK_URL (receivers check X-Tailor-Signature with it)');
  if (present.TAILOR_WEBHOOK_SECRET !== undefined && present.TAILOR_WEBHOOK_URL === undefined)
    problems.push('TAILOR_WEBHOOK_URL: is required with TAILOR_WEBHOOK_SECRET (where alert events go)');
  // Named with the others even when another variable is bad: every bad key in one error.
  const host = parsed.success ? parsed.data.TAILOR_HOST : (present.TAILOR_HOST ?? DEFAULT_HOST);
  if (needs.serves && host !== undefined && !isLoopbackHost(host)) {
    need(
      'TAILOR_FIREHOSE_TOKEN',
      true,
      `when TAILOR_HOST (${host}) is not loopback: without it /firehose takes membership changes from anyone who reaches the port`,
    );
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;
  return Object.freeze({
    database: e.TAILOR_DATABASE_URL,
    host: e.TAILOR_HOST,
    port: e.TAILOR_PORT,
    xApiUrl: e.TAILOR_X_API_URL,
    xOauthUrl: e.TAILOR_X_OAUTH_URL,
    xConsumerKey: e.TAILOR_X_CONSUMER_KEY ?? null,
    xConsumerSecret: e.TAILOR_X_CONSUMER_SECRET ?? null,
    secretKey: e.TAILOR_SECRET_KEY ?? null,
    adminToken: e.TAILOR_ADMIN_TOKEN ?? null,
    firehoseToken: e.TAILOR_FIREHOSE_TOKEN ?? null,
    firehoseEncoding: e.TAILOR_FIREHOSE_ENCODING,
    flushIntervalMs: e.TAILOR_FLUSH_INTERVAL_MS,
    xRequestsPerMinute: e.TAILOR_X_REQUESTS_PER_MINUTE,
    refreshIntervalMs: e.TAILOR_REFRESH_INTERVAL_MS,
    renewAfterMs: Math.max(1, Math.round(e.TAILOR_RENEW_AFTER_DAYS * 86_400_000)),
    xDataRetentionMs: Math.max(1, Math.round(e.TAILOR_X_DATA_RETENTION_DAYS * 86_400_000)),
    deliveryLogMs: e.TAILOR_DELIVERY_LOG_DAYS * 86_400_000,
    workerConcurrency: e.TAILOR_WORKER_CONCURRENCY,
    xTimeoutMs: e.TAILOR_X_TIMEOUT_MS,
    logLevel: e.TAILOR_LOG_LEVEL,
    publicUrl: e.TAILOR_PUBLIC_URL ?? null,
    allowedHosts: Object.freeze(e.TAILOR_ALLOWED_HOSTS ?? []),
    maxConnections: e.TAILOR_MAX_CONNECTIONS,
    requestTimeoutMs: e.TAILOR_REQUEST_TIMEOUT_MS,
    webhookUrl: e.TAILOR_WEBHOOK_URL ?? null,
    webhookSecret: e.TAILOR_WEBHOOK_SECRET ?? null,
    alertAfterMs: Math.round(e.TAILOR_ALERT_AFTER_MINUTES * 60_000),
    defaultPhoneRegion: e.TAILOR_DEFAULT_PHONE_REGION,
  });
}
