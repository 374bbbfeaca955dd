import type { Command } from 'commander';
import type { Check, DoctorReport } from '../../doctor/checks.ts';

const MARK: Record<Check['status'], string> = { pass: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check the setup: environment, database, X app, every configuration, clock; exit 1 when a check fails')
    .option('--json', 'print the report as JSON (for scripts)')
    .action(async (o: { json?: boolean }) => {
      const [{ runDoctor }, { probeDatabase }, { openStore }, { MemberKeys }] = await Promise.all([
        import('../../doctor/checks.ts'),
        import('../../store/probe.ts'),
        import('../../store/open.ts'),
        import('../../membership/member-key.ts'),
      ]);
      const report = await runDoctor({
        env: process.env,
        probe: probeDatabase,
        // Opened only after the probe found every migration applied, so this never migrates.
        configurations: async (config) => {
          const keys = config.secretKey === null ? null : new MemberKeys(config.secretKey);
          const store = await openStore(
            config.database,
            keys ? { memberKey: (kind, raw) => keys.of(kind, raw), notice: () => undefined } : { notice: () => undefined },
          );
          try {
            return await store.listConfigurations();
          } finally {
            await store.close();
          }
        },
      });
      process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
      process.exitCode = report.ok ? 0 : 1;
    });
}

export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]}  ${c.title}: ${c.detail}`);
    if (c.fix !== null) lines.push(`      → ${c.fix}`);
  }
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  lines.push(
    '',
    failed > 0 ? `${failed} check${failed === 1 ? '' : 's'} failed, ${warned} warned.` : `No check failed${warned > 0 ? ` (${warned} warned)` : ''}.`,
  );
  return `${lines.join('\n')}\n`;
}
