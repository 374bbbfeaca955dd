import type { IdentityType } from '../core/terms.ts';
import type { ConnectionToggles } from './port.ts';

/** Whether a connection forwards one identity type: one downstream audience per type that is on. */
export function toggleFor(t: ConnectionToggles, type: IdentityType): boolean {
  return type === 'email' ? t.forwardEmails : type === 'handle' ? t.forwardTwitterHandles : t.forwardDeviceIds;
}
