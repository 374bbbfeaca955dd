export { hashIdentity, normalizeRaw, sha256Hex, KIND_TO_TYPE } from './normalize.ts';
export type { IdentityKind, Encoding, RejectReason, Normalized, NormalizeOptions } from './normalize.ts';
export { DEFAULT_PHONE_REGION, phoneRegionOf, toE164, type PhoneRegion } from './phone.ts';
