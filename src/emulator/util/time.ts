/** X writes timestamps as ISO 8601 UTC without milliseconds, e.g. "2017-08-22T23:34:26Z". */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** ISO 8601 in UTC ("Z"), with optional fractional seconds: the form X documents for effective_at/expires_at. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?Z$/;

/** Milliseconds since the epoch, or undefined when `value` is not an ISO 8601 UTC time. */
export function parseIsoUtc(value: string): number | undefined {
  if (!ISO_UTC.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** `ms` plus `months` calendar months (UTC): X's default expires_at is 13 months after the request. */
export function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  d.setUTCMonth(d.getUTCMonth() + months);
  return d.getTime();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
