/**
 * Compile-time only (`npm run typecheck`): the views the API returns (src/services/views.ts, the
 * schemas of the OpenAPI document) fit the types the web UI reads them as
 * (src/ui/assets/types.d.ts, a copy the browser code keeps for itself). A field the UI reads that
 * the API no longer gives, or gives as another type, does not compile.
 */
import type { AudienceView, ConfigurationView, DeletionView, HistoryView, LookupView } from '../../src/services/views.ts';
import type { Audience, Configuration, History, LookupResult, WaitingDeletion } from '../../src/ui/assets/types.d.ts';

type Fits<A, B> = [A] extends [B] ? true : false;
export const fits: [
  Fits<AudienceView, Audience>,
  Fits<ConfigurationView, Configuration>,
  Fits<HistoryView, History>,
  Fits<LookupView['results'][number], LookupResult>,
  Fits<DeletionView, WaitingDeletion>,
] = [true, true, true, true, true];
