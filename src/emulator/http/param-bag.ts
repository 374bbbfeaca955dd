/**
 * The request's non-OAuth parameters, from the query string and a form body (docs/reference/x-ads-api.md 2.1:
 * POST and PUT may send them either way), with parsers that echo what they read into
 * `request.params` and throw X's 400 on a bad value. Scalars are echoed as the strings sent (X's
 * docs echo `"with_deleted": "true"`), lists as arrays (`"custom_audience_ids": ["1nmth"]`).
 */
import type { Pair } from '../oauth/signature.ts';
import { invalidParameter } from './x-error.ts';

export class ParamBag {
  private readonly values = new Map<string, string>();

  constructor(
    pairs: readonly Pair[],
    readonly echo: Record<string, unknown>,
  ) {
    for (const [k, v] of pairs) if (!k.startsWith('oauth_') && !this.values.has(k)) this.values.set(k, v);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  string(name: string): string | undefined {
    const value = this.values.get(name);
    if (value !== undefined) this.echo[name] = value;
    return value;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.values.get(name);
    if (value === undefined) return fallback;
    if (value !== 'true' && value !== 'false') throw invalidParameter(name, `Expected boolean, got "${value}" for ${name}`);
    this.echo[name] = value;
    return value === 'true';
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.values.get(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw invalidParameter(name, `Expected integer from ${min} to ${max}, got "${value}" for ${name}`);
    }
    this.echo[name] = value;
    return n;
  }

  /** A comma-separated list ("1nmth,2906h"), echoed as an array as X does. */
  list(name: string, max: number): string[] | undefined {
    const value = this.values.get(name);
    if (value === undefined) return undefined;
    const items = value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '');
    if (items.length === 0 || items.length > max) {
      throw invalidParameter(name, `Expected 1 to ${max} comma-separated values for ${name}`);
    }
    this.echo[name] = items;
    return items;
  }
}
