/**
 * Find a person: where their identities are held, per audience and X audience, and in what state.
 * Identities arrive hashed (REST hashes raw values in memory first; src/sources/rest/lookup.ts);
 * nothing here sees, stores or logs a raw value.
 */
import type { IdentityType } from '../core/terms.ts';
import type { LedgerStore, LookupRow, StatusStore } from '../store/port.ts';
import type { LookupState, LookupView } from './views.ts';

/**
 * The one rule from what the ledgers hold to the state shown. Suppression (docs/privacy.md) is
 * checked first: a suppressed identity is `suppressed` whatever the ledgers say (its removal from
 * X may still be pending; the privacy page follows that).
 */
export function lookupState(r: LookupRow): LookupState {
  if (r.suppressed) return 'suppressed';
  const d = r.downstream;
  if (r.forwarding !== true || d === null || d.state === 'detached') {
    // Not forwarded to X here; an X audience kept on X (detached) may still hold it.
    return d?.onX === 'confirmed' && r.forwarding === null ? 'on_x' : 'not_forwarded';
  }
  if (d.pending === 'add') return 'pending_add';
  if (d.pending === 'remove') return 'pending_remove';
  if (d.onX === 'uncertain') return 'uncertain';
  if (d.onX === 'confirmed') return 'on_x';
  // Held and forwarded, yet neither queued nor on X: X refused it (counted in `rejected`).
  return 'rejected';
}

/**
 * The rows of every audience and X audience holding one of the identities, and each identity's
 * own line: whether it is suppressed (read from the list, so one that no audience holds is said to
 * be suppressed too, not just absent) and whether any row holds it.
 */
export async function lookupView(
  store: Pick<StatusStore, 'lookup'> & Pick<LedgerStore, 'suppressedAmong'>,
  identities: { field: string; type: IdentityType; hash: string }[],
): Promise<LookupView> {
  const hashed = identities.map(({ type, hash }) => ({ type, hash }));
  const rows = await store.lookup(hashed);
  const listed = new Set((await store.suppressedAmong(hashed)).map((i) => `${i.type}:${i.hash}`));
  const fieldOf = (type: IdentityType, hash: string) => identities.find((i) => i.type === type && i.hash === hash)?.field ?? type;
  return {
    identities: identities.map((i) => ({
      field: i.field,
      identity_type: i.type,
      suppressed: listed.has(`${i.type}:${i.hash}`),
      held: rows.some((r) => r.identityType === i.type && r.hash === i.hash),
    })),
    results: rows.map((r) => ({
      field: fieldOf(r.identityType, r.hash),
      identity_type: r.identityType,
      audience_id: r.audienceId,
      audience_name: r.audienceName,
      in_audience: r.holders > 0,
      configuration_id: r.downstream?.configurationId ?? null,
      x_audience_id: r.downstream?.xAudienceId ?? null,
      state: lookupState(r),
      last_sent_at: r.downstream?.confirmedAt ? new Date(r.downstream.confirmedAt).toISOString() : null,
    })),
  };
}
