/**
 * `dsr_processing_request`: a data-subject request (GDPR/CCPA erasure) from mParticle
 * (docs/reference/mparticle-firehose.md section 21, docs/privacy.md). The erasure is recorded
 * durably, once per `subject_request_id` (mParticle retries), before the answer; the ledger's part
 * is done in the same transaction and X follows through the workers. The request carries no mpid
 * and no handle: the members are found through the identities given, and their other identities
 * (the handle) go with them.
 */
import { z } from 'zod';
import type { IdentityKind } from '../../identity/index.ts';
import type { SourceIdentity } from '../../membership/changes.ts';
import type { Services } from '../../services/deps.ts';
import { requestErasure } from '../../services/privacy.ts';
import { responseEnvelope } from './response.ts';

/** OpenDSR identity types Tailor can match, and the member field each one is. Others are ignored. */
const OPEN_DSR_KINDS: Record<string, IdentityKind> = {
  email: 'email',
  ios_advertising_id: 'ios_advertising_id',
  // OpenDSR's name for the GAID (audience messages call it google_advertising_id).
  android_advertising_id: 'google_advertising_id',
};

const identity = z.object({ encoding: z.string().max(16).optional(), value: z.string().max(1024, 'must be at most 1024 characters') });

export const dsrRequest = z.object({
  type: z.literal('dsr_processing_request'),
  firehose_version: z.string().optional(),
  account: z.object({ account_id: z.union([z.number(), z.string().max(64)]).optional() }).optional(),
  subject_request_id: z.string().min(1).max(128, 'must be at most 128 characters'),
  subject_request_type: z.literal('erasure', { error: 'Tailor supports erasure only (its registration declares supported_dsr_types ["erasure"])' }),
  subject_identities: z.record(z.string(), identity).optional(),
});
export type DsrRequest = z.infer<typeof dsrRequest>;

export async function handleDsr(s: Services, req: DsrRequest): Promise<Record<string, unknown>> {
  const identities: SourceIdentity[] = [];
  for (const [type, id] of Object.entries(req.subject_identities ?? {})) {
    const kind = OPEN_DSR_KINDS[type];
    if (kind === undefined) continue;
    identities.push({ kind, value: id.value, encoding: id.encoding === 'sha256' ? 'sha256' : 'raw' });
  }
  const account = req.account?.account_id === undefined ? '' : String(req.account.account_id);
  // mParticle retries a request: the erasure is recorded (and audited) once.
  await requestErasure(s, { identities }, 'firehose', 'firehose', `firehose:${account}:${req.subject_request_id}`);
  return responseEnvelope('dsr_processing_response', req);
}
