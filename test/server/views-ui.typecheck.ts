/**
 * Compile-time only (`npm run typecheck`): the views the API returns (src/services/views.ts, the
 * schemas of the OpenAPI document) fit the types the web UI reads them as
 * (src/ui/assets/types.d.ts, a copy the browser code keeps for itself). A field the UI reads that
 * the API no longer gives, or gives as another type, does not compile.
 */
import type {
  AlertEventView,
  AudienceView,
  AuditPage as AuditPageView,
  ConfigurationView,
  DeletionView,
  HealthReportView,
  HistoryView,
  LookupView,
} from '../../src/services/views.ts';
import type { PrivacyView } from '../../src/services/privacy.ts';
import type {
  AlertEvent,
  Audience,
  AuditPage,
  Configuration,
  HealthReport,
  History,
  LookupResult,
  Privacy,
  WaitingDeletion,
} from '../../src/ui/assets/types.d.ts';

type Fits<A, B> = [A] extends [B] ? true : false;
export const fits: [
  Fits<AudienceView, Audience>,
  Fits<ConfigurationView, Configuration>,
  Fits<HistoryView, History>,
  Fits<LookupView['results'][number], LookupResult>,
  Fits<DeletionView, WaitingDeletion>,
  Fits<HealthReportView, HealthReport>,
  Fits<AlertEventView, AlertEvent>,
  Fits<PrivacyView, Privacy>,
  Fits<AuditPageView, AuditPage>,
] = [true, true, true, true, true, true, true, true, true];
