import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { configOrExit, untilSignal } from '../run.ts';

interface Credentials {
  consumer_key: string;
  consumer_secret: string;
  users: { screen_name: string; access_token: string; access_token_secret: string; accounts: { id: string; name: string; permissions: string[] }[] }[];
}
interface PopulationUser {
  email: string;
  handle: string;
  idfa: string;
  gaid: string;
  /** E.164 (`+1202…`). */
  phone: string;
}

const SAMPLES = [
  { id: 'cart-abandoners', name: 'Cart abandoners', size: 400, toggles: {} },
  // Phone numbers are off unless asked for; this one forwards them.
  { id: 'loyal-customers', name: 'Loyal customers', size: 180, toggles: { forward_device_ids: false, forward_phone_numbers: true } },
  { id: 'beta-testers', name: 'Beta testers', size: 60, toggles: {} }, // stays under X's 100: TOO_SMALL
];

/** Secrets the demo generates once and keeps beside its database, so a restart can read its tokens. */
function demoSecrets(dir: string): { secretKey: string; adminToken: string } {
  const file = `${dir}/demo-secrets.json`;
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as { secretKey: string; adminToken: string };
  mkdirSync(dir, { recursive: true, mode: 0o700 }); // the data directory, private as the store makes it
  const secrets = { secretKey: randomBytes(32).toString('hex'), adminToken: randomBytes(24).toString('hex') };
  writeFileSync(file, JSON.stringify(secrets), { mode: 0o600 });
  return secrets;
}

export function register(program: Command): void {
  program
    .command('demo')
    .description('everything on embedded defaults: SQLite in ./data, the X emulator, the server, sample audiences')
    .option('--no-churn', 'do not keep changing the sample audiences')
    .action(async (o: { churn: boolean }) => {
      const [{ startTailor }, { startEmulator }, { createLogger }, { addConfiguration }] = await Promise.all([
        import('../../app.ts'),
        import('../../emulator/index.ts'),
        import('../../log.ts'),
        import('../../services/configurations.ts'),
      ]);
      const secrets = demoSecrets('./data');
      const emulator = await startEmulator({ port: 0, sizingDelayMs: 5_000, seed: 1 });
      const creds = (await (await fetch(`${emulator.url}/_emulator/credentials`)).json()) as Credentials;
      const config = configOrExit(
        { adminToken: true, secretKey: true, xApp: true, serves: true },
        {
          TAILOR_FLUSH_INTERVAL_MS: '2000',
          TAILOR_REFRESH_INTERVAL_MS: '5000',
          TAILOR_LOG_LEVEL: 'warn',
          ...process.env,
          TAILOR_X_API_URL: emulator.url,
          TAILOR_X_OAUTH_URL: emulator.url,
          TAILOR_X_CONSUMER_KEY: creds.consumer_key,
          TAILOR_X_CONSUMER_SECRET: creds.consumer_secret,
          TAILOR_SECRET_KEY: process.env.TAILOR_SECRET_KEY ?? secrets.secretKey,
          TAILOR_ADMIN_TOKEN: process.env.TAILOR_ADMIN_TOKEN ?? secrets.adminToken,
        },
      );
      const tailor = await startTailor(config, { serve: true, work: true, log: createLogger(config.logLevel) });
      const admin = creds.users.find((u) => u.accounts.some((a) => a.permissions.includes('ACCOUNT_ADMIN')));
      const account = admin?.accounts.find((a) => a.permissions.includes('ACCOUNT_ADMIN'));
      if (!admin || !account) throw new Error('the emulator offers no ACCOUNT_ADMIN login');
      const { configuration } = await addConfiguration(tailor.services, {
        actor: 'cli',
        name: `Demo: ${account.name}`,
        accountId: account.id,
        tokens: { accessToken: admin.access_token, accessTokenSecret: admin.access_token_secret },
      });

      const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
        const res = await fetch(`${tailor.url}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${config.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return res.status === 204 ? null : res.json();
      };
      const population = (await (await fetch(`${emulator.url}/_emulator/population?limit=1000`)).json()) as PopulationUser[];
      const member = (p: PopulationUser, i: number) => ({
        user_id: `demo-${i}`,
        email: p.email,
        twitter_handle: `@${p.handle}`,
        ios_advertising_id: p.idfa.toUpperCase(),
        // Written as people do, national: Tailor puts it back in E.164 (TAILOR_DEFAULT_PHONE_REGION is US).
        phone_number: p.phone.replace(/^\+1(\d{3})(\d{3})(\d{4})$/, '($1) $2-$3'),
      });
      let offset = 0;
      /** Where each sample's people start in the population: churn stays within them. */
      const starts = new Map<string, number>();
      for (const s of SAMPLES) {
        starts.set(s.id, offset);
        await api('PUT', `/audiences/${s.id}`, { name: s.name });
        await api('PUT', `/audiences/${s.id}/connections/${configuration.id}`, s.toggles);
        await api('POST', `/audiences/${s.id}/members`, { add: population.slice(offset, offset + s.size).map((p, i) => member(p, offset + i)) });
        offset += s.size;
      }

      process.stdout.write(
        [
          '',
          'Tailor demo is running.',
          `  Web UI and API   ${tailor.url}/   (admin token: ${config.adminToken})`,
          `  X emulator       ${emulator.url}/_emulator/credentials`,
          `  Database         ${config.database.kind === 'sqlite' ? config.database.path : 'postgres'}`,
          `  Try              curl -H 'Authorization: Bearer ${config.adminToken}' ${tailor.url}/api/v1/audiences/cart-abandoners`,
          '',
        ].join('\n') + '\n',
      );

      // Members keep joining and leaving, as in a live audience manager. Each audience churns
      // among its own people, so none grows past its size: Beta testers stays under X's 100.
      const churn = o.churn
        ? setInterval(() => {
            const s = SAMPLES[Math.floor(Math.random() * SAMPLES.length)]!;
            const i = (starts.get(s.id) ?? 0) + Math.floor(Math.random() * s.size);
            const p = population[i]!;
            void api('POST', `/audiences/${s.id}/members`, Math.random() < 0.6 ? { add: [member(p, i)] } : { remove: [{ user_id: `demo-${i}` }] }).catch(
              () => undefined,
            );
          }, 500)
        : null;
      const report = setInterval(() => {
        void (async () => {
          const lines: string[] = [];
          for (const s of SAMPLES) {
            const a = (await api('GET', `/audiences/${s.id}`)) as {
              members: number;
              connections: {
                downstream_audiences: { identity_type: string; members: number; pending: number; audience_size: number | null; state: string }[];
              }[];
            };
            const ds = a.connections.flatMap((c) => c.downstream_audiences);
            const parts = ds.map(
              (d) =>
                `${d.identity_type}: ${d.members} sent, ${d.pending} pending, X size ${d.audience_size ?? '…'}${d.state === 'active' ? '' : ` (${d.state})`}`,
            );
            lines.push(`  ${s.name.padEnd(16)} ${String(a.members).padStart(4)} members | ${parts.join(' | ')}`);
          }
          process.stdout.write(`[${new Date().toISOString().slice(11, 19)}]\n${lines.join('\n')}\n`);
        })().catch(() => undefined);
      }, 5_000);

      untilSignal(async () => {
        if (churn) clearInterval(churn);
        clearInterval(report);
        await tailor.close();
        await emulator.close();
      });
    });
}
