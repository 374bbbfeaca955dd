import type { Logger } from 'pino';
import type { SecretBox } from '../core/secret-box.ts';
import type { PhoneRegion } from '../identity/index.ts';
import type { MemberKeys } from '../membership/member-key.ts';
import type { DoctorReport } from '../doctor/checks.ts';
import type { AlertStore, AuditStore, CatalogStore, LedgerStore, PrivacyStore, SessionStore, StatusStore } from '../store/port.ts';
import type { XClient } from '../x/client.ts';

/**
 * The store as the HTTP sources and the UI see it: every role but the sync queue's (src/sync/ has
 * its own, QueueStore) and the owner's open and close (app.ts).
 */
export type ServiceStore = CatalogStore & LedgerStore & StatusStore & SessionStore & PrivacyStore & AuditStore & Pick<AlertStore, 'listWebhookEvents'>;

/** What the HTTP sources, the CLI and the UI share: wired once in app.ts. */
export interface Services {
  store: ServiceStore;
  box: SecretBox;
  /** Builds every member key (user ids and mpids keyed under TAILOR_SECRET_KEY). */
  memberKeys: MemberKeys;
  /** Where phone numbers written without a country code are read (TAILOR_DEFAULT_PHONE_REGION). */
  phoneRegion: PhoneRegion;
  x: XClient;
  log: Logger;
  now: () => number;
  /** Tells this process's sync workers that new changes wait. */
  notify: () => void;
  /** Runs the setup checks of `tailor doctor` (src/doctor/checks.ts) with this process's environment and store. */
  doctor: () => Promise<DoctorReport>;
  /** TAILOR_FLUSH_INTERVAL_MS, for the status's next send; the default when unset. */
  flushIntervalMs?: number;
}
