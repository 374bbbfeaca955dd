/**
 * An audience as X's API shows it (docs/reference/x-ads-api.md 4). Size and targetability:
 * - changed since the last sizing run: audience_size null, reasons PROCESSING (plus TOO_SMALL
 *   unless the last run found at least 100), targetable false;
 * - sized, fewer than 100 matched: audience_size null, reasons [TOO_SMALL], targetable false.
 *   X documents audience_size as "null while processing or below the threshold", and its DELETE
 *   example shows null with TOO_SMALL, so the emulator hides small sizes too (the true count is
 *   in the back door's listing);
 * - sized, 100 or more: audience_size = matched count, reasons [], targetable true.
 */
import { isoSeconds } from '../util/time.ts';
import type { Audience } from './audience.ts';
import { TARGETING_MINIMUM } from './sizing.ts';

export interface XAudience {
  targetable: boolean;
  name: string;
  targetable_types: string[];
  audience_type: 'CRM';
  description: string | null;
  permission_level: 'READ_WRITE';
  owner_account_id: string;
  is_owner: true;
  id: string;
  reasons_not_targetable: string[];
  created_at: string;
  updated_at: string;
  partner_source: 'OTHER';
  deleted: boolean;
  audience_size: number | null;
}

export function audienceView(a: Audience): XAudience {
  const processing = a.pendingSince !== null;
  const bigEnough = a.matchedSize !== null && a.matchedSize >= TARGETING_MINIMUM;
  const reasons: string[] = [];
  if (processing) reasons.push('PROCESSING');
  if (!bigEnough) reasons.push('TOO_SMALL');
  return {
    targetable: reasons.length === 0,
    name: a.name,
    targetable_types: ['CRM', 'EXCLUDED_CRM'],
    audience_type: 'CRM',
    description: a.description,
    permission_level: 'READ_WRITE',
    owner_account_id: a.accountId,
    is_owner: true,
    id: a.id,
    reasons_not_targetable: reasons,
    created_at: isoSeconds(a.createdAt),
    updated_at: isoSeconds(a.updatedAt),
    partner_source: 'OTHER',
    deleted: a.deleted,
    audience_size: !processing && bigEnough ? a.matchedSize : null,
  };
}
