export { hashIdentity, normalizeRaw, sha256Hex, KIND_TO_TYPE } from './normalize.ts';
export type { IdentityKind, Encoding, RejectReason, Normalized } from './normalize.ts';
