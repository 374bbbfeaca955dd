/**
 * X's OAuth 1.0a three-legged flow (docs/reference/x-ads-api.md 9.1): request_token (signed by the consumer
 * alone), the authorize page, and access_token (signed with the request token, carrying the
 * verifier). Failures are X's 401 body; the reason is in x-emulator-auth-failure.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formPairsOf } from '../../http/body.ts';
import { type CallFields, recordCall } from '../../http/record-call.ts';
import { authRequestOf } from '../../http/request-info.ts';
import { UNAUTHORIZED_BODY, xErrorBody } from '../../http/x-error.ts';
import { authenticate, type AuthMode, type AuthResult } from '../../oauth/authenticate.ts';
import { percentEncode } from '../../oauth/percent-encode.ts';
import { TIMESTAMP_WINDOW_MS, type World } from '../../world/world.ts';
import { renderAuthorizePage, renderMessagePage } from './authorize-page.ts';

export function registerOAuthRoutes(app: FastifyInstance, world: World): void {
  const verify = (request: FastifyRequest, mode: AuthMode, now: number): AuthResult =>
    authenticate(
      {
        consumerKey: world.settings.consumerKey,
        consumerSecret: world.settings.consumerSecret,
        tokens: world.tokens,
        nonces: world.nonces,
        timestampWindowMs: TIMESTAMP_WINDOW_MS,
        clockSkewMs: world.config.clockSkewMs,
      },
      authRequestOf(request),
      mode,
      now,
    );
  const answer = async (
    request: FastifyRequest,
    reply: FastifyReply,
    at: number,
    route: string,
    status: number,
    body: unknown,
    fields: CallFields = {},
  ): Promise<void> => {
    if (fields.auth_failure) reply.header('x-emulator-auth-failure', fields.auth_failure);
    await reply.code(status).send(body);
    recordCall(world, request, at, route, status, fields);
  };

  app.post('/oauth/request_token', async (request, reply) => {
    const at = Date.now();
    const route = 'POST oauth/request_token';
    const auth = verify(request, 'consumer', at);
    if (!auth.ok) return answer(request, reply, at, route, 401, UNAUTHORIZED_BODY, { auth_failure: auth.reason });
    const callback = auth.protocol.get('oauth_callback');
    if (callback === undefined || callback === '') {
      const error = { code: 'MISSING_PARAMETER', message: '"oauth_callback" is a required parameter', parameter: 'oauth_callback' };
      return answer(request, reply, at, route, 400, xErrorBody([error], {}));
    }
    if (callback !== 'oob' && !isWebUrl(callback)) {
      const error = { code: 'INVALID_PARAMETER', message: 'oauth_callback must be an http(s) URL or "oob"', parameter: 'oauth_callback' };
      return answer(request, reply, at, route, 400, xErrorBody([error], {}));
    }
    const registered = world.config.callbackUrls;
    if (callback !== 'oob' && registered !== null && !registered.includes(callback)) {
      // X's answer in practice (the reference says only that the callback must be registered):
      // 403 with the numeric code 415 of its v1.1 OAuth errors.
      return answer(request, reply, at, route, 403, { errors: [{ code: 415, message: CALLBACK_NOT_APPROVED }] }, { auth_failure: 'callback_not_approved' });
    }
    const token = world.tokens.issueRequestToken(callback, at);
    reply.type('application/x-www-form-urlencoded');
    return answer(request, reply, at, route, 200, form({ oauth_token: token.token, oauth_token_secret: token.secret, oauth_callback_confirmed: 'true' }), {
      token: token.token,
    });
  });

  app.get('/oauth/authorize', async (request, reply) => {
    const at = Date.now();
    const tokenParam = (request.query as Record<string, unknown>).oauth_token;
    const token = typeof tokenParam === 'string' ? world.tokens.get(tokenParam, at) : undefined;
    reply.type('text/html; charset=utf-8');
    if (token?.kind !== 'request' || token.authorizedUserId !== undefined) {
      return answer(request, reply, at, 'GET oauth/authorize', 400, invalidTokenPage());
    }
    return answer(request, reply, at, 'GET oauth/authorize', 200, renderAuthorizePage(world.settings.appName, token.token, world.directory.logins), {
      token: token.token,
    });
  });

  app.post('/oauth/authorize', async (request, reply) => {
    const at = Date.now();
    const route = 'POST oauth/authorize';
    const fields = new Map(formPairsOf(request.body));
    const token = world.tokens.get(fields.get('oauth_token') ?? '', at);
    reply.type('text/html; charset=utf-8');
    if (token?.kind !== 'request' || token.authorizedUserId !== undefined) {
      return answer(request, reply, at, route, 400, invalidTokenPage());
    }
    if (fields.get('action') === 'cancel') {
      world.tokens.discard(token.token);
      if (token.callback === 'oob') {
        return answer(request, reply, at, route, 200, renderMessagePage('Authorization cancelled', 'You did not authorize the app.'));
      }
      return redirect(reply, token.callback, { denied: token.token }).then(() => recordCall(world, request, at, route, 302, { token: token.token }));
    }
    const login = world.directory.logins.find((l) => l.userId === fields.get('user_id'));
    if (fields.get('action') !== 'authorize' || login === undefined) {
      const page = renderAuthorizePage(world.settings.appName, token.token, world.directory.logins, 'Choose an X login, then Authorize or Cancel.');
      return answer(request, reply, at, route, 400, page, { token: token.token });
    }
    token.authorizedUserId = login.userId;
    token.verifier = world.tokens.newVerifier();
    if (token.callback === 'oob') {
      return answer(request, reply, at, route, 200, renderMessagePage('Authorized', `Enter this PIN in the app: ${token.verifier}`), {
        token: token.token,
      });
    }
    await redirect(reply, token.callback, { oauth_token: token.token, oauth_verifier: token.verifier });
    recordCall(world, request, at, route, 302, { token: token.token });
  });

  app.post('/oauth/access_token', async (request, reply) => {
    const at = Date.now();
    const route = 'POST oauth/access_token';
    const auth = verify(request, 'request', at);
    if (!auth.ok) return answer(request, reply, at, route, 401, UNAUTHORIZED_BODY, { auth_failure: auth.reason });
    const requestToken = auth.token;
    if (requestToken?.kind !== 'request') return answer(request, reply, at, route, 401, UNAUTHORIZED_BODY, { auth_failure: 'unknown_token' });
    const verifier = auth.protocol.get('oauth_verifier');
    const userId = requestToken.authorizedUserId;
    const failure =
      userId === undefined ? 'not_authorized' : verifier === undefined ? 'missing_verifier' : verifier !== requestToken.verifier ? 'bad_verifier' : undefined;
    const login = world.directory.logins.find((l) => l.userId === userId);
    if (failure !== undefined || login === undefined) {
      return answer(request, reply, at, route, 401, UNAUTHORIZED_BODY, { auth_failure: failure ?? 'unknown_token', token: requestToken.token });
    }
    world.tokens.discard(requestToken.token);
    const access = world.tokens.issueAccessToken(login.userId);
    reply.type('application/x-www-form-urlencoded');
    return answer(
      request,
      reply,
      at,
      route,
      200,
      form({ oauth_token: access.token, oauth_token_secret: access.secret, user_id: login.userId, screen_name: login.screenName }),
      { token: requestToken.token },
    );
  });
}

const CALLBACK_NOT_APPROVED = 'Callback URL not approved for this client application. Approved callback URLs can be adjusted in your application settings';

function form(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
    .join('&');
}

function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

async function redirect(reply: FastifyReply, callback: string, params: Record<string, string>): Promise<void> {
  const url = new URL(callback);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  await reply.redirect(url.toString(), 302);
}

function invalidTokenPage(): string {
  return renderMessagePage('This page is no longer valid', 'The request token is unknown, expired or already used. Start the sign-in again.');
}
