/**
 * The alert events Tailor raises and what each carries. Every event is one JSON object, the body
 * of one webhook POST: `id` (unique, the receiver's key for de-duplication: a delivery may be
 * repeated, an id never names two events), `type`, `time` (ISO 8601, when Tailor saw the
 * transition), `objects` (what is involved, by kind), `details` (the figures of this type) and
 * `text`, one line in words that Slack-compatible receivers (Slack, Mattermost, Rocket.Chat,
 * Discord's /slack endpoint) display as it is.
 */
import { randomUUID } from 'node:crypto';
import type { IdentityType } from '../core/terms.ts';
import type { NewWebhookEvent } from '../store/port.ts';

export const EVENT_TYPES = [
  'configuration.needs_reauth',
  'configuration.resumed',
  'x_audience.failing',
  'x_audience.recovered',
  'x_audience.recreated',
  'x_audience.size_dropped',
  'erasure.overdue',
  'erasure.completed',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface ConfigurationRef {
  id: string;
  name: string;
  account_id: string;
}
export interface AudienceRef {
  id: string;
  name: string;
}
export interface XAudienceRef {
  /** The X audience's id; null while X's audience is being re-created. */
  id: string | null;
  identity_type: IdentityType;
  /** Tailor's downstream audience (one per audience × configuration × identity type). */
  downstream_id: number;
}

export interface EventObjects {
  configuration?: ConfigurationRef;
  audience?: AudienceRef;
  x_audience?: XAudienceRef;
  erasure?: { id: string };
}

export interface EventBody {
  id: string;
  type: EventType;
  time: string;
  objects: EventObjects;
  details: Record<string, string | number | null>;
  text: string;
}

/** Builds an event; the body is serialized once here and delivered (and signed) byte for byte. */
export function makeEvent(type: EventType, at: number, objects: EventObjects, details: EventBody['details'], text: string): NewWebhookEvent {
  const body: EventBody = { id: `evt_${randomUUID()}`, type, time: new Date(at).toISOString(), objects, details, text: `Tailor: ${text}` };
  return { id: body.id, type, occurredAt: at, body: JSON.stringify(body) };
}

const q = (s: string): string => `“${s}”`;

export const describe = {
  configuration: (c: ConfigurationRef): string => `configuration ${q(c.name)} (X ad account ${c.account_id})`,
  xAudience: (a: AudienceRef, x: XAudienceRef, c: ConfigurationRef | undefined): string =>
    `the ${x.identity_type} audience of ${q(a.name)}${c ? ` on ${q(c.name)}` : ''}`,
};
