/**
 * A custom audience as X keeps it. Sizing state: `pendingSince` is the time of the first change
 * not yet sized (null when the last sizing run saw every change); `matchedSize` is the count the
 * last sizing run found (null before the first run).
 */
import type { MemberSets } from './membership.ts';

export interface Audience {
  id: string;
  /** Creation order across the emulator; breaks ties in sorting and pagination. */
  seq: number;
  accountId: string;
  name: string;
  description: string | null;
  createdAt: number;
  updatedAt: number;
  deleted: boolean;
  members: MemberSets;
  pendingSince: number | null;
  matchedSize: number | null;
  sizedAt: number | null;
  /** When a membership window opens or closes next, the size is refreshed (no PROCESSING). */
  refreshAt: number | null;
  /** Campaigns whose line items target this audience (2.8 `targeted`), set through the back door. */
  campaigns?: TargetingCampaign[];
}

/** A campaign targeting an audience, as `targeted` answers it (2.8), plus whether each line item is active. */
export interface TargetingCampaign {
  campaign_id: string;
  campaign_name: string;
  line_items: { id: string; name: string; servable: boolean; active: boolean }[];
}
