/**
 * The one way tests build Tailor's `Services` for an in-process app (`buildServer`): a store of
 * the test's choosing, and everything else with test defaults. X is the emulator when one is given,
 * else an address where nothing listens (a handler that reached X would fail loudly).
 */
import type { PhoneRegion } from '../../src/identity/index.ts';
import pino, { type Logger } from 'pino';
import { SecretBox } from '../../src/core/secret-box.ts';
import { MemberKeys } from '../../src/membership/member-key.ts';
import type { Services, ServiceStore } from '../../src/services/deps.ts';
import { XClient } from '../../src/x/client.ts';

export const TEST_SECRET_KEY = 'test-secret-key-0123456789abcdef0123456789';

/** What an X emulator offers a client: its URL and the app's consumer credentials. */
export interface XTarget {
  url: string;
  creds: { consumer_key: string; consumer_secret: string };
}

export interface TestServicesOptions {
  /** TAILOR_SECRET_KEY: seals X tokens and keys member ids. */
  secretKey?: string;
  /** The emulator to call as X; none: 127.0.0.1:9, where nothing listens. */
  emu?: XTarget;
  /** Replaces the X client outright (a counting proxy, say). */
  x?: XClient;
  log?: Logger;
  now?: () => number;
  notify?: () => void;
  doctor?: Services['doctor'];
  /** TAILOR_DEFAULT_PHONE_REGION (default US). */
  phoneRegion?: PhoneRegion;
}

export function testXClient(emu?: XTarget): XClient {
  return emu
    ? new XClient({ apiUrl: emu.url, oauthUrl: emu.url, app: { consumerKey: emu.creds.consumer_key, consumerSecret: emu.creds.consumer_secret } })
    : new XClient({ apiUrl: 'http://127.0.0.1:9', oauthUrl: 'http://127.0.0.1:9', app: { consumerKey: 'k', consumerSecret: 's' } });
}

export function testServices(store: ServiceStore, o: TestServicesOptions = {}): Services {
  const secret = o.secretKey ?? TEST_SECRET_KEY;
  return {
    store,
    box: new SecretBox(secret),
    memberKeys: new MemberKeys(secret),
    phoneRegion: o.phoneRegion ?? 'US',
    x: o.x ?? testXClient(o.emu),
    log: o.log ?? pino({ level: 'silent' }),
    now: o.now ?? Date.now,
    notify: o.notify ?? (() => undefined),
    // The setup checks themselves are tested in test/doctor; an in-process app answers with an empty report.
    doctor: o.doctor ?? (async () => ({ ok: true, checked_at: new Date().toISOString(), checks: [] })),
  };
}
