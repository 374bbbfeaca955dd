/**
 * The web UI's guards over plain HTTP (no browser): sign-in, the session on /api/v1 with CSRF,
 * security headers, and the X login's checks (token issued to this browser, once only; CSRF and
 * session on save). Against a real `tailor serve` and the emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, Emu, TailorProcess } from '../e2e/harness.ts';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('web UI security', () => {
  let emu: Emu;
  let tailor: TailorProcess;
  let cookie: string;
  let csrf: string;

  /** A new session: its cookie and the CSRF token its pages carry. */
  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const res = await fetch(`${tailor.url}/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...FORM, origin: tailor.url },
      body: `token=${ADMIN_TOKEN}&next=%2Foutputs`,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/outputs');
    const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
    const page = await (await fetch(`${tailor.url}/outputs`, { headers: { cookie } })).text();
    return { cookie, csrf: /name="csrf-token" content="([^"]+)"/.exec(page)![1]! };
  }

  beforeAll(async () => {
    emu = await Emu.start();
    tailor = await TailorProcess.start(emu);
    ({ cookie, csrf } = await signIn());
  });
  afterAll(async () => {
    await tailor?.stop();
    await emu?.close();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${tailor.url}${path}`, { redirect: 'manual', headers });

  it('sends pages to sign-in without a session, and only back to local paths', async () => {
    for (const path of ['/', '/outputs', '/audiences/a']) {
      const res = await get(path);
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe(`/sign-in?next=${encodeURIComponent(path)}`);
    }
    const forged = await get('/audiences/a', { cookie: `${cookie.slice(0, -3)}abc` });
    expect(forged.status).toBe(303);
    for (const next of ['//evil.example', 'https://evil.example', '/\\evil.example']) {
      const res = await fetch(`${tailor.url}/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: FORM,
        body: `token=${ADMIN_TOKEN}&next=${encodeURIComponent(next)}`,
      });
      expect(res.headers.get('location')).toBe('/');
    }
  });

  it('refuses a wrong token and a sign-in posted from another site', async () => {
    const wrong = await fetch(`${tailor.url}/sign-in`, { method: 'POST', headers: FORM, body: 'token=nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const crossSite = await fetch(`${tailor.url}/sign-in`, {
      method: 'POST',
      headers: { ...FORM, origin: 'https://evil.example' },
      body: `token=${ADMIN_TOKEN}`,
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Strict session cookie and strict security headers', async () => {
    const res = await fetch(`${tailor.url}/sign-in`, { method: 'POST', redirect: 'manual', headers: FORM, body: `token=${ADMIN_TOKEN}` });
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^tailor_session=[^;]+; Path=\/; Max-Age=43200; HttpOnly; SameSite=Strict$/);
    const page = await get('/outputs', { cookie });
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
    expect(page.headers.get('cache-control')).toBe('no-store');
    // No inline script or style anywhere: the CSP forbids them.
    const html = await page.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|style="/);
  });

  it('lets the session use /api/v1: reads freely, writes only with the CSRF header; Bearer unchanged', async () => {
    const api = (method: string, headers: Record<string, string>, body?: unknown) =>
      fetch(`${tailor.url}/api/v1/audiences/sec`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await fetch(`${tailor.url}/api/v1/audiences`, { headers: { cookie } })).status).toBe(200);
    expect((await api('PUT', { cookie }, { name: 'Sec' })).status).toBe(401);
    expect((await api('PUT', { cookie, 'x-csrf-token': 'forged' }, { name: 'Sec' })).status).toBe(401);
    expect((await api('PUT', { cookie, 'x-csrf-token': csrf }, { name: 'Sec' })).status).toBe(201);
    // A wrong Bearer token is refused even beside a valid session: the header decides.
    expect((await api('PUT', { cookie, 'x-csrf-token': csrf, authorization: 'Bearer wrong' }, { name: 'Sec' })).status).toBe(401);
    expect((await api('PUT', { authorization: `Bearer ${ADMIN_TOKEN}` }, { name: 'Sec 2' })).status).toBe(200);
    expect((await api('DELETE', { cookie, 'x-csrf-token': csrf })).status).toBe(202);
  });

  it('serves only its own asset files', async () => {
    expect((await get('/assets/app.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const path of ['/assets/..%2Fpages%2Fhtml.ts', '/assets/%2e%2e%2f%2e%2e%2fpackage.json', '/assets/nope.js'])
      expect((await get(path)).status).toBe(404);
  });

  it('needs a session to start the X login, and the CSRF token to sign out; sign-out ends the session', async () => {
    expect((await get('/oauth/x/start')).status).toBe(401);
    // A session of its own: the other tests go on with theirs.
    const own = await signIn();
    const signOut = await fetch(`${tailor.url}/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...FORM, cookie: own.cookie },
      body: 'csrf=forged',
    });
    expect(signOut.headers.get('set-cookie')).toBeNull();
    expect((await get('/outputs', { cookie: own.cookie })).status).toBe(200);
    const realSignOut = await fetch(`${tailor.url}/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...FORM, cookie: own.cookie, origin: tailor.url },
      body: `csrf=${own.csrf}`,
    });
    expect(realSignOut.headers.get('location')).toBe('/sign-in');
    expect(realSignOut.headers.get('set-cookie')).toMatch(/^tailor_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict$/);
    expect((await get('/ui/deleting/a')).status).toBe(401);
    // A copy of the signed-out cookie (kept by anyone who saw it) opens nothing.
    expect((await get('/outputs', { cookie: own.cookie })).status).toBe(303);
    expect((await get('/ui/deleting/a', { cookie: own.cookie })).status).toBe(401);
    expect((await get('/api/v1/audiences', { cookie: own.cookie })).status).toBe(401);
    expect((await get('/oauth/x/start', { cookie: own.cookie })).status).toBe(401);
    // The session signed in beside it is untouched.
    expect((await get('/outputs', { cookie })).status).toBe(200);
  });

  /** Runs the X login up to X's redirect back: the flow cookie and the callback URL. */
  async function loginAtX(screenName: string, action: 'authorize' | 'cancel' = 'authorize'): Promise<{ flow: string; callback: string }> {
    const start = await get('/oauth/x/start', { cookie });
    expect(start.status).toBe(302);
    const flow = start.headers.get('set-cookie')!.split(';')[0]!;
    expect(start.headers.get('set-cookie')).toMatch(/Path=\/oauth\/x; Max-Age=600; HttpOnly; SameSite=Lax/);
    const authorize = new URL(start.headers.get('location')!);
    const token = authorize.searchParams.get('oauth_token')!;
    const user = emu.creds.users.find((u) => u.screen_name === screenName)!;
    const answer = await fetch(`${emu.url}/oauth/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: FORM,
      body: new URLSearchParams({ oauth_token: token, user_id: user.user_id, action }).toString(),
    });
    expect(answer.status).toBe(302);
    const callback = answer.headers.get('location')!;
    expect(callback.startsWith(`${tailor.url}/oauth/x/callback?`)).toBe(true);
    return { flow, callback };
  }

  it('accepts X’s answer only for the token issued to this browser, and only once', async () => {
    const { flow, callback } = await loginAtX('ads_admin');
    // Without the flow cookie (another browser, or a forged link): refused.
    expect((await fetch(callback)).status).toBe(400);
    // With the flow cookie but another request token: refused.
    const other = await loginAtX('ads_admin');
    expect((await fetch(other.callback, { headers: { cookie: flow } })).status).toBe(400);

    const first = await fetch(callback, { headers: { cookie: flow } });
    expect(first.status).toBe(200);
    const html = await first.text();
    expect(html).toContain('Choose the X ad account');
    // The chooser page carries no X token; the sealed cookie does, opaque and HttpOnly.
    const user = emu.creds.users.find((u) => u.screen_name === 'ads_admin')!;
    expect(html).not.toContain(user.user_id + '-');
    const sealed = first.headers.get('set-cookie')!;
    expect(sealed).toMatch(/^tailor_x_login=[^;]+; Path=\/oauth\/x; Max-Age=600; HttpOnly; SameSite=Lax$/);

    // Replaying the same callback with the original cookie: refused before X is asked again.
    const replay = await fetch(callback, { headers: { cookie: flow } });
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('already used');

    // Save needs the session, the CSRF token and an eligible account.
    const accessFlow = sealed.split(';')[0]!;
    const accountId = emu.admin().accountId;
    const save = (headers: Record<string, string>, body: Record<string, string>) =>
      fetch(`${tailor.url}/oauth/x/save`, { method: 'POST', headers: { ...FORM, ...headers }, body: new URLSearchParams(body).toString() });
    expect((await save({ cookie: accessFlow }, { csrf, account_id: accountId })).status).toBe(401);
    expect((await save({ cookie: `${cookie}; ${accessFlow}` }, { csrf: 'forged', account_id: accountId })).status).toBe(403);
    expect((await save({ cookie: `${cookie}; ${accessFlow}`, origin: 'https://evil.example' }, { csrf, account_id: accountId })).status).toBe(403);
    expect((await save({ cookie: `${cookie}; ${accessFlow}` }, { csrf, account_id: 'not-mine' })).status).toBe(400);
    const ok = await save({ cookie: `${cookie}; ${accessFlow}`, origin: tailor.url }, { csrf, account_id: accountId, name: 'Via HTTP' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('Configuration saved');
    const configs = (await tailor.api<{ data: { name: string; account_id: string; screen_name: string }[] }>('GET', '/configurations')).body.data;
    expect(configs).toEqual([expect.objectContaining({ name: 'Via HTTP', account_id: accountId, screen_name: 'ads_admin' })]);
  });

  it('shows the cancel page when the user cancels on X', async () => {
    const { flow, callback } = await loginAtX('ads_admin', 'cancel');
    expect(new URL(callback).searchParams.has('denied')).toBe(true);
    const res = await fetch(callback, { headers: { cookie: flow } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('X login cancelled');
  });
});
