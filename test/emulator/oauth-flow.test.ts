/**
 * The three-legged OAuth 1.0a flow walked end to end over HTTP, as a browser and an app would:
 * request_token → authorize page → POST the page's form → callback redirect → access_token →
 * a signed call with the new token. And Cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bench, boot, call } from './helpers.ts';

let bench: Bench;
beforeAll(async () => {
  bench = await boot();
});
afterAll(async () => {
  await bench.x.close();
});

const CALLBACK = 'http://127.0.0.1:1/oauth/x/callback?state=abc';

async function requestToken(): Promise<{ token: string; secret: string }> {
  const res = await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: CALLBACK } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/x-www-form-urlencoded');
  const answer = new URLSearchParams(res.text);
  expect(answer.get('oauth_callback_confirmed')).toBe('true');
  return { token: answer.get('oauth_token')!, secret: answer.get('oauth_token_secret')! };
}

/** Reads the authorize page's form like a browser: action, hidden fields, radio choices, buttons. */
function readForm(html: string) {
  const action = /<form[^>]*method="post"[^>]*action="([^"]+)"/.exec(html)?.[1];
  const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1], m[2]]));
  const radios = [...html.matchAll(/<input type="radio" id="([^"]+)" name="user_id" value="([^"]+)"/g)].map((m) => ({ id: m[1]!, value: m[2]! }));
  const labels = Object.fromEntries([...html.matchAll(/<label for="([^"]+)">([^<]+)<\/label>/g)].map((m) => [m[1], m[2]]));
  const buttons = [...html.matchAll(/<button type="submit" name="action" value="([^"]+)">([^<]+)<\/button>/g)].map((m) => ({ value: m[1]!, text: m[2]! }));
  return { action, hidden, radios, labels, buttons };
}

async function submit(fields: Record<string, string>): Promise<Response> {
  return fetch(`${bench.url}/oauth/authorize`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
}

describe('three-legged flow', () => {
  it('walks request_token → authorize → access_token → a signed call', async () => {
    const rt = await requestToken();

    const page = await fetch(`${bench.url}/oauth/authorize?oauth_token=${rt.token}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    expect(html).toContain('Authorize Tailor to access your account?');
    const form = readForm(html);
    expect(form.action).toBe('/oauth/authorize');
    expect(form.hidden.oauth_token).toBe(rt.token);
    // Every login can be chosen, each radio has a label naming it.
    expect(form.radios.map((r) => r.value).sort()).toEqual(bench.creds.users.map((u) => u.user_id).sort());
    for (const user of bench.creds.users) {
      const radio = form.radios.find((r) => r.value === user.user_id)!;
      expect(form.labels[radio.id]).toContain(`@${user.screen_name}`);
    }
    expect(form.buttons).toEqual([
      { value: 'authorize', text: 'Authorize' },
      { value: 'cancel', text: 'Cancel' },
    ]);

    // Choose the analyst, as a person would, and press Authorize.
    const res = await submit({ ...form.hidden, user_id: bench.analyst.user_id, action: 'authorize' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe('http://127.0.0.1:1/oauth/x/callback');
    expect(location.searchParams.get('state')).toBe('abc');
    expect(location.searchParams.get('oauth_token')).toBe(rt.token);
    const verifier = location.searchParams.get('oauth_verifier')!;
    expect(verifier).toMatch(/^\w{10,}$/);

    const at = await call(bench, 'POST', '/oauth/access_token', {
      token: { key: rt.token, secret: rt.secret },
      form: { oauth_verifier: verifier },
    });
    expect(at.status).toBe(200);
    const access = new URLSearchParams(at.text);
    expect(access.get('user_id')).toBe(bench.analyst.user_id);
    expect(access.get('screen_name')).toBe(bench.analyst.screen_name);
    const token = { key: access.get('oauth_token')!, secret: access.get('oauth_token_secret')! };
    expect(token.key.startsWith(`${bench.analyst.user_id}-`)).toBe(true);
    expect(token.key).not.toBe(bench.analyst.access_token);

    const me = await call(bench, 'GET', `/12/accounts/${bench.account}/authenticated_user_access`, { token });
    expect(me.status).toBe(200);
    expect(me.body.data).toEqual({ user_id: bench.analyst.user_id, permissions: ['CAMPAIGN_ANALYST'] });

    // The request token is spent: exchanging it again fails.
    const again = await call(bench, 'POST', '/oauth/access_token', {
      token: { key: rt.token, secret: rt.secret },
      form: { oauth_verifier: verifier },
    });
    expect(again.status).toBe(401);
  });

  it('issues fresh tokens on every access_token call', async () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const rt = await requestToken();
      const res = await submit({ oauth_token: rt.token, user_id: bench.admin.user_id, action: 'authorize' });
      const verifier = new URL(res.headers.get('location')!).searchParams.get('oauth_verifier')!;
      const at = await call(bench, 'POST', '/oauth/access_token', { token: { key: rt.token, secret: rt.secret }, query: { oauth_verifier: verifier } });
      expect(at.status).toBe(200);
      tokens.add(new URLSearchParams(at.text).get('oauth_token')!);
    }
    expect(tokens.size).toBe(2);
  });

  it('redirects with denied=<token> on Cancel, and the token is then useless', async () => {
    const rt = await requestToken();
    const html = await (await fetch(`${bench.url}/oauth/authorize?oauth_token=${rt.token}`)).text();
    const form = readForm(html);
    const res = await submit({ ...form.hidden, user_id: form.radios[0]!.value, action: 'cancel' });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('denied')).toBe(rt.token);
    expect(location.searchParams.has('oauth_verifier')).toBe(false);
    expect((await fetch(`${bench.url}/oauth/authorize?oauth_token=${rt.token}`)).status).toBe(400);
    const at = await call(bench, 'POST', '/oauth/access_token', { token: { key: rt.token, secret: rt.secret }, form: { oauth_verifier: 'x' } });
    expect(at.status).toBe(401);
  });

  it('rejects a wrong verifier and an unknown request token', async () => {
    const rt = await requestToken();
    await submit({ oauth_token: rt.token, user_id: bench.admin.user_id, action: 'authorize' });
    const wrong = await call(bench, 'POST', '/oauth/access_token', { token: { key: rt.token, secret: rt.secret }, form: { oauth_verifier: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('x-emulator-auth-failure')).toBe('bad_verifier');
    const page = await fetch(`${bench.url}/oauth/authorize?oauth_token=unknown`);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('no longer valid');
  });

  it('requires oauth_callback and a consumer signature on request_token', async () => {
    const missing = await call(bench, 'POST', '/oauth/request_token');
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0]).toMatchObject({ code: 'MISSING_PARAMETER', parameter: 'oauth_callback' });
    const badSig = await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: CALLBACK }, wrongSecret: true });
    expect(badSig.status).toBe(401);
    const badConsumer = await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: CALLBACK }, consumerKey: 'someone-else' });
    expect(badConsumer.status).toBe(401);
    expect(badConsumer.headers.get('x-emulator-auth-failure')).toBe('unknown_consumer');
  });

  it('accepts an access token from the flow only for the accounts of the chosen login', async () => {
    const rt = await requestToken();
    const res = await submit({ oauth_token: rt.token, user_id: bench.other.user_id, action: 'authorize' });
    const verifier = new URL(res.headers.get('location')!).searchParams.get('oauth_verifier')!;
    const at = new URLSearchParams(
      (await call(bench, 'POST', '/oauth/access_token', { token: { key: rt.token, secret: rt.secret }, form: { oauth_verifier: verifier } })).text,
    );
    const token = { key: at.get('oauth_token')!, secret: at.get('oauth_token_secret')! };
    const accounts = await call(bench, 'GET', '/12/accounts', { token });
    expect(accounts.body.data.map((a: { id: string }) => a.id)).toEqual([bench.foreignAccount]);
  });
});

describe('registered callback URLs', () => {
  it('refuses a callback the app has not registered with X’s 403, and takes a registered one', async () => {
    const set = (callback_urls: string[] | null) =>
      fetch(`${bench.url}/_emulator/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ callback_urls }) });
    expect((await set(['https://tailor.example.com/oauth/x/callback'])).status).toBe(200);
    try {
      const refused = await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: CALLBACK } });
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.text)).toEqual({ errors: [{ code: 415, message: expect.stringMatching(/^Callback URL not approved/) }] });
      const taken = await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: 'https://tailor.example.com/oauth/x/callback' } });
      expect(taken.status).toBe(200);
      // PIN mode needs no registered callback.
      expect((await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: 'oob' } })).status).toBe(200);
    } finally {
      await set(null);
    }
    expect((await call(bench, 'POST', '/oauth/request_token', { form: { oauth_callback: CALLBACK } })).status).toBe(200);
  });
});
