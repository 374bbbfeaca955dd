import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ConfigError } from '../src/core/config-error.ts';

describe('config', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      database: { kind: 'sqlite', path: './data/tailor.db' },
      host: '127.0.0.1',
      port: 8080,
      xApiUrl: 'https://ads-api.x.com',
      xOauthUrl: 'https://api.x.com',
      flushIntervalMs: 10_000,
      firehoseToken: null,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads the alert webhook settings: both or neither, minutes with decimals, 15 by default', () => {
    expect(loadConfig({})).toMatchObject({ webhookUrl: null, webhookSecret: null, alertAfterMs: 900_000 });
    const c = loadConfig({ TAILOR_WEBHOOK_URL: 'https://hooks.example.com/t/', TAILOR_WEBHOOK_SECRET: 'sixteen-chars-ok', TAILOR_ALERT_AFTER_MINUTES: '0.5' });
    expect(c).toMatchObject({ webhookUrl: 'https://hooks.example.com/t/', webhookSecret: 'sixteen-chars-ok', alertAfterMs: 30_000 });
    const problems = (env: Record<string, string>): string[] => {
      try {
        loadConfig(env);
        return [];
      } catch (err) {
        return (err as ConfigError).problems;
      }
    };
    expect(problems({ TAILOR_WEBHOOK_URL: 'https://hooks.example.com/t' })).toEqual([expect.stringMatching(/^TAILOR_WEBHOOK_SECRET: is required/)]);
    expect(problems({ TAILOR_WEBHOOK_SECRET: 'sixteen-chars-ok' })).toEqual([expect.stringMatching(/^TAILOR_WEBHOOK_URL: is required/)]);
    expect(
      problems({ TAILOR_WEBHOOK_URL: 'ftp://x', TAILOR_WEBHOOK_SECRET: 'short' })
        .map((p) => p.split(':')[0])
        .sort(),
    ).toEqual(['TAILOR_WEBHOOK_SECRET', 'TAILOR_WEBHOOK_URL']);
    expect(problems({ TAILOR_ALERT_AFTER_MINUTES: 'soon' })).toEqual([expect.stringMatching(/^TAILOR_ALERT_AFTER_MINUTES: /)]);
    expect(problems({ TAILOR_ALERT_AFTER_MINUTES: '0' })).toEqual([expect.stringMatching(/at least 0.01/)]);
  });

  it('reads postgres URLs and trims trailing slashes of X URLs', () => {
    const c = loadConfig({ TAILOR_DATABASE_URL: 'postgres://u@127.0.0.1/db', TAILOR_X_API_URL: 'http://127.0.0.1:9/' });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u@127.0.0.1/db' });
    expect(c.xApiUrl).toBe('http://127.0.0.1:9');
  });

  it('names every bad or missing variable at once', () => {
    try {
      loadConfig(
        { TAILOR_PORT: '70000', TAILOR_SECRET_KEY: 'short', TAILOR_X_API_URL: 'ftp://x', TAILOR_HOST: '0.0.0.0' },
        { adminToken: true, xApp: true, serves: true },
      );
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      // The Firehose token off loopback too, though other variables are bad.
      for (const name of [
        'TAILOR_PORT',
        'TAILOR_SECRET_KEY',
        'TAILOR_X_API_URL',
        'TAILOR_ADMIN_TOKEN',
        'TAILOR_X_CONSUMER_KEY',
        'TAILOR_X_CONSUMER_SECRET',
        'TAILOR_FIREHOSE_TOKEN',
      ])
        expect(problems).toContain(name);
    }
  });

  it('renews after 330 days by default; decimals allowed, up to X expiry', () => {
    expect(loadConfig({}).renewAfterMs).toBe(330 * 86_400_000);
    expect(loadConfig({ TAILOR_RENEW_AFTER_DAYS: '0.5' }).renewAfterMs).toBe(43_200_000);
    expect(loadConfig({ TAILOR_RENEW_AFTER_DAYS: String(3 / 86_400) }).renewAfterMs).toBe(3_000);
    for (const bad of ['0', '396', '-1', 'ten', '1e3']) {
      expect(() => loadConfig({ TAILOR_RENEW_AFTER_DAYS: bad }), bad).toThrow(/TAILOR_RENEW_AFTER_DAYS/);
    }
  });

  it('keeps X data 90 days by default, never longer; decimals allowed', () => {
    expect(loadConfig({}).xDataRetentionMs).toBe(90 * 86_400_000);
    expect(loadConfig({ TAILOR_X_DATA_RETENTION_DAYS: '30' }).xDataRetentionMs).toBe(30 * 86_400_000);
    expect(loadConfig({ TAILOR_X_DATA_RETENTION_DAYS: '0.5' }).xDataRetentionMs).toBe(43_200_000);
    for (const bad of ['0', '91', '-1', 'ninety', '1e1']) {
      expect(() => loadConfig({ TAILOR_X_DATA_RETENTION_DAYS: bad }), bad).toThrow(/TAILOR_X_DATA_RETENTION_DAYS/);
    }
  });

  it('reads phone numbers without a country code in TAILOR_DEFAULT_PHONE_REGION: US by default, validated', () => {
    expect(loadConfig({}).defaultPhoneRegion).toBe('US');
    expect(loadConfig({ TAILOR_DEFAULT_PHONE_REGION: 'gb' }).defaultPhoneRegion).toBe('GB');
    expect(loadConfig({ TAILOR_DEFAULT_PHONE_REGION: ' DE ' }).defaultPhoneRegion).toBe('DE');
    for (const bad of ['USA', 'ZZ', 'EU', '1', 'U S']) {
      expect(() => loadConfig({ TAILOR_DEFAULT_PHONE_REGION: bad }), bad).toThrow(/TAILOR_DEFAULT_PHONE_REGION: must be an ISO 3166 alpha-2/);
    }
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ TAILOR_PORT: '' }).port).toBe(8080);
  });
});
