import type {
  CreateAudienceInput,
  ListAudiencesOptions,
  UpdateAudienceInput,
  UsersRequest,
  UsersResult,
  XCustomAudience,
  XTargetingCampaign,
  XUserTokens,
} from '../x/types.ts';

/** The part of the X client the sync engine calls; x/client.ts implements it. */
export interface XApi {
  listAudiences(tokens: XUserTokens, accountId: string, opts?: ListAudiencesOptions): Promise<XCustomAudience[]>;
  getAudience(tokens: XUserTokens, accountId: string, id: string): Promise<XCustomAudience>;
  createAudience(tokens: XUserTokens, accountId: string, input: CreateAudienceInput): Promise<XCustomAudience>;
  updateAudience(tokens: XUserTokens, accountId: string, id: string, input: UpdateAudienceInput): Promise<XCustomAudience>;
  deleteAudience(tokens: XUserTokens, accountId: string, id: string): Promise<void>;
  /** The campaigns whose active line items target the audience (the campaign guard before a deletion). */
  targetedCampaigns(tokens: XUserTokens, accountId: string, id: string): Promise<XTargetingCampaign[]>;
  sendUsers(tokens: XUserTokens, accountId: string, audienceId: string, request: UsersRequest): Promise<UsersResult>;
}
