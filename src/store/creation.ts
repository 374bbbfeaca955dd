/*
 * When a downstream audience is created on X: the first time it is needed (docs/reference/product.md),
 * that is once it has a member to send. A connection that forwards handles for an audience with no
 * handle yet leaves no empty "(handle)" audience on X; the first handle's add creates it, and that
 * add fills it. The rule is written once, here, for both dialects' claim.ts and nextDueAt, and for
 * the status view (services/status.ts) that says the X audience waits for its first member.
 *
 * Needed means a pending add. A remove pending for a hash X never held (the member came and went
 * before anything was sent) is a no-op, dropped at the first send, and creates nothing. A
 * re-creation after X lost the audience follows the same rule: settle-not-found.ts queues every
 * member the ledger holds as an add, so an audience with members is re-created and refilled at once,
 * and one without waits like a new one. A deletion never waits: it calls X only for an X audience
 * that exists or may exist (sync/tasks/delete.ts).
 */

/**
 * SQL: the downstream audience `d` has no X audience and nothing to put in one, so no claim
 * picks it and no idle worker wakes for it. Its outbox is read by its primary key
 * (downstream_id, hash) and the scan stops at the first add.
 */
export function waitingForMemberSql(d: string): string {
  return `(${d}.x_audience_id IS NULL AND ${d}.state <> 'deleting'
    AND NOT EXISTS (SELECT 1 FROM outbox wo WHERE wo.downstream_id = ${d}.id AND wo.op = 'add'))`;
}

/** The same rule for a downstream audience already read with its pending figures (the status). */
export function waitingForMember(d: { xAudienceId: string | null; state: string; pendingAdds: number }): boolean {
  return d.xAudienceId === null && (d.state === 'creating' || d.state === 'recreating') && d.pendingAdds === 0;
}
