/**
 * The typed client's types (src/client/openapi.ts) are generated from the OpenAPI document; this
 * fails when a route's schema changed and `npm run openapi:types` was not run.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TYPES_FILE, generateTypes } from '../../scripts/openapi-types.ts';

describe('the typed client’s generated types', () => {
  it('are what the OpenAPI document generates now (run npm run openapi:types when this fails)', async () => {
    const committed = readFileSync(TYPES_FILE, 'utf8');
    const fresh = await generateTypes();
    expect(committed === fresh, 'src/client/openapi.ts is stale: run npm run openapi:types').toBe(true);
  });
});
