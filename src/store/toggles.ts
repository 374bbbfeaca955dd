import type { IdentityType } from '../core/terms.ts';
import type { ConnectionToggles } from './port.ts';

/** The toggle of each identity type. */
export const TOGGLE_OF_TYPE: Record<IdentityType, keyof ConnectionToggles> = {
  email: 'forwardEmails',
  handle: 'forwardTwitterHandles',
  device_id: 'forwardDeviceIds',
  phone_number: 'forwardPhoneNumbers',
};

/** Whether a connection forwards one identity type: one downstream audience per type that is on. */
export function toggleFor(t: ConnectionToggles, type: IdentityType): boolean {
  return t[TOGGLE_OF_TYPE[type]];
}
