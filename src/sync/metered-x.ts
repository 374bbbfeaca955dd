import { SyncError } from '../core/errors.ts';
import { xResponses } from '../metrics.ts';
import type { XApi } from './x-api.ts';

/**
 * The sync engine's X calls, counted by outcome (tailor_x_responses_total): every answer X gives a
 * worker, by operation, status and X's error code. Wrapping the port keeps the X client free of
 * metrics; a success is counted as `2xx` because the client does not report which 2xx it was.
 */
export function meteredX(x: XApi): XApi {
  const metered =
    <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        const result = await call(...args);
        xResponses.inc({ operation, status: '2xx', code: 'none' });
        return result;
      } catch (err) {
        if (err instanceof SyncError) {
          // No status: no answer came (timeout, reset, refused connection).
          const answered = err.status !== undefined;
          xResponses.inc({ operation, status: answered ? String(err.status) : 'none', code: err.code ?? (answered ? 'none' : 'network') });
        }
        throw err;
      }
    };
  return {
    listAudiences: metered('list_audiences', (...a: Parameters<XApi['listAudiences']>) => x.listAudiences(...a)),
    getAudience: metered('get_audience', (...a: Parameters<XApi['getAudience']>) => x.getAudience(...a)),
    createAudience: metered('create_audience', (...a: Parameters<XApi['createAudience']>) => x.createAudience(...a)),
    updateAudience: metered('update_audience', (...a: Parameters<XApi['updateAudience']>) => x.updateAudience(...a)),
    deleteAudience: metered('delete_audience', (...a: Parameters<XApi['deleteAudience']>) => x.deleteAudience(...a)),
    targetedCampaigns: metered('targeted', (...a: Parameters<XApi['targetedCampaigns']>) => x.targetedCampaigns(...a)),
    sendUsers: metered('send_users', (...a: Parameters<XApi['sendUsers']>) => x.sendUsers(...a)),
  };
}
