import type { ChangeOp, DownstreamState, IdentityType } from '../core/terms.ts';
import type { LookupRow } from './port.ts';
import { toggleFor } from './toggles.ts';
import { toConnection, type ConnectionRow } from './rows.ts';

/*
 * The lookup's answer, built the same way from both dialects' reads (sqlite/lookup.ts,
 * postgres/lookup.ts): the audiences holding an identity, the X audiences of its type whose X
 * ledger or outbox has it, the connections of those audiences, and whether the suppression list
 * holds it.
 */

export interface HoldingRead {
  audience_id: string;
  audience_name: string;
  holders: number;
}

export interface DownstreamRead {
  id: number;
  audience_id: string;
  audience_name: string | null;
  configuration_id: string;
  state: string;
  x_audience_id: string | null;
  confirmed: number | boolean | null;
  confirmed_at: number | null;
  op: string | null;
}

export function lookupRows(
  identity: { type: IdentityType; hash: string },
  suppressed: boolean,
  holding: HoldingRead[],
  downstreams: DownstreamRead[],
  connections: ConnectionRow[],
): LookupRow[] {
  const out: LookupRow[] = [];
  const held = new Map(holding.map((h) => [h.audience_id, h]));
  const forwarding = (audienceId: string, configurationId: string): boolean | null => {
    const k = connections.find((c) => c.audience_id === audienceId && c.configuration_id === configurationId);
    return k ? toggleFor(toConnection(k), identity.type) : null;
  };
  const covered = new Set<string>();
  for (const d of downstreams) {
    const h = held.get(d.audience_id);
    const onX = d.confirmed === null ? null : d.confirmed === true || d.confirmed === 1 ? 'confirmed' : 'uncertain';
    if (!h && onX === null && d.op === null) continue;
    const name = h?.audience_name ?? d.audience_name;
    if (name === null) continue; // a deleted audience's X audience, being deleted
    covered.add(`${d.audience_id}\n${d.configuration_id}`);
    out.push({
      audienceId: d.audience_id,
      audienceName: name,
      identityType: identity.type,
      hash: identity.hash,
      holders: h?.holders ?? 0,
      suppressed,
      downstream: {
        id: d.id,
        configurationId: d.configuration_id,
        state: d.state as DownstreamState,
        xAudienceId: d.x_audience_id,
        onX,
        confirmedAt: onX === 'confirmed' ? d.confirmed_at : null,
        pending: (d.op as ChangeOp | null) ?? null,
      },
      forwarding: d.state === 'detached' ? false : forwarding(d.audience_id, d.configuration_id),
    });
  }
  // Audiences holding it with no X audience of its type on a connection: not forwarded there.
  for (const h of holding) {
    const own = connections.filter((c) => c.audience_id === h.audience_id && !covered.has(`${c.audience_id}\n${c.configuration_id}`));
    const base = {
      audienceId: h.audience_id,
      audienceName: h.audience_name,
      identityType: identity.type,
      hash: identity.hash,
      holders: h.holders,
      suppressed,
      downstream: null,
    };
    if (own.length === 0 && !out.some((r) => r.audienceId === h.audience_id)) out.push({ ...base, forwarding: null });
    for (const c of own) out.push({ ...base, forwarding: toggleFor(toConnection(c), identity.type) });
  }
  return out;
}
