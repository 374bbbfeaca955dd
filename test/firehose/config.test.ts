import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('TAILOR_FIREHOSE_ENCODING', () => {
  it('defaults to raw and takes sha256', () => {
    expect(loadConfig({}).firehoseEncoding).toBe('raw');
    expect(loadConfig({ TAILOR_FIREHOSE_ENCODING: 'sha256' }).firehoseEncoding).toBe('sha256');
  });

  it('names the variable when the value is anything else', () => {
    expect(() => loadConfig({ TAILOR_FIREHOSE_ENCODING: 'md5' })).toThrow('TAILOR_FIREHOSE_ENCODING: must be raw or sha256');
  });
});
