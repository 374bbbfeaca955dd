import { describe, expect, it } from 'vitest';
import { downstreamName } from '../src/core/names.ts';
import { SecretBox } from '../src/core/secret-box.ts';
import { backoffMs, BACKOFF_CAP_MS } from '../src/sync/backoff.ts';
import { suffixOf } from '../src/sync/tasks/create.ts';
import { descriptionWithMarker, downstreamMarker, hasMarker } from '../src/x/facts.ts';

describe('names and markers', () => {
  it('names downstream audiences as mParticle does, with [n] after a refusal', () => {
    expect(downstreamName('Buyers', 'email', 1)).toBe('Buyers (email)');
    expect(downstreamName('Buyers', 'handle', 1)).toBe('Buyers (handle)');
    expect(downstreamName('Buyers', 'device_id', 3)).toBe('Buyers (device id) [3]');
    expect(suffixOf('Buyers (device id) [3]')).toBe(3);
    expect(suffixOf('Buyers (email)')).toBe(1);
  });

  it('adopts only by the exact marker', () => {
    const marker = downstreamMarker('inst', 7, 'email');
    expect(hasMarker(descriptionWithMarker(marker), marker)).toBe(true);
    expect(hasMarker(descriptionWithMarker(downstreamMarker('inst', 77, 'email')), marker)).toBe(false);
    expect(hasMarker(null, marker)).toBe(false);
  });
});

describe('secret box', () => {
  it('round-trips, and refuses another key or a tampered value', () => {
    const box = new SecretBox('k'.repeat(32));
    const sealed = box.seal('token-secret');
    expect(sealed).not.toContain('token-secret');
    expect(box.open(sealed)).toBe('token-secret');
    expect(() => new SecretBox('j'.repeat(32)).open(sealed)).toThrow();
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64');
    expect(() => box.open(parts.join('.'))).toThrow();
  });
});

describe('backoff', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    expect(backoffMs(0, () => 0)).toBe(500);
    expect(backoffMs(0, () => 1)).toBe(1000);
    expect(backoffMs(3, () => 0.5)).toBe(6000);
    expect(backoffMs(40, () => 1)).toBe(BACKOFF_CAP_MS);
  });
});
