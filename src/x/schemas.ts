/**
 * The shapes of X's successful answers, checked on arrival, and their mapping to our camelCase
 * types. Lenient where X's examples disagree (4: `audience_size` is a string in twitter4j-ads,
 * `description` may be missing), strict where we depend on a field (ids, counts).
 */
import * as z from 'zod';
import type { XAccount, XCustomAudience, XTargetingCampaign, XUserAccess } from './types.ts';

const xAudience = z.object({
  id: z.string().min(1),
  name: z.string(),
  description: z.string().nullish(),
  audience_size: z.union([z.number(), z.string()]).nullish(),
  targetable: z.boolean().nullish(),
  reasons_not_targetable: z.array(z.string()).nullish(),
  deleted: z.boolean().nullish(),
});

// 2.8: `[{campaign_id, campaign_name, line_items:[{id, name, servable}]}]`.
const xTargeted = z.object({
  campaign_id: z.string().min(1),
  campaign_name: z.string().nullish(),
  line_items: z.array(z.object({ id: z.string().min(1), name: z.string().nullish(), servable: z.boolean().nullish() })).nullish(),
});

const xAccount = z.object({ id: z.string().min(1), name: z.string().nullish() });

const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullish() });

export const schemas = {
  audience: z.object({ data: xAudience }),
  audiencePage: page(xAudience),
  accountPage: page(xAccount),
  targetedPage: page(xTargeted),
  userAccess: z.object({
    data: z.object({
      // A number in v3/v4 (9.4); a string since.
      user_id: z.union([z.string(), z.number()]),
      permissions: z.array(z.string()),
    }),
  }),
  users: z.object({
    data: z.object({ success_count: z.number().int(), total_count: z.number().int() }),
    operation_errors: z.unknown().optional(),
  }),
};

export function toAudience(a: z.infer<typeof xAudience>): XCustomAudience {
  const size = a.audience_size === null || a.audience_size === undefined ? null : Number(a.audience_size);
  return {
    id: a.id,
    name: a.name,
    description: a.description ?? null,
    audienceSize: size !== null && Number.isFinite(size) ? size : null,
    targetable: a.targetable ?? false,
    reasonsNotTargetable: a.reasons_not_targetable ?? [],
    deleted: a.deleted ?? false,
  };
}

export function toAccount(a: z.infer<typeof xAccount>): XAccount {
  return { id: a.id, name: a.name ?? '' };
}

export function toUserAccess(d: z.infer<typeof schemas.userAccess>['data']): XUserAccess {
  return { userId: String(d.user_id), permissions: d.permissions };
}

export function toTargetingCampaign(t: z.infer<typeof xTargeted>): XTargetingCampaign {
  return {
    campaignId: t.campaign_id,
    campaignName: t.campaign_name ?? null,
    lineItems: (t.line_items ?? []).map((l) => ({ id: l.id, name: l.name ?? null, servable: l.servable ?? null })),
  };
}
