/**
 * The alert rule, pure: what the watch sees now against what it saw last (one state per subject,
 * kept in `alert_state`) gives the new states and the events their transitions raise. Called by
 * the store inside the watch's transaction (AlertStore.watchAlerts), so state and events commit
 * together: a transition raises its event exactly once, across restarts and processes.
 *
 *   configuration.needs_reauth  a configuration went to needs_reauth (X refused its tokens)
 *   configuration.resumed       it came back to active (re-authorized)
 *   x_audience.failing          a downstream audience's tasks have failed without a success in
 *                               between for at least `alertAfterMs` (TAILOR_ALERT_AFTER_MINUTES)
 *   x_audience.recovered        a task of one that was reported failing succeeded
 *   x_audience.recreated        its X audience id changed (X lost it; Tailor made a new one)
 *   x_audience.size_dropped     X's audience_size fell below half of the last size seen
 *   erasure.overdue             an erasure is not done ERASURE_DUE_MS after it was requested
 *                               (the store lists those: AlertObservations.overdueErasures)
 *   erasure.completed           one that was reported overdue is done (X acknowledged every removal)
 */
import type { AlertObservations, AlertOutcome, NewWebhookEvent } from '../store/port.ts';
import { describe, makeEvent, type AudienceRef, type ConfigurationRef, type XAudienceRef } from './events.ts';

/** An erasure not done within this is overdue (issue 17: older than 20 hours; X allows 24). */
export const ERASURE_DUE_MS = 20 * 3_600_000;
/** X's deadline for an opt-out to reach every audience (Ads API Agreement, Exhibit B 1.2). */
const ERASURE_DEADLINE_MS = 24 * 3_600_000;

interface ConfigurationState {
  state: string;
}
interface ErasureState {
  /** When the erasure was requested: the completed event says how long it took. */
  requestedAt: number;
}
interface DownstreamState {
  /** The last X audience id seen (kept while X's audience is being re-created). */
  x: string | null;
  /** The last size X reported for that audience. */
  size: number | null;
  /** When the watch first saw the current run of failures. */
  failingSince: number | null;
  /** Whether x_audience.failing was raised for this run. */
  failing: boolean;
}

export interface RuleOptions {
  now: number;
  alertAfterMs: number;
}

const parse = <T>(v: string | undefined): T | undefined => (v === undefined ? undefined : (JSON.parse(v) as T));

export function alertRule(seen: AlertObservations, previous: ReadonlyMap<string, string>, o: RuleOptions): AlertOutcome {
  const states: AlertOutcome['states'] = [];
  const events: NewWebhookEvent[] = [];
  const subjects = new Set<string>();
  const put = (subject: string, state: object): void => {
    subjects.add(subject);
    const json = JSON.stringify(state);
    if (previous.get(subject) !== json) states.push({ subject, state: json });
  };

  const configs = new Map<string, ConfigurationRef>();
  for (const c of seen.configurations) {
    const ref: ConfigurationRef = { id: c.id, name: c.name, account_id: c.accountId };
    configs.set(c.id, ref);
    const subject = `configuration:${c.id}`;
    const before = parse<ConfigurationState>(previous.get(subject));
    if (before?.state !== c.state) {
      if (c.state === 'needs_reauth')
        events.push(
          makeEvent(
            'configuration.needs_reauth',
            o.now,
            { configuration: ref },
            { reason: c.stateReason },
            `${describe.configuration(ref)} needs re-authorization${c.stateReason ? `: ${c.stateReason.replace(/\.$/, '')}` : ''}. Its changes wait; re-authorize it in Setup › Outputs.`,
          ),
        );
      else if (before?.state === 'needs_reauth' && c.state === 'active')
        events.push(
          makeEvent('configuration.resumed', o.now, { configuration: ref }, {}, `${describe.configuration(ref)} is authorized again; syncing resumed.`),
        );
    }
    put(subject, { state: c.state });
  }

  for (const d of seen.downstreams) {
    const subject = `downstream:${d.id}`;
    const before = parse<DownstreamState>(previous.get(subject));
    const audience: AudienceRef = { id: d.audienceId, name: d.audienceName };
    const configuration = configs.get(d.configurationId);
    const x: XAudienceRef = { id: d.xAudienceId, identity_type: d.identityType, downstream_id: d.id };
    const objects = { audience, x_audience: x, ...(configuration ? { configuration } : {}) };
    const what = describe.xAudience(audience, x, configuration);
    const next: DownstreamState = { x: d.xAudienceId ?? before?.x ?? null, size: before?.size ?? null, failingSince: null, failing: false };

    const recreated = before?.x != null && d.xAudienceId !== null && d.xAudienceId !== before.x;
    if (recreated) {
      events.push(
        makeEvent(
          'x_audience.recreated',
          o.now,
          objects,
          { old_x_audience_id: before.x, new_x_audience_id: d.xAudienceId },
          `X lost ${what} (X id ${before.x}); Tailor created ${d.xAudienceId} and is filling it again from the ledger. Campaigns targeting the old id need the new one.`,
        ),
      );
      next.size = d.audienceSize;
    } else if (d.xAudienceId !== null && d.audienceSize !== null) {
      const last = before?.size ?? null;
      if (last !== null && last > 0 && d.audienceSize < last / 2)
        events.push(
          makeEvent(
            'x_audience.size_dropped',
            o.now,
            objects,
            { size_before: last, size_after: d.audienceSize },
            `X's size of ${what} fell from ${last} to ${d.audienceSize}, by more than half. Check the source audience and recent removals.`,
          ),
        );
      next.size = d.audienceSize;
    }

    if (d.attempts > 0) {
      next.failingSince = before?.failingSince ?? o.now;
      next.failing = before?.failing ?? false;
      if (!next.failing && o.now - next.failingSince >= o.alertAfterMs) {
        next.failing = true;
        const minutes = Math.round((o.now - next.failingSince) / 60_000);
        events.push(
          makeEvent(
            'x_audience.failing',
            o.now,
            objects,
            { failing_since: new Date(next.failingSince).toISOString(), attempts: d.attempts, last_error: d.lastError },
            `${what} has been failing for ${minutes < 1 ? 'under a minute' : `${minutes} min`} (${d.attempts} attempts)${d.lastError ? `: ${d.lastError}` : ''}. Changes wait and are retried.`,
          ),
        );
      }
    } else if (before?.failing === true) {
      events.push(makeEvent('x_audience.recovered', o.now, objects, {}, `${what} is syncing again.`));
    }
    put(subject, next);
  }

  // An overdue erasure is listed until it is done: erasures are never deleted and a pending one
  // only ages, so one reported and no longer listed has completed.
  const hours = (ms: number): number => Math.max(0, Math.floor(ms / 3_600_000));
  for (const e of seen.overdueErasures) {
    const subject = `erasure:${e.id}`;
    subjects.add(subject);
    if (previous.has(subject)) continue;
    const state: ErasureState = { requestedAt: e.requestedAt };
    states.push({ subject, state: JSON.stringify(state) });
    const left = hours(e.requestedAt + ERASURE_DEADLINE_MS - o.now);
    events.push(
      makeEvent(
        'erasure.overdue',
        o.now,
        { erasure: { id: e.id } },
        { requested_at: new Date(e.requestedAt).toISOString() },
        `erasure ${e.id} is not done ${hours(o.now - e.requestedAt)} h after it was requested; X allows ${hours(ERASURE_DEADLINE_MS)} h${left > 0 ? ` (${left} h left)` : ''}. See Privacy for a configuration to re-authorize or an X audience that keeps failing.`,
      ),
    );
  }
  for (const [subject, json] of previous) {
    if (!subject.startsWith('erasure:') || subjects.has(subject)) continue;
    const id = subject.slice('erasure:'.length);
    const requestedAt = parse<Partial<ErasureState>>(json)?.requestedAt;
    const took = typeof requestedAt === 'number' ? ` ${hours(o.now - requestedAt)} h after it was requested` : '';
    events.push(
      makeEvent(
        'erasure.completed',
        o.now,
        { erasure: { id } },
        { requested_at: typeof requestedAt === 'number' ? new Date(requestedAt).toISOString() : null },
        `erasure ${id} is done${took}: X acknowledged every removal.`,
      ),
    );
  }

  // Subjects no longer seen (deleted, detached; erasures done) are forgotten.
  for (const subject of previous.keys()) if (!subjects.has(subject)) states.push({ subject, state: null });
  return { states, events };
}
