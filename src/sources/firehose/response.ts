import { randomUUID } from 'node:crypto';
import { SDK_VERSION } from './schema.ts';

/**
 * The envelope every Firehose response carries: a new random UUID `id` (as mParticle's Java SDK
 * does), the answer time, and the request's `firehose_version` (legacy messages have none).
 */
export function responseEnvelope(
  type: string,
  request: { firehose_version?: unknown },
): { type: string; id: string; timestamp_ms: number; firehose_version: string } {
  const version = typeof request.firehose_version === 'string' && request.firehose_version !== '' ? request.firehose_version : SDK_VERSION;
  return { type, id: randomUUID(), timestamp_ms: Date.now(), firehose_version: version };
}
