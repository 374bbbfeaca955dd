/**
 * Find a person (POST /api/v1/lookup) says, for every identity given, whether it is suppressed,
 * on both dialects: an opted-out person that no audience holds is "suppressed", not just absent
 * (issue 18's caveat, fixed for issue 14). Values go in the body, hashed in memory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STORES } from '../store/helpers.ts';
import { startInProcess, type InProcess } from '../support/in-process.ts';

for (const factory of STORES) {
  describe(`find a person and the suppression list (${factory.name})`, () => {
    let t: InProcess;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      const opened = await factory.open();
      cleanup = opened.cleanup;
      t = await startInProcess({ store: opened.store, configurationAccount: 'lookupacct1', logLevel: 'silent' });
      const configId = t.configuration!.id;
      expect((await t.api('PUT', '/api/v1/audiences/club', { name: 'Club' })).status).toBe(201);
      expect((await t.api('PUT', `/api/v1/audiences/club/connections/${configId}`, {})).status).toBe(201);
      expect((await t.api('POST', '/api/v1/audiences/club/members', { add: [{ user_id: 'm1', email: 'member@example.com' }] })).status).toBe(202);
      const sup = await t.api('POST', '/api/v1/suppressions', { add: [{ email: 'Opted.Out@Example.com' }, { email: 'member@example.com' }] });
      expect(sup.body).toMatchObject({ added: 2 });
    });
    afterAll(async () => {
      await t?.close();
      await cleanup?.();
    });

    it('a suppressed identity that no audience holds is said to be suppressed', async () => {
      const r = await t.api('POST', '/api/v1/lookup', { email: ' opted.out@example.COM ', twitter_handle: '@nobody' });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        results: [],
        identities: [
          { field: 'email', identity_type: 'email', suppressed: true, held: false },
          { field: 'twitter_handle', identity_type: 'handle', suppressed: false, held: false },
        ],
      });
      expect(r.raw.toLowerCase()).not.toContain('opted.out');
    });

    it('one that an audience holds is suppressed in its rows and its own line', async () => {
      const r = await t.api('POST', '/api/v1/lookup', { email: 'member@example.com' });
      expect(r.body.results).toMatchObject([{ field: 'email', audience_id: 'club', in_audience: true, state: 'suppressed' }]);
      expect(r.body.identities).toEqual([{ field: 'email', identity_type: 'email', suppressed: true, held: true }]);
      // Lifted: held, no longer suppressed.
      await t.api('POST', '/api/v1/suppressions', { remove: [{ email: 'member@example.com' }] });
      const after = await t.api('POST', '/api/v1/lookup', { email: 'member@example.com' });
      expect(after.body.identities).toEqual([{ field: 'email', identity_type: 'email', suppressed: false, held: true }]);
      expect(after.body.results[0].state).not.toBe('suppressed');
    });
  });
}
