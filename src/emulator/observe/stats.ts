/** Counters for GET /_emulator/stats. */

export class Stats {
  /** "METHOD route-name" → status → count. */
  requests: Record<string, Record<string, number>> = {};
  total429 = 0;
  audiencesCreated: Record<string, number> = {};
  dropped = 0;
  faultsInjected = 0;

  count(route: string, status: number): void {
    const byStatus = (this.requests[route] ??= {});
    const key = String(status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    if (status === 429) this.total429++;
    if (status === 0) this.dropped++;
  }

  audienceCreated(accountId: string): void {
    this.audiencesCreated[accountId] = (this.audiencesCreated[accountId] ?? 0) + 1;
  }

  reset(): void {
    this.requests = {};
    this.total429 = 0;
    this.audiencesCreated = {};
    this.dropped = 0;
    this.faultsInjected = 0;
  }
}
