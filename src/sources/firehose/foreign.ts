import { firehoseForeignAudience } from '../../metrics.ts';
import type { Services } from '../../services/deps.ts';

/**
 * A Firehose message named audiences the Firehose did not create for its account (REST or import
 * audiences, or another account's): they were answered as unknown audiences and left untouched.
 * Counted, and logged without the audience or account id, which the sender chose.
 */
export function foreignAudience(s: Services, message: 'membership' | 'subscription', audiences: number): void {
  firehoseForeignAudience.inc({ message }, audiences);
  s.log.warn(
    { source: 'firehose', message, audiences },
    'firehose message for audiences the Firehose did not create for this account: not applied (answered as for an unknown audience)',
  );
}
