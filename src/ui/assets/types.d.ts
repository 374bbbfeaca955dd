/**
 * The JSON the web UI reads, for the type checker only (tsconfig.ui.json); the browser never
 * loads this file (its name is not a servable asset, and it holds no code). The shapes follow
 * src/services/status.ts (audienceView, downstreamView, historyView),
 * src/services/configurations.ts (configurationView), the routes in src/sources/rest/ and the UI's
 * own /ui/deleting/:id in src/server/ui.ts. Times are ISO 8601 strings. Nothing checks the server
 * against these at run time: keep them in step when a view changes.
 *
 * Plain JSON only here (no DOM types): the project's main tsconfig also sees this file.
 */

export type IdentityType = 'email' | 'handle' | 'device_id' | 'phone_number';
export type DownstreamState = 'creating' | 'waiting_for_member' | 'active' | 'detached' | 'recreating' | 'paused' | 'deleting' | 'deleted';
export type ConfigurationState = 'active' | 'needs_reauth';

/** The four Forward settings of a connection, as PUT …/connections/:configurationId takes them. */
export type ToggleKey = 'forward_emails' | 'forward_twitter_handles' | 'forward_device_ids' | 'forward_phone_numbers';
export type Toggles = Record<ToggleKey, boolean>;

/** GET /api/v1/configurations → { data: Configuration[] } */
export interface Configuration {
  id: string;
  name: string;
  account_id: string;
  account_name: string | null;
  x_user_id: string | null;
  screen_name: string | null;
  state: ConfigurationState;
  state_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** One X audience of a connection (downstreamView). */
export interface Downstream {
  identity_type: IdentityType;
  x_audience_id: string | null;
  name: string | null;
  state: DownstreamState;
  /** On X: confirmed by X. */
  members: number;
  /** What X should hold (the ledger). */
  target: number;
  pending: number;
  pending_adds: number;
  pending_removes: number;
  uncertain: number;
  oldest_pending_at: string | null;
  next_send_at: string | null;
  sent_adds: number;
  sent_removes: number;
  renewed: number;
  rejected: number;
  audience_size: number | null;
  targetable: boolean | null;
  reasons_not_targetable: string[];
  processing_since: string | null;
  sized_at: string | null;
  sized_members: number | null;
  match_rate: number | null;
  name_suffix: number;
  last_synced_at: string | null;
  last_refreshed_at: string | null;
  last_error: string | null;
  last_error_at: string | null;
  last_error_resolved_at: string | null;
  recent_errors: { at: string | null; message: string; resolved: boolean }[];
  next_attempt_at: string | null;
  previous_x_audience_id: string | null;
  recreated_at: string | null;
  needs_attention: boolean;
  /** A resync in progress. */
  resync: { requested_at: string; total: number; remaining: number } | null;
  /** While being deleted: the campaigns holding the deletion back. */
  deletion_blocked_by: Campaign[] | null;
}

/** A campaign whose active line items target an X audience (X's `targeted`). */
export interface Campaign {
  campaign_id: string;
  campaign_name: string | null;
  line_items: { id: string; name: string | null; servable: boolean | null }[];
}

/** One place a person's identity is held (POST /api/v1/lookup → { results }). */
export interface LookupResult {
  field: string;
  identity_type: IdentityType;
  audience_id: string;
  audience_name: string;
  in_audience: boolean;
  configuration_id: string | null;
  x_audience_id: string | null;
  state: 'on_x' | 'pending_add' | 'pending_remove' | 'uncertain' | 'suppressed' | 'not_forwarded' | 'rejected';
  last_sent_at: string | null;
}

/** POST /api/v1/lookup → { results: LookupResult[], identities: LookupIdentity[] } */
export interface LookupIdentity {
  field: string;
  identity_type: IdentityType;
  suppressed: boolean;
  held: boolean;
}

/** GET /api/v1/deletions → { data: WaitingDeletion[] } */
export interface WaitingDeletion {
  audience_id: string;
  configuration_id: string;
  identity_type: IdentityType;
  x_audience_id: string | null;
  name: string | null;
  force: boolean;
  blocked_by: Campaign[] | null;
  next_attempt_at: string | null;
  last_error: string | null;
}

/** An X audience whose connection is gone (kept on X, or being deleted). */
export interface OtherDownstream extends Downstream {
  configuration_id: string;
}

export interface Connection extends Toggles {
  configuration_id: string;
  /** null when the configuration is gone (the view joins it by id). */
  configuration_name: string | null;
  account_id: string | null;
  configuration_state: ConfigurationState | null;
  configuration_state_reason: string | null;
  /** null: near real time. */
  send_interval_minutes: number | null;
  created_at: string | null;
  downstream_audiences: Downstream[];
}

/** GET /api/v1/audiences/:id, and each item of GET /api/v1/audiences → AudiencePage */
export interface Audience {
  id: string;
  name: string;
  origin?: 'api' | 'firehose';
  members: number;
  created_at: string | null;
  updated_at: string | null;
  rejected_identities: { reason: string; count: number; last_at: string | null }[];
  connections: Connection[];
  other_downstream_audiences: OtherDownstream[];
}

/** The list routes wrap their items. */
export interface List<T> {
  data: T[];
}

/** GET /api/v1/audiences?q=&state=&sort=&limit=&cursor= */
export interface AudiencePage extends List<Audience> {
  next_cursor: string | null;
  needs_attention: number;
}

/** One `users` call of GET /api/v1/audiences/:id/deliveries. */
export interface Delivery {
  id: number;
  configuration_id: string;
  identity_type: IdentityType;
  x_audience_id: string | null;
  at: string;
  adds: number;
  removes: number;
  bytes: number;
  status: number | null;
  success_count: number | null;
  total_count: number | null;
  duration_ms: number;
  error: string | null;
  resolved: boolean;
}

export interface DeliveryPage extends List<Delivery> {
  next_cursor: string | null;
}

/** One point of GET /api/v1/audiences/:id/history. */
export interface Sample {
  at: string;
  members: number;
  audience_size: number | null;
  sized_members: number | null;
}

/** What happened to a downstream audience, marked on its chart. */
export interface ChartEvent {
  at: string;
  kind: 'paused' | 'resumed' | 'recreated' | 'renamed';
  /** recreated: the X id X lost; renamed: the new name on X. */
  detail: string | null;
}

/** GET /api/v1/audiences/:id/history[?since=]. */
export interface History {
  id: string;
  downstream_audiences: { identity_type: IdentityType; configuration_id: string; x_audience_id: string | null; samples: Sample[]; events: ChartEvent[] }[];
}

/** DELETE /api/v1/audiences/:id (202). */
export interface AudienceDeleted {
  deleted: true;
  deleting_x_audiences: { x_audience_id: string; name: string | null }[];
}

/** GET /ui/deleting/:id: the X audiences of a deleted audience still being deleted on X. */
export interface StillDeleting {
  x_audiences: { x_audience_id: string | null; name: string | null; last_error: string | null }[];
}

/** A deletion the Audiences page follows (kept in sessionStorage between pages). */
export interface Deletion {
  name: string;
  xAudiences: AudienceDeleted['deleting_x_audiences'];
}

/** A value or nested arrays of them (dom.js's children; a JSDoc typedef cannot recurse). */
/** One entry of GET /api/v1/audit (src/services/audit-view.ts). */
export interface AuditEntry {
  id: number;
  at: string;
  actor: 'admin_token' | 'ui_session' | 'firehose' | 'cli' | 'worker';
  action: string;
  object_type: 'configuration' | 'audience' | 'connection' | 'suppression' | 'erasure';
  object_id: string | null;
  audience_id: string | null;
  configuration_id: string | null;
  details: Record<string, string | number | boolean | null> | null;
}

/** GET /api/v1/audit?cursor=&limit= → newest first; next_cursor is null on the last page. */
export interface AuditPage {
  data: AuditEntry[];
  next_cursor: string | null;
}

export type Tree<Leaf> = Leaf | Tree<Leaf>[];

/** GET /api/v1/health/checks: the setup checks of `tailor doctor`. */
export interface HealthCheck {
  id: string;
  title: string;
  status: 'pass' | 'warn' | 'fail';
  detail: string;
  fix: string | null;
}
export interface HealthReport {
  ok: boolean;
  checked_at: string;
  checks: HealthCheck[];
}

/** GET /api/v1/events: an alert event and its webhook delivery. */
export interface AlertEvent {
  id: string;
  type: string;
  time: string;
  text: string;
  objects: Record<string, unknown>;
  details: Record<string, unknown>;
  delivery: 'pending' | 'delivered' | 'unsent';
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  delivered_at: string | null;
}

/** One erasure (GET /api/v1/erasures/:id; erasureViewSchema in src/services/privacy.ts). */
export interface Erasure {
  id: string;
  state: 'pending' | 'done';
  source: 'api' | 'firehose';
  received_at: string;
  completed_at: string | null;
  members_erased: number;
  x_audiences: number;
}

/** GET /api/v1/privacy: the 24-hour clock (privacyViewSchema in src/services/privacy.ts). */
export interface Privacy {
  erasures_pending: number;
  oldest_pending_erasure_age_seconds: number | null;
  suppressions_pending: number;
  oldest_pending_suppression_age_seconds: number | null;
  warn_after_seconds: number;
  waiting_on_reauth: { configuration_id: string; name: string }[];
  erasures: Erasure[];
}
