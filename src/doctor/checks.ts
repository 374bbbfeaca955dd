/**
 * The setup checks behind `tailor doctor` and the UI's Setup › Health page, one list for both.
 * Each check passes, warns or fails, says what it found in words, and on a warning or failure what
 * to do. Nothing here changes Tailor's state: the database is probed without migrating, X is asked
 * for a request token (which X discards unused) and for each configuration's access, and one HEAD
 * request reads X's clock.
 */
import { loadConfig, type Config } from '../config.ts';
import { ConfigError } from '../core/config-error.ts';
import { isLoopbackHost } from '../core/hosts.ts';
import { SecretBox } from '../core/secret-box.ts';
import { SyncError } from '../core/errors.ts';
import type { DatabaseProbe } from '../store/probe.ts';
import type { Configuration } from '../store/port.ts';
import { openTokens } from '../sync/tokens.ts';
import { XClient } from '../x/client.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface Check {
  /** Stable, for scripts: `env`, `database.writable`, `configuration.<id>`, … */
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** What to do; null when it passes. */
  fix: string | null;
}

export interface DoctorReport {
  /** True when no check failed (warnings allowed): `tailor doctor` exits 0 exactly then. */
  ok: boolean;
  checked_at: string;
  checks: Check[];
}

export interface DoctorDeps {
  env: NodeJS.ProcessEnv;
  probe: (target: Config['database']) => Promise<DatabaseProbe>;
  /** The configurations, read once the database passed (the CLI opens the store; the server has it). */
  configurations: (config: Config) => Promise<Configuration[]>;
  now?: () => number;
}

/** X refuses OAuth timestamps this far off (docs/reference/x-ads-api.md 9.2: "old requests are rejected"). */
export const CLOCK_FAIL_MS = 300_000;
export const CLOCK_WARN_MS = 30_000;
/** Below this free space beside an SQLite file, writes are about to fail. */
export const DISK_FAIL_BYTES = 100 * 1024 * 1024;
export const DISK_WARN_BYTES = 1024 * 1024 * 1024;
const REQUIRED_PERMISSION = 'ACCOUNT_ADMIN';
/** The doctor's own bound on each X call, below the default 30 s: it is run by a person waiting. */
const DOCTOR_X_TIMEOUT_MS = 15_000;

const pass = (id: string, title: string, detail: string): Check => ({ id, title, status: 'pass', detail, fix: null });
const warn = (id: string, title: string, detail: string, fix: string): Check => ({ id, title, status: 'warn', detail, fix });
const fail = (id: string, title: string, detail: string, fix: string): Check => ({ id, title, status: 'fail', detail, fix });

/** The callback X must have registered for the "Log in with X" popup (src/server/oauth-login.ts). */
export function callbackUrlOf(config: Config): string {
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const origin = config.publicUrl ?? `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${config.port}`;
  return `${origin}/oauth/x/callback`;
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorReport> {
  const now = deps.now ?? Date.now;
  const checks: Check[] = [];
  const report = (): DoctorReport => ({ ok: checks.every((c) => c.status !== 'fail'), checked_at: new Date(now()).toISOString(), checks });

  // 1. The environment, as `tailor serve` needs it.
  let config: Config;
  try {
    config = loadConfig(deps.env, { adminToken: true, secretKey: true, xApp: true, serves: true });
    checks.push(pass('env', 'Environment', 'Every TAILOR_ variable is valid and the ones `tailor serve` needs are set.'));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) {
      const name = problem.split(':')[0] ?? 'env';
      checks.push(fail(`env.${name}`, name, problem, `Set ${name} as the README's environment table says, then run tailor doctor again.`));
    }
    try {
      config = loadConfig(deps.env, {});
    } catch {
      return report();
    }
  }

  checks.push(firehoseCheck(config));
  checks.push(publicUrlCheck(config));
  checks.push(webhookCheck(config));

  // 2. The database.
  const probe = await deps.probe(config.database);
  const dbReady = databaseChecks(probe, checks);

  // 3. The X app, and X's clock.
  const x = new XClient({
    apiUrl: config.xApiUrl,
    oauthUrl: config.xOauthUrl,
    app: { consumerKey: config.xConsumerKey ?? '', consumerSecret: config.xConsumerSecret ?? '' },
    timeoutMs: Math.min(config.xTimeoutMs, DOCTOR_X_TIMEOUT_MS),
  });
  // The clock first: past X's window X refuses every signature, whatever the credentials.
  const clock = await clockCheck(config, now);
  const clockOff = clock.status === 'fail';
  let appOk = config.xConsumerKey !== null && config.xConsumerSecret !== null;
  if (appOk) {
    const app = await xAppCheck(x, config, clockOff);
    checks.push(app);
    // X refuses every call the app signs when its credentials are wrong: the configurations' checks would only repeat that.
    appOk = !(app.status === 'fail' && /HTTP 401/.test(app.detail));
  }
  checks.push(clock);

  // 4. Every configuration.
  if (dbReady && config.secretKey !== null) {
    let list: Configuration[] | null = null;
    try {
      list = await deps.configurations(config);
    } catch (err) {
      checks.push(fail('configurations', 'Configurations', `Could not read the configurations: ${messageOf(err)}`, 'Fix the database checks above first.'));
    }
    if (list !== null && list.length === 0)
      checks.push(
        warn(
          'configurations',
          'Configurations',
          'No X configuration yet, so nothing is sent to X.',
          'Add one in the UI (Setup › Outputs › Log in with X) or with `tailor configurations add`.',
        ),
      );
    if (list !== null && appOk) {
      const box = new SecretBox(config.secretKey);
      for (const c of list) checks.push(await configurationCheck(x, box, c));
    } else if (list !== null)
      for (const c of list)
        checks.push(
          warn(
            `configuration.${c.id}`,
            `Configuration “${c.name}” (account ${c.accountId})`,
            clockOff ? 'Not checked: X refuses every signature from a clock this far off.' : 'Not checked: X refuses the app’s credentials.',
            clockOff ? 'Fix the clock check first.' : 'Fix the X app check first.',
          ),
        );
  }
  return report();
}

function firehoseCheck(config: Config): Check {
  const id = 'firehose.token';
  const title = 'Firehose token';
  if (config.firehoseToken !== null) return pass(id, title, 'TAILOR_FIREHOSE_TOKEN is set: /firehose takes only requests that carry it.');
  if (!isLoopbackHost(config.host))
    return fail(
      id,
      title,
      `TAILOR_HOST is ${config.host}, not loopback, and TAILOR_FIREHOSE_TOKEN is not set: anyone who reaches the port could change memberships through /firehose.`,
      'Set TAILOR_FIREHOSE_TOKEN (e.g. `openssl rand -hex 32`) and enter the same value as the API key of the Tailor output in mParticle.',
    );
  return warn(
    id,
    title,
    'TAILOR_FIREHOSE_TOKEN is not set; Tailor listens on loopback only, so only this machine can reach /firehose.',
    'Set TAILOR_FIREHOSE_TOKEN before exposing Tailor (a proxy or TAILOR_HOST) to mParticle.',
  );
}

function publicUrlCheck(config: Config): Check {
  const id = 'public_url';
  const title = 'Public URL and callback';
  const callback = callbackUrlOf(config);
  if (config.publicUrl === null) {
    if (isLoopbackHost(config.host))
      return pass(id, title, `TAILOR_PUBLIC_URL is not set; on loopback the X login's callback is ${callback} (register it in the X app).`);
    return warn(
      id,
      title,
      `TAILOR_HOST is ${config.host} and TAILOR_PUBLIC_URL is not set: the X login's callback is built from each request's Host, which must then match a callback URL registered in the X app.`,
      'Set TAILOR_PUBLIC_URL to the address browsers use (e.g. https://tailor.example.com) and register <that>/oauth/x/callback in the X app.',
    );
  }
  const u = new URL(config.publicUrl);
  if (u.pathname !== '/' && u.pathname !== '')
    return fail(
      id,
      title,
      `TAILOR_PUBLIC_URL has a path (${u.pathname}); Tailor's routes live at the root.`,
      'Set TAILOR_PUBLIC_URL to the scheme, host and port only.',
    );
  if (u.protocol === 'http:' && !isLoopbackHost(u.hostname))
    return warn(
      id,
      title,
      `TAILOR_PUBLIC_URL is plain http on ${u.hostname}: sign-in cookies and the X login's tokens would cross the network unencrypted.`,
      'Serve Tailor behind HTTPS and set TAILOR_PUBLIC_URL to the https:// address.',
    );
  return pass(id, title, `The X login's callback is ${callback}; the X app check below asks X whether it is registered.`);
}

function webhookCheck(config: Config): Check {
  if (config.webhookUrl !== null)
    return pass('webhook', 'Alerts', `Alert events are POSTed to ${new URL(config.webhookUrl).origin}, signed with TAILOR_WEBHOOK_SECRET.`);
  return warn(
    'webhook',
    'Alerts',
    'TAILOR_WEBHOOK_URL is not set: alert events (paused configurations, failing audiences) are only listed in Setup › Health.',
    'Set TAILOR_WEBHOOK_URL (a Slack incoming webhook works as it is) and TAILOR_WEBHOOK_SECRET, or scrape /metrics with docs/alerts/tailor.rules.yml.',
  );
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}

/** Adds the database checks; true when the store can be opened without migrating and written. */
function databaseChecks(p: DatabaseProbe, checks: Check[]): boolean {
  const where = p.dialect === 'sqlite' ? `SQLite at ${p.where}` : `PostgreSQL at ${p.where}`;
  if (p.unreachable !== null) {
    checks.push(
      fail(
        'database.reachable',
        'Database reachable',
        `${where}: ${p.unreachable}.`,
        p.dialect === 'sqlite'
          ? 'Check TAILOR_DATABASE_URL; `tailor migrate` creates a new database.'
          : 'Check TAILOR_DATABASE_URL (host, port, user, password, database) and that PostgreSQL is running and accepts this client.',
      ),
    );
    return false;
  }
  checks.push(pass('database.reachable', 'Database reachable', `${where} answers.`));
  const applied = new Set(p.applied);
  const missing = p.known.filter((v) => !applied.has(v));
  const unknown = p.applied.filter((v) => !p.known.includes(v));
  let current = true;
  if (unknown.length > 0) {
    current = false;
    checks.push(
      fail(
        'database.migrations',
        'Migrations',
        `The database has migrations this Tailor does not know (${unknown.join(', ')}): a newer Tailor wrote it.`,
        'Run the Tailor version that migrated this database, or a newer one.',
      ),
    );
  } else if (missing.length > 0) {
    current = false;
    checks.push(
      fail(
        'database.migrations',
        'Migrations',
        `${missing.length} migration${missing.length === 1 ? '' : 's'} not applied (${missing.join(', ')}).`,
        'Run `tailor migrate` (or start `tailor serve`, which migrates at start).',
      ),
    );
  } else checks.push(pass('database.migrations', 'Migrations', `All ${p.known.length} migrations are applied.`));
  if (!current) return false;
  if (p.unwritable !== null) {
    checks.push(
      fail(
        'database.writable',
        'Database writable',
        `A test write failed: ${p.unwritable}.`,
        p.dialect === 'sqlite'
          ? "Give Tailor's user write access to the database file and its directory, and free disk space if it is full."
          : "Give Tailor's database user INSERT/UPDATE/DELETE on its tables, and check the server is not read-only (a replica, default_transaction_read_only) or out of disk.",
      ),
    );
    return false;
  }
  checks.push(pass('database.writable', 'Database writable', 'A test write committed.'));
  if (p.freeBytes === null) checks.push(pass('database.disk', 'Free disk', "Not visible from here (PostgreSQL): watch the server's disk."));
  else if (p.freeBytes < DISK_FAIL_BYTES)
    checks.push(fail('database.disk', 'Free disk', `Only ${gib(p.freeBytes)} free beside the database.`, 'Free disk space now: writes fail when it runs out.'));
  else if (p.freeBytes < DISK_WARN_BYTES)
    checks.push(
      warn('database.disk', 'Free disk', `${gib(p.freeBytes)} free beside the database.`, 'Free disk space or move the database to a larger volume.'),
    );
  else checks.push(pass('database.disk', 'Free disk', `${gib(p.freeBytes)} free beside the database.`));
  return true;
}

/**
 * A request_token call proves the consumer key and secret and the callback URL at once. With the
 * clock past X's window (`clockOff`), X's 401 says nothing about the credentials.
 */
async function xAppCheck(x: XClient, config: Config, clockOff: boolean): Promise<Check> {
  const id = 'x.app';
  const title = 'X app';
  const callback = callbackUrlOf(config);
  try {
    await x.requestToken(callback);
    return pass(id, title, `X accepted the app's consumer key and secret and confirmed the callback ${callback}.`);
  } catch (err) {
    if (!(err instanceof SyncError)) throw err;
    if (err.fate === 'retry' || err.fate === 'rate_limited' || err.status === undefined)
      return fail(
        id,
        title,
        `Could not reach X at ${config.xOauthUrl}: ${err.message}`,
        'Check the network path to X (proxy, firewall, DNS) and TAILOR_X_OAUTH_URL.',
      );
    if (err.status === 401 && clockOff)
      return fail(
        id,
        title,
        `X refused the app's signature (HTTP 401${err.code ? `, ${err.code}` : ''}), as it refuses every OAuth signature from a clock as far off as this machine's (see Clock); the consumer key and secret may well be right.`,
        'Sync the clock with NTP first (e.g. `timedatectl set-ntp true`, chrony), then run tailor doctor again.',
      );
    if (err.status === 401)
      return fail(
        id,
        title,
        `X refused the app's credentials (HTTP 401${err.code ? `, ${err.code}` : ''}): the consumer key and secret do not match an X app.`,
        'Copy the API Key and Secret from the X developer portal (your app › Keys and tokens › Consumer Keys) into TAILOR_X_CONSUMER_KEY and TAILOR_X_CONSUMER_SECRET; after regenerating them, the old pair stops working.',
      );
    return fail(
      id,
      title,
      `X did not give a request token for the callback ${callback} (HTTP ${err.status}${err.code ? `, ${err.code}` : ''}): ${err.message}`,
      `In the X developer portal, open your app › User authentication settings and add ${callback} to the Callback URLs (it must match exactly, scheme and port included); check the app has Read and write permission.`,
    );
  }
}

/** X's Date header against this machine's clock, from the middle of one HEAD request. */
async function clockCheck(config: Config, now: () => number): Promise<Check> {
  const id = 'x.clock';
  const title = 'Clock';
  const started = now();
  let date: string | null;
  try {
    const res = await fetch(config.xApiUrl, { method: 'HEAD', signal: AbortSignal.timeout(DOCTOR_X_TIMEOUT_MS) });
    date = res.headers.get('date');
  } catch (err) {
    return warn(id, title, `Could not read X's clock at ${config.xApiUrl}: ${messageOf(err)}.`, 'Check the network path to X; then run tailor doctor again.');
  }
  const ended = now();
  const theirs = date === null ? NaN : Date.parse(date);
  if (Number.isNaN(theirs)) return warn(id, title, "X's answer had no usable Date header.", 'Keep this machine on NTP (OAuth signatures carry its time).');
  // Date has whole seconds: X's time is somewhere in [theirs, theirs + 1 s).
  const skew = (started + ended) / 2 - (theirs + 500);
  const words = `${Math.abs(skew / 1000).toFixed(1)} s ${skew > 0 ? 'ahead of' : 'behind'} X`;
  if (Math.abs(skew) >= CLOCK_FAIL_MS)
    return fail(
      id,
      title,
      `This machine's clock is ${words}: X refuses OAuth signatures that far off.`,
      'Sync the clock with NTP (e.g. `timedatectl set-ntp true`, chrony).',
    );
  if (Math.abs(skew) >= CLOCK_WARN_MS)
    return warn(id, title, `This machine's clock is ${words}.`, 'Sync the clock with NTP before it drifts far enough for X to refuse signatures.');
  return pass(id, title, `This machine's clock is within ${Math.max(1, Math.ceil(Math.abs(skew) / 1000))} s of X's.`);
}

async function configurationCheck(x: XClient, box: SecretBox, c: Configuration): Promise<Check> {
  const id = `configuration.${c.id}`;
  const title = `Configuration “${c.name}” (account ${c.accountId})`;
  const reauth = `Re-authorize it in Setup › Outputs with an X login that is Account Administrator on ${c.accountId}.`;
  let tokens;
  try {
    tokens = openTokens(box, c.tokens);
  } catch {
    return fail(
      id,
      title,
      'Its tokens cannot be opened with this TAILOR_SECRET_KEY.',
      `Use the TAILOR_SECRET_KEY the configuration was saved with, or ${reauth[0]!.toLowerCase()}${reauth.slice(1)}`,
    );
  }
  let permissions: string[];
  try {
    permissions = (await x.getUserAccess(tokens, c.accountId)).permissions;
    // The custom audiences endpoint itself, with a name prefix no audience has: one small page.
    await x.listAudiences(tokens, c.accountId, { q: 'tailor doctor probe' });
  } catch (err) {
    if (!(err instanceof SyncError)) throw err;
    if (err.fate === 'retry' || err.fate === 'rate_limited' || err.status === undefined)
      return fail(id, title, `Could not reach the Ads API: ${err.message}`, 'Check the network path to X and TAILOR_X_API_URL; then run tailor doctor again.');
    if (err.code === 'UNAUTHORIZED_CLIENT_APPLICATION')
      return fail(
        id,
        title,
        `X says the app has no Ads API access (${err.code}).`,
        'Apply for Ads API access for the app (X Ads API access form; approval takes up to 3 business days), then regenerate the user tokens.',
      );
    if (err.status === 401)
      return fail(id, title, `X refused the configuration's token (HTTP 401${err.code ? `, ${err.code}` : ''}): it was revoked or is no longer valid.`, reauth);
    return fail(id, title, `X refused access to the account: ${err.message}`, reauth);
  }
  if (!permissions.includes(REQUIRED_PERMISSION))
    return fail(
      id,
      title,
      `The X login now has ${permissions.join(', ') || 'no permissions'} on account ${c.accountId}, not ${REQUIRED_PERMISSION} (Account Administrator).`,
      `Ask an administrator of the ad account to make the login an Account Administrator again (ads.x.com › account › Users), or ${reauth[0]!.toLowerCase()}${reauth.slice(1)}`,
    );
  if (c.state === 'needs_reauth')
    return warn(
      id,
      title,
      `The token works and is ${REQUIRED_PERMISSION} again, but the configuration is paused: ${(c.stateReason ?? 'X refused it earlier').replace(/\.$/, '')}.`,
      reauth,
    );
  return pass(id, title, `The token is valid, the login is ${REQUIRED_PERMISSION} on the account and the Ads API answers.`);
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
