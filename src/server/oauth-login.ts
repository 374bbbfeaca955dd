/**
 * "Log in with X" (docs/reference/product.md 1.2): the popup's OAuth 1.0a three-legged flow.
 *
 *   GET  /oauth/x/start[?configuration=ID]  session required; gets a request token from X with
 *        the callback <origin>/oauth/x/callback, keeps it in a sealed cookie, redirects to X.
 *   GET  /oauth/x/callback?oauth_token&oauth_verifier (or ?denied=)  checks the token is the one
 *        issued to this browser and the verifier is there, then uses the token up (once, in the
 *        database), trades it for the access token, lists the ad accounts the login reaches and
 *        its permissions on each, and shows the chooser.
 *   POST /oauth/x/save  session + CSRF; uses the access step up (once, in the database), saves
 *        the chosen account (addConfiguration validates it against X again), then the popup tells
 *        its opener and closes.
 *
 * Any site can send a browser to the callback, with the flow cookie (SameSite=Lax lets it
 * through): an answer that does not fit the login in progress is refused and leaves the login as
 * it was. Only X's real answer moves it on, and only once.
 *
 * Between the steps the flow lives in one sealed (AES-GCM) cookie, HttpOnly, SameSite=Lax (X's
 * redirect back is a cross-site top-level navigation, which Strict would strip), Path=/oauth/x,
 * ten minutes. X's access tokens reach the browser only inside that sealed cookie: page scripts
 * never see them, and they are gone as soon as the configuration is saved.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { randomBytes } from 'node:crypto';
import { Refusal, SyncError } from '../core/errors.ts';
import { addConfiguration, REQUIRED_PERMISSION } from '../services/configurations.ts';
import type { Services } from '../services/deps.ts';
import { permissionWords, renderAccountChooser, renderPopupMessage, type AccountChoice, type PopupMessage } from '../ui/pages/popup.ts';
import { MAX_NAME_CHARS } from '../x/facts.ts';
import type { XUserTokens } from '../x/types.ts';
import { secretsEqual } from '../http/auth.ts';
import { apiCodeOf, statusOf } from '../http/errors.ts';
import { appendCookie, originOf, parseCookies, sameOrigin, serializeCookie, type Session, type SessionKeys } from './session.ts';

const FLOW_COOKIE = 'tailor_x_login';
const FLOW_PATH = '/oauth/x';
const SEAL_PURPOSE = 'x-login-v1';
/** Time to click through X's page and pick an account; X's request tokens do not live much longer. */
const FLOW_TTL_MS = 10 * 60 * 1000;
/** Most accounts whose permissions are looked up one by one; X logins rarely reach more. */
const MAX_ACCOUNTS = 50;

interface RequestStep {
  step: 'request';
  sid: string;
  token: string;
  secret: string;
  reauth: string | null;
  exp: number;
}

interface AccessStep {
  step: 'access';
  sid: string;
  tokens: XUserTokens;
  userId: string;
  screenName: string;
  reauth: string | null;
  /** Accounts the login may save (ACCOUNT_ADMIN). */
  eligible: string[];
  /** Random id of this step: the save uses it up in the database, so a copied cookie saves nothing. */
  nonce: string;
  exp: number;
}

type Flow = RequestStep | AccessStep;

export interface OAuthLoginOptions {
  sessions: SessionKeys;
  publicUrl: string | null;
  /** Renders a 401 page for the popup when the browser has no session. */
  needsSession: (req: FastifyRequest, reply: FastifyReply) => FastifyReply;
}

const isString = (v: unknown): v is string => typeof v === 'string';

export function registerOAuthLogin(app: FastifyInstance, s: Services, o: OAuthLoginOptions): void {
  const secure = (req: FastifyRequest) => originOf(req, o.publicUrl)?.startsWith('https:') ?? false;
  const setFlow = (req: FastifyRequest, reply: FastifyReply, flow: Flow | null): void => {
    const value = flow === null ? '' : o.sessions.seal(SEAL_PURPOSE, flow);
    appendCookie(
      reply,
      serializeCookie(FLOW_COOKIE, value, { path: FLOW_PATH, sameSite: 'Lax', secure: secure(req), maxAgeS: flow === null ? 0 : FLOW_TTL_MS / 1000 }),
    );
  };
  const readFlow = (req: FastifyRequest): Flow | null => {
    const flow = o.sessions.open(SEAL_PURPOSE, parseCookies(req.headers.cookie).get(FLOW_COOKIE)) as Flow | null;
    if (flow === null || typeof flow !== 'object' || !isString(flow.sid) || typeof flow.exp !== 'number' || flow.exp <= s.now()) return null;
    if (flow.step === 'access' && !isString(flow.nonce)) return null;
    return flow;
  };
  const message = (reply: FastifyReply, status: number, m: PopupMessage) => reply.code(status).type('text/html; charset=utf-8').send(renderPopupMessage(m));
  const startHref = (reauth: string | null) => (reauth === null ? '/oauth/x/start' : `/oauth/x/start?configuration=${encodeURIComponent(reauth)}`);
  const failed = (reply: FastifyReply, status: number, text: string, reauth: string | null) =>
    message(reply, status, { result: 'failed', title: 'The X login did not finish', message: text, retryHref: startHref(reauth) });

  app.get<{ Querystring: { configuration?: string } }>('/oauth/x/start', async (req, reply) => {
    const session = await o.sessions.read(req);
    if (!session) return o.needsSession(req, reply);
    let reauth: string | null = null;
    if (isString(req.query.configuration) && req.query.configuration !== '') {
      const existing = await s.store.getConfiguration(req.query.configuration);
      if (!existing) return failed(reply, 404, 'That configuration no longer exists. Close this window and reload Setup › Outputs.', null);
      reauth = existing.id;
    }
    const origin = originOf(req, o.publicUrl);
    if (origin === null)
      return failed(reply, 400, 'Tailor cannot tell its own address from this request. Set TAILOR_PUBLIC_URL to the URL you open Tailor at.', reauth);
    let token;
    try {
      token = await s.x.requestToken(`${origin}/oauth/x/callback`);
    } catch (err) {
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'X login: request token failed');
      return failed(reply, 502, `X did not start the login: ${err instanceof Error ? err.message : String(err)}`, reauth);
    }
    setFlow(req, reply, { step: 'request', sid: session.sid, token: token.oauthToken, secret: token.oauthTokenSecret, reauth, exp: s.now() + FLOW_TTL_MS });
    return reply.redirect(s.x.authorizeUrl(token.oauthToken), 302);
  });

  app.get<{ Querystring: Record<string, unknown> }>('/oauth/x/callback', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const flow = readFlow(req);
    const { oauth_token: token, oauth_verifier: verifier, denied } = req.query;
    if (flow === null || flow.step !== 'request') {
      return failed(reply, 400, 'This X login was not started here, has expired (10 minutes), or was already used. Start again.', flow?.reauth ?? null);
    }
    const presented = isString(denied) ? denied : token;
    // An answer for another request token (a forged or stale link) is refused, and the login in
    // progress goes on: whoever sent the browser here must not be able to cancel it.
    if (!isString(presented) || !secretsEqual(presented, flow.token)) {
      return failed(reply, 400, 'X answered for a different login than the one in progress. Nothing was changed.', flow.reauth);
    }
    if (isString(denied)) {
      // Over either way: X will not trade a denied token, so there is nothing to use up.
      setFlow(req, reply, null);
      return message(reply, 200, {
        result: 'cancelled',
        title: 'X login cancelled',
        message: 'You cancelled on X, so Tailor was not authorized and nothing was saved.',
        retryHref: startHref(flow.reauth),
      });
    }
    // Checked before the token is used up, so a callback without a verifier costs nothing.
    if (!isString(verifier) || verifier === '') return failed(reply, 400, 'X sent no verifier. Nothing was changed.', flow.reauth);
    // Signed out since the start: the login ends with the session.
    if (!(await o.sessions.alive(flow.sid))) {
      setFlow(req, reply, null);
      return o.needsSession(req, reply);
    }
    // Once only, on every process (X also refuses a second trade, but this asks it nothing).
    if (!(await o.sessions.useOnce('x-request-token', flow.token, flow.exp))) {
      return failed(reply, 400, 'This X login was already used. Nothing was saved. Start again.', flow.reauth);
    }

    let access;
    let choices: AccountChoice[];
    try {
      access = await s.x.accessToken({ oauthToken: flow.token, oauthTokenSecret: flow.secret }, verifier);
      const tokens = { accessToken: access.accessToken, accessTokenSecret: access.accessTokenSecret };
      choices = await accountChoices(s, tokens, access.screenName || access.userId, flow.reauth);
    } catch (err) {
      setFlow(req, reply, null);
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'X login: access token or accounts failed');
      return failed(reply, 502, `X did not complete the login: ${err instanceof Error ? err.message : String(err)}`, flow.reauth);
    }
    const screenName = access.screenName || access.userId;
    const reauth = flow.reauth === null ? null : await s.store.getConfiguration(flow.reauth);
    setFlow(req, reply, {
      step: 'access',
      sid: flow.sid,
      tokens: { accessToken: access.accessToken, accessTokenSecret: access.accessTokenSecret },
      userId: access.userId,
      screenName,
      reauth: flow.reauth,
      eligible: choices.filter((c) => c.eligible).map((c) => c.id),
      nonce: randomBytes(18).toString('base64url'),
      exp: s.now() + FLOW_TTL_MS,
    });
    const csrf = o.sessions.csrfToken({ sid: flow.sid, expiresAt: flow.exp });
    return reply.type('text/html; charset=utf-8').send(
      renderAccountChooser({
        csrf,
        screenName,
        accounts: choices,
        reauth: reauth && { id: reauth.id, name: reauth.name, accountId: reauth.accountId },
        restartHref: startHref(flow.reauth),
      }),
    );
  });

  app.post('/oauth/x/save', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const session: Session | null = await o.sessions.read(req);
    if (!session) return o.needsSession(req, reply);
    const body = (req.body ?? {}) as Record<string, unknown>;
    if (!sameOrigin(req, o.publicUrl) || !o.sessions.checkCsrf(session, body.csrf)) {
      return failed(reply, 403, 'This form did not come from this Tailor page (CSRF check failed). Start again.', null);
    }
    const flow = readFlow(req);
    if (flow === null || flow.step !== 'access' || flow.sid !== session.sid) {
      return failed(reply, 400, 'This X login has expired (10 minutes) or was already saved. Start again.', flow?.reauth ?? null);
    }
    const accountId = body.account_id;
    if (!isString(accountId) || !flow.eligible.includes(accountId)) {
      return failed(reply, 400, `Choose one of the accounts where @${flow.screenName} is an Account Administrator.`, flow.reauth);
    }
    const existing = await s.store.getConfigurationByAccount(accountId);
    if (flow.reauth !== null && existing?.id !== flow.reauth) {
      return failed(reply, 400, 'This account does not belong to the configuration being re-authorized.', flow.reauth);
    }
    // Used up before saving: two posts of the same step (a replayed cookie, a double submit, on
    // any process) save once. A save that then fails needs a new login, as its page says.
    if (!(await o.sessions.useOnce('x-access-step', flow.nonce, flow.exp))) {
      setFlow(req, reply, null);
      return failed(reply, 400, 'This X login was already saved. Start again to save another account.', flow.reauth);
    }
    const typed = isString(body.name) ? body.name.trim().slice(0, MAX_NAME_CHARS) : '';
    const name = typed !== '' ? typed : existing?.name;
    let saved;
    try {
      saved = await addConfiguration(s, { name, accountId, tokens: flow.tokens, screenName: flow.screenName, actor: 'ui_session' });
    } catch (err) {
      const text = err instanceof Refusal || err instanceof SyncError ? err.message : 'Tailor could not save the configuration; see its log.';
      if (!(err instanceof Refusal)) req.log.error({ err: err instanceof Error ? err.message : String(err) }, 'X login: save failed');
      setFlow(req, reply, null);
      return failed(reply, err instanceof Refusal ? statusOf(apiCodeOf(err.code)) : 500, text, flow.reauth);
    }
    setFlow(req, reply, null);
    const c = saved.configuration;
    return message(reply, 200, {
      result: 'saved',
      title: saved.created ? 'Configuration saved' : 'Configuration re-authorized',
      message: saved.created
        ? `“${c.name}” (account ${c.accountId}) is saved and active.`
        : `“${c.name}” (account ${c.accountId}) is authorized by @${flow.screenName} and active again; paused changes resume.`,
      configurationId: c.id,
    });
  });
}

/** The ad accounts a login reaches, each with its permissions and whether it may be saved. */
async function accountChoices(s: Services, tokens: XUserTokens, who: string, reauth: string | null): Promise<AccountChoice[]> {
  let accounts = (await s.x.listAccounts(tokens)).slice(0, MAX_ACCOUNTS);
  if (reauth !== null) {
    const config = await s.store.getConfiguration(reauth);
    if (config) {
      const reached = accounts.find((a) => a.id === config.accountId);
      if (!reached) {
        return [
          {
            id: config.accountId,
            name: config.accountName ?? config.name,
            permissions: null,
            configuredAs: null,
            eligible: false,
            reason: `@${who} cannot reach this ad account.`,
          },
        ];
      }
      accounts = [reached];
    }
  }
  // A new login marks the accounts Tailor already has a configuration for: saving one of them
  // re-authorizes that configuration rather than adding a second.
  const configured = new Map(reauth === null ? (await s.store.listConfigurations()).map((c) => [c.accountId, c.name]) : []);
  return Promise.all(
    accounts.map(async (a): Promise<AccountChoice> => {
      const access = await s.x.getUserAccess(tokens, a.id);
      const eligible = access.permissions.includes(REQUIRED_PERMISSION);
      return {
        id: a.id,
        name: a.name,
        permissions: access.permissions,
        configuredAs: configured.get(a.id) ?? null,
        eligible,
        reason: eligible
          ? null
          : `@${who} has ${permissionWords(access.permissions)} on this account; saving it needs Account Administrator (${REQUIRED_PERMISSION}).`,
      };
    }),
  );
}
