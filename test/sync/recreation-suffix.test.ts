/** Where a re-creation starts once X lost the audience (sync/tasks/create.ts recreationSuffix). */
import { describe, expect, it } from 'vitest';
import { recreationSuffix } from '../../src/sync/tasks/create.ts';

describe('recreationSuffix', () => {
  it('skips the lost audience own name, which X never gives out again', () => {
    expect(recreationSuffix({ xName: 'Buyers (email)', identityType: 'email', nameSuffix: 1 }, 'Buyers')).toBe(2);
    expect(recreationSuffix({ xName: 'Buyers (email) [3]', identityType: 'email', nameSuffix: 3 }, 'Buyers')).toBe(4);
  });

  it('keeps the suffix when the name to try is another (a rename not yet made on X) or none was used', () => {
    expect(recreationSuffix({ xName: 'Buyers (email)', identityType: 'email', nameSuffix: 1 }, 'Sellers')).toBe(1);
    expect(recreationSuffix({ xName: null, identityType: 'handle', nameSuffix: 2 }, 'Buyers')).toBe(2);
  });
});
