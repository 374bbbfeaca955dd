/**
 * The body of POST /_emulator/faults (docs/emulator.md). Every field is optional; a field given
 * replaces its current value; `reset: true` clears everything first.
 */
import { z } from 'zod';

export const faultBodySchema = z.strictObject({
  reset: z.boolean().optional(),
  error_rate: z.number().min(0).max(1).optional(),
  error_every: z.int().min(0).nullable().optional(),
  error_status: z.literal([500, 503]).optional(),
  rate_limit_burst: z
    .strictObject({ count: z.int().min(0), reset_after_s: z.number().min(0).max(86_400) })
    .nullable()
    .optional(),
  latency_ms: z.int().min(0).max(600_000).optional(),
  drop_rate: z.number().min(0).max(1).optional(),
  drop_when: z.enum(['before', 'after']).optional(),
  only: z.enum(['users', 'all']).optional(),
  sizing: z.enum(['normal', 'never']).optional(),
  revoke_tokens: z.array(z.string().min(1)).optional(),
  restore_tokens: z.array(z.string().min(1)).optional(),
  delete_audiences: z.array(z.strictObject({ account_id: z.string().min(1), id: z.string().min(1) })).optional(),
});

export type FaultBody = z.infer<typeof faultBodySchema>;
