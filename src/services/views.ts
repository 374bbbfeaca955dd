/**
 * The JSON shapes of the views services build for `/api/v1` (status.ts, configurations.ts), as
 * zod schemas: the views are typed from them, the routes declare them as their responses, and the
 * OpenAPI document (`GET /api/v1/openapi.json`, src/server/openapi.ts) is generated from them.
 * test/server/openapi.test.ts checks real answers against them. Times are ISO 8601 strings.
 * The web UI's own copy of these types is src/ui/assets/types.d.ts (it cannot import this file).
 */
import { z } from 'zod';
import { ACTORS, DOWNSTREAM_EVENT_KINDS, IDENTITY_TYPES } from '../core/terms.ts';

const time = z.iso.datetime().describe('ISO 8601 time (UTC)');

export const identityType = z.enum(IDENTITY_TYPES).describe('The X `users` key of a downstream audience: one X audience per type');
export const downstreamState = z
  .enum(['creating', 'waiting_for_member', 'active', 'detached', 'recreating', 'paused', 'deleting', 'deleted'])
  .describe(
    'creating: no X audience yet, being created for the members due; waiting_for_member: no X audience yet and no member of its identity type to send, created on X when the first one comes (after a re-creation too); detached: Forward toggle off, kept on X; recreating: deleted on X by hand, being refilled; paused: its configuration needs re-authorization; deleting: its audience was deleted',
  );
export const configurationState = z.enum(['active', 'needs_reauth']);

export const campaignSchema = z
  .object({
    campaign_id: z.string(),
    campaign_name: z.string().nullable(),
    line_items: z.array(z.object({ id: z.string(), name: z.string().nullable(), servable: z.boolean().nullable() })),
  })
  .meta({ id: 'TargetingCampaign', description: 'A campaign whose active line items target an X audience (X’s `targeted`)' });

export const configurationViewSchema = z
  .object({
    id: z.string().describe('The configuration id (a UUID)'),
    name: z.string(),
    account_id: z.string().describe('The X ad account id'),
    account_name: z.string().nullable(),
    x_user_id: z.string().nullable(),
    screen_name: z.string().nullable(),
    state: configurationState,
    state_reason: z.string().nullable(),
    created_at: time,
    updated_at: time,
  })
  .meta({ id: 'Configuration', description: 'An X ad account and the tokens Tailor writes to it with (the tokens are never returned)' });

export const downstreamViewSchema = z
  .object({
    identity_type: identityType,
    x_audience_id: z.string().nullable(),
    name: z.string().nullable().describe('The name on X, once created'),
    state: downstreamState,
    members: z.number().int().describe('On X: hashes X confirmed it holds (the X ledger), uncertain ones not counted'),
    target: z
      .number()
      .int()
      .describe('What X should hold, from the audience ledger: `members` plus pending adds of hashes not confirmed, minus pending removes of confirmed ones'),
    pending: z.number().int().describe('Changes queued for X: `pending_adds` + `pending_removes`'),
    pending_adds: z.number().int(),
    pending_removes: z.number().int(),
    uncertain: z.number().int().describe('Hashes a call touched whose answer never came: neither assumed on X nor off it; the next change of each is sent'),
    oldest_pending_at: time.nullable().describe('When the oldest waiting change was queued (its age is how long it has waited); null when nothing waits'),
    next_send_at: time
      .nullable()
      .describe(
        'When the waiting changes are due to go at the latest (the flush interval after the oldest, or after a backoff; a full request goes sooner; with a cadence, not before its next window, shown even when nothing waits); null when nothing waits (near real time) or its configuration is paused',
      ),
    sent_adds: z.number().int(),
    sent_removes: z.number().int(),
    renewed: z.number().int().describe('Hashes sent again before X’s 13-month expiry (TAILOR_RENEW_AFTER_DAYS)'),
    rejected: z.number().int(),
    audience_size: z
      .number()
      .int()
      .nullable()
      .describe('X’s matched size as X last reported it (kept while X processes); null until X has sized it, or below X’s threshold'),
    targetable: z.boolean().nullable().describe('As X last reported it (kept while X processes)'),
    reasons_not_targetable: z.array(z.string()),
    processing_since: time.nullable().describe('Since when X has answered PROCESSING: the size and targetability shown are X’s last report before'),
    sized_at: time.nullable().describe('When Tailor read the size (or TOO_SMALL) shown'),
    sized_members: z.number().int().nullable().describe('Members on X when X’s size was read: the membership X sized'),
    match_rate: z.number().nullable().describe('audience_size / sized_members, three decimals; null until X has sized it'),
    name_suffix: z.number().int().describe('1 for `<name> (email)`, 2 for `<name> (email) [2]`, …'),
    last_synced_at: time.nullable(),
    last_refreshed_at: time.nullable(),
    last_error: z.string().nullable(),
    last_error_at: time.nullable(),
    last_error_resolved_at: time.nullable().describe('When a later call to X succeeded (the error is resolved); null while it stands'),
    recent_errors: z.array(z.object({ at: time, message: z.string(), resolved: z.boolean().describe('A later call to X succeeded') })),
    next_attempt_at: time.nullable(),
    previous_x_audience_id: z
      .string()
      .nullable()
      .describe('The X audience id X lost (deleted on X); it was re-created under `x_audience_id`, so campaigns targeting the old id must be re-pointed'),
    recreated_at: time.nullable(),
    needs_attention: z.boolean().describe('Paused, failing, being re-created, or sized by X and not targetable'),
    resync: z
      .object({ requested_at: time, total: z.number().int(), remaining: z.number().int() })
      .nullable()
      .describe('A resync in progress: hashes X held when it was asked for, and how many are still to be sent again'),
    deletion_blocked_by: z
      .array(campaignSchema)
      .nullable()
      .describe('While being deleted: the campaigns with active line items that hold the deletion back (delete with force to proceed)'),
  })
  .meta({ id: 'DownstreamAudience', description: 'One X audience of an audience, per configuration and identity type' });

export const connectionViewSchema = z
  .object({
    configuration_id: z.string(),
    configuration_name: z.string().nullable(),
    account_id: z.string().nullable(),
    configuration_state: configurationState.nullable(),
    configuration_state_reason: z.string().nullable(),
    forward_emails: z.boolean(),
    forward_twitter_handles: z.boolean(),
    forward_device_ids: z.boolean(),
    forward_phone_numbers: z.boolean(),
    send_interval_minutes: z
      .number()
      .int()
      .nullable()
      .describe('null: near real time (TAILOR_FLUSH_INTERVAL_MS); else each X audience’s adds and removes go at most once per interval'),
    created_at: time.nullable(),
    downstream_audiences: z.array(downstreamViewSchema),
  })
  .meta({ id: 'Connection' });

export const audienceViewSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    origin: z.enum(['api', 'firehose']).describe('api: PUT /api/v1/audiences/{id} (or an import); firehose: created by a Firehose message'),
    members: z.number().int(),
    created_at: time.nullable(),
    updated_at: time.nullable(),
    rejected_identities: z.array(z.object({ reason: z.string(), count: z.number().int(), last_at: time })).describe('Identifiers dropped at ingest, by reason'),
    connections: z.array(connectionViewSchema),
    other_downstream_audiences: z
      .array(downstreamViewSchema.extend({ configuration_id: z.string() }))
      .describe('X audiences whose connection was removed (kept on X) or that are being deleted'),
  })
  .meta({ id: 'Audience' });

export const historyViewSchema = z
  .object({
    id: z.string(),
    downstream_audiences: z.array(
      z.object({
        identity_type: identityType,
        configuration_id: z.string(),
        x_audience_id: z.string().nullable(),
        samples: z.array(
          z.object({
            at: time,
            members: z.number().int(),
            audience_size: z.number().int().nullable(),
            sized_members: z.number().int().nullable().describe('The membership X’s size was read against'),
          }),
        ),
        events: z
          .array(
            z.object({
              at: time,
              kind: z
                .enum(DOWNSTREAM_EVENT_KINDS)
                .describe(
                  'paused: its configuration needs re-authorization; resumed: re-authorized; recreated: X lost the audience and Tailor re-created it; renamed: renamed on X to follow its audience',
                ),
              detail: z.string().nullable().describe('recreated: the X audience id X lost; renamed: the new name on X; else null'),
            }),
          )
          .describe('What happened to it, oldest first (the chart marks them); kept as long as the samples'),
      }),
    ),
  })
  .meta({ id: 'History', description: 'Members sent and X’s size over time, and what happened, per downstream audience' });

export const deletionViewSchema = z
  .object({
    audience_id: z.string(),
    configuration_id: z.string(),
    identity_type: identityType,
    x_audience_id: z.string().nullable(),
    name: z.string().nullable(),
    force: z.boolean().describe('Confirmed with force: deleted even though campaigns use it'),
    blocked_by: z.array(campaignSchema).nullable().describe('Campaigns with active line items using it, as X last named them'),
    next_attempt_at: time.nullable(),
    last_error: z.string().nullable(),
  })
  .meta({ id: 'Deletion', description: 'An X audience of a deleted audience, still to be deleted on X' });

export const lookupStateSchema = z
  .enum(['on_x', 'pending_add', 'pending_remove', 'uncertain', 'suppressed', 'not_forwarded', 'rejected'])
  .describe(
    'on_x: X confirmed it; pending_add / pending_remove: queued; uncertain: sent, answer never settled; suppressed: held back by a suppression; not_forwarded: the connection does not forward this type; rejected: X refused it',
  );

export const lookupViewSchema = z
  .object({
    results: z.array(
      z.object({
        field: z.string().describe('The member field the identity was given in'),
        identity_type: identityType,
        audience_id: z.string(),
        audience_name: z.string(),
        in_audience: z.boolean().describe('A member of the audience holds it'),
        configuration_id: z.string().nullable(),
        x_audience_id: z.string().nullable(),
        state: lookupStateSchema,
        last_sent_at: time.nullable().describe('When X last confirmed an Update of it'),
      }),
    ),
    identities: z
      .array(
        z.object({
          field: z.string().describe('The member field as given'),
          identity_type: identityType,
          suppressed: z.boolean().describe('On the suppression list: kept off every X audience, whoever holds it'),
          held: z.boolean().describe('Some audience or X audience holds it (it has rows in `results`)'),
        }),
      )
      .describe('One per identity given, found or not: a suppressed identity that no audience holds is still said to be suppressed'),
  })
  .meta({ id: 'Lookup', description: 'Where a person’s identities are held; never the values' });
export const auditEntryViewSchema = z
  .object({
    id: z.number().int().describe('Increasing: the order of the log'),
    at: time,
    actor: z
      .enum(ACTORS)
      .describe(
        'Who made the change: the admin token, a web UI session, mParticle’s Firehose, the CLI, or a sync worker (a configuration paused because X refused its tokens, an erasure X acknowledged in full)',
      ),
    action: z
      .string()
      .describe(
        '`<object type>.<verb>`, e.g. `audience.created`, `connection.updated`, `connection.resync_requested`, `configuration.paused`, `erasure.completed` (docs/privacy.md lists them all)',
      ),
    object_type: z.enum(['configuration', 'audience', 'connection', 'suppression', 'erasure']),
    object_id: z.string().nullable().describe('The object’s id (a connection’s is `<audience id>/<configuration id>`); never an identity'),
    audience_id: z.string().nullable(),
    configuration_id: z.string().nullable(),
    details: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .nullable()
      .describe('Toggles, counts, a state; never an identity'),
  })
  .meta({ id: 'AuditEntry', description: 'One change, as the append-only audit log recorded it' });

export const auditPageSchema = z
  .object({
    data: z.array(auditEntryViewSchema).describe('Newest first'),
    next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page; null on the last page'),
  })
  .meta({ id: 'AuditPage' });

export const healthCheckSchema = z.object({
  id: z.string().describe('Stable, for scripts: `env`, `database.writable`, `x.app`, `configuration.<id>`, …'),
  title: z.string(),
  status: z.enum(['pass', 'warn', 'fail']),
  detail: z.string().describe('What the check found, in words'),
  fix: z.string().nullable().describe('What to do; null when it passes'),
});

export const healthReportSchema = z
  .object({
    ok: z.boolean().describe('True when no check failed (`tailor doctor` exits 0 exactly then)'),
    checked_at: time,
    checks: z.array(healthCheckSchema),
  })
  .meta({ id: 'HealthReport', description: 'The setup checks of `tailor doctor` (src/doctor/checks.ts), run now' });

export const alertEventViewSchema = z
  .object({
    id: z.string().describe('Unique per event; repeated deliveries of one event carry the same id'),
    type: z
      .string()
      .describe(
        'configuration.needs_reauth, configuration.resumed, x_audience.failing, x_audience.recovered, x_audience.recreated, x_audience.size_dropped, erasure.overdue, erasure.completed',
      ),
    time: time,
    text: z.string().describe('One line in words, as Slack-compatible receivers show it'),
    objects: z.record(z.string(), z.unknown()).describe('What is involved, by kind (configuration, audience, x_audience, erasure)'),
    details: z.record(z.string(), z.unknown()),
    delivery: z.enum(['pending', 'delivered', 'unsent']).describe('unsent: no TAILOR_WEBHOOK_URL when it was raised'),
    attempts: z.number().int(),
    next_attempt_at: time.nullable().describe('When pending: the next attempt'),
    last_status: z.number().int().nullable().describe("The receiver's last HTTP status; null when none came"),
    last_error: z.string().nullable(),
    delivered_at: time.nullable(),
  })
  .meta({ id: 'AlertEvent', description: 'An alert event and its webhook delivery' });

export type HealthReportView = z.infer<typeof healthReportSchema>;
export type AlertEventView = z.infer<typeof alertEventViewSchema>;
export type ConfigurationView = z.infer<typeof configurationViewSchema>;
export type AuditEntryView = z.infer<typeof auditEntryViewSchema>;
export type AuditPage = z.infer<typeof auditPageSchema>;
export type DownstreamView = z.infer<typeof downstreamViewSchema>;
export type AudienceView = z.infer<typeof audienceViewSchema>;
export type HistoryView = z.infer<typeof historyViewSchema>;
export type DeletionView = z.infer<typeof deletionViewSchema>;
export type LookupView = z.infer<typeof lookupViewSchema>;
export type LookupState = z.infer<typeof lookupStateSchema>;

export const deliveryViewSchema = z
  .object({
    id: z.number().int(),
    configuration_id: z.string(),
    identity_type: identityType,
    x_audience_id: z.string().nullable(),
    at: time.describe('When the call started'),
    adds: z.number().int(),
    removes: z.number().int(),
    bytes: z.number().int().describe('Request body size'),
    status: z.number().int().nullable().describe('X’s HTTP status; null when no answer came'),
    success_count: z.number().int().nullable(),
    total_count: z.number().int().nullable(),
    duration_ms: z.number().int(),
    error: z.string().nullable(),
    resolved: z.boolean().describe('For a failed call: a later call to the same X audience succeeded'),
  })
  .meta({ id: 'Delivery', description: 'One `users` call to X (the delivery log, kept TAILOR_DELIVERY_LOG_DAYS)' });

export const deliveriesViewSchema = z.object({
  data: z.array(deliveryViewSchema),
  next_cursor: z.string().nullable().describe('Pass as `cursor` for the next (older) page; null on the last'),
});

export type DeliveryView = z.infer<typeof deliveryViewSchema>;
