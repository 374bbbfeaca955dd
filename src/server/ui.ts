/**
 * The web UI's routes, in their own encapsulated plugin (its hooks and form parser touch nothing
 * else): the sign-in page, the pages (a server-rendered frame that /assets/app.js fills from
 * /api/v1 and keeps up to date), the static assets under src/ui/assets, and the X login popup.
 *
 *   GET  /                  Audiences                 GET  /sign-in, POST /sign-in, POST /sign-out
 *   GET  /outputs           Setup › Outputs           GET  /assets/<file>
 *   GET  /setup/health      Setup › Health
 *   GET  /audiences/:id     Connect and Status        /oauth/x/* (oauth-login.ts)
 *
 * Every response carries a strict Content-Security-Policy (same-origin scripts and styles only,
 * nothing inline, no framing) and the usual hardening headers.
 */
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ID_HTML_PATTERN, MAX_ID_CHARS } from '../core/ids.ts';
import { ownFile } from '../files.ts';
import { pathId } from '../http/validate.ts';
import type { Services } from '../services/deps.ts';
import { renderPopupMessage } from '../ui/pages/popup.ts';
import { renderShell, type ShellPage } from '../ui/pages/shell.ts';
import { renderSignIn } from '../ui/pages/sign-in.ts';
import { registerOAuthLogin } from './oauth-login.ts';
import { clearSessionCookie, originOf, sameOrigin, setSessionCookie, type Session, type SessionKeys } from './session.ts';

export interface UiOptions {
  sessions: SessionKeys;
  /** TAILOR_PUBLIC_URL, or null to use the request's Host. */
  publicUrl: string | null;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // Tailor's URLs carry audience ids and, on the callback, X's verifier: they go nowhere else.
  // (Not no-referrer: that makes browsers send `Origin: null` on form posts, which sameOrigin refuses.)
  'referrer-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
};

const ASSET_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.woff2': 'font/woff2',
  '.png': 'image/png',
};

interface Asset {
  type: string;
  body: Buffer;
  etag: string;
}

/** The files under src/ui/assets, read once: only these names can ever be served. */
function loadAssets(): Map<string, Asset> {
  const dir = ownFile('ui/assets/');
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const ext = name.slice(name.lastIndexOf('.'));
    const type = ASSET_TYPES[ext];
    if (type === undefined || !/^[a-z0-9-]+\.[a-z0-9]+$/.test(name)) continue;
    const body = readFileSync(new URL(name, dir));
    assets.set(name, { type, body, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets;
}

/** Only local paths may follow sign-in: `/x`, never `//evil` or `https://…`. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[\w\-./~%?=&]*$/.test(next) ? next : '/';
}

export async function registerUi(app: FastifyInstance, s: Services, o: UiOptions): Promise<void> {
  const assets = loadAssets();
  await app.register(async (ui) => {
    await ui.register(formbody, { bodyLimit: 16 * 1024 });

    ui.addHook('onSend', async (_req, reply) => {
      for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    });

    const secure = (req: FastifyRequest) => originOf(req, o.publicUrl)?.startsWith('https:') ?? false;
    const htmlReply = (reply: FastifyReply, status: number, body: string) =>
      reply.code(status).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(body);

    /** A signed-in page, or a redirect to sign-in that comes back here. */
    const page = async (req: FastifyRequest, reply: FastifyReply, render: (session: Session) => string) => {
      const session = await o.sessions.read(req);
      if (!session) return reply.redirect(`/sign-in?next=${encodeURIComponent(req.url)}`, 303);
      return htmlReply(reply, 200, render(session));
    };
    const shell =
      (name: ShellPage, data: Record<string, string> = {}) =>
      (session: Session) =>
        renderShell(name, o.sessions.csrfToken(session), data);

    // The create form takes the server's id rule from the page, rather than a copy of it.
    const idRule = { 'audience-id-max': String(MAX_ID_CHARS), 'audience-id-pattern': ID_HTML_PATTERN };
    ui.get('/', async (req, reply) => page(req, reply, shell('audiences', idRule)));
    ui.get('/outputs', async (req, reply) => page(req, reply, shell('outputs')));
    ui.get('/audit', async (req, reply) => page(req, reply, shell('audit')));
    ui.get('/setup/health', async (req, reply) => page(req, reply, shell('health')));
    ui.get('/privacy', async (req, reply) => page(req, reply, shell('privacy')));
    ui.get<{ Params: { id: string } }>('/audiences/:id', async (req, reply) => page(req, reply, shell('audience', { 'audience-id': req.params.id })));

    ui.get<{ Querystring: { next?: string } }>('/sign-in', async (req, reply) => {
      const next = safeNext(req.query.next);
      if (await o.sessions.read(req)) return reply.redirect(next, 303);
      return htmlReply(reply, 200, renderSignIn(next));
    });

    ui.post('/sign-in', async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      if (!sameOrigin(req, o.publicUrl)) return htmlReply(reply, 403, renderSignIn(next, 'This sign-in form did not come from this Tailor.'));
      if (typeof body.token !== 'string' || !o.sessions.checkAdminToken(body.token.trim())) {
        req.log.warn('UI sign-in refused: wrong admin token');
        return htmlReply(reply, 401, renderSignIn(next, 'That is not the admin token. Check TAILOR_ADMIN_TOKEN and try again.'));
      }
      setSessionCookie(reply, (await o.sessions.issue()).value, secure(req));
      req.log.info('UI sign-in');
      return reply.redirect(next, 303);
    });

    ui.post('/sign-out', async (req, reply) => {
      const session = await o.sessions.read(req);
      const body = (req.body ?? {}) as Record<string, unknown>;
      // Signing out without the CSRF token is refused: a cross-site page must not sign users out.
      if (session && (!sameOrigin(req, o.publicUrl) || !o.sessions.checkCsrf(session, body.csrf))) return reply.redirect('/', 303);
      // Ended in the database, not only in this browser: a copy of the cookie is worth nothing now.
      if (session) await o.sessions.end(session);
      clearSessionCookie(reply, secure(req));
      return reply.redirect('/sign-in', 303);
    });

    // The X audiences of a deleted audience still being deleted on X (the Audiences page follows
    // them until X confirms). /api/v1 has no view of a deleted audience; this is the UI's own.
    ui.get<{ Params: { id: string } }>('/ui/deleting/:id', async (req, reply) => {
      if (!(await o.sessions.read(req))) return reply.code(401).send({ error: { code: 'unauthorized', message: 'Sign in first' } });
      // Tailor's id shape first: a NUL in an id is an error on PostgreSQL, never a row.
      const downstreams = await s.store.listDownstreams(pathId(req.params.id, 'Audience'));
      reply.header('cache-control', 'no-store');
      return {
        x_audiences: downstreams.filter((d) => d.state === 'deleting').map((d) => ({ x_audience_id: d.xAudienceId, name: d.xName, last_error: d.lastError })),
      };
    });

    ui.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
      const asset = assets.get(req.params.file);
      if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      reply.header('etag', asset.etag).header('cache-control', 'no-cache');
      if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
      return reply.type(asset.type).send(asset.body);
    });

    registerOAuthLogin(ui, s, {
      sessions: o.sessions,
      publicUrl: o.publicUrl,
      needsSession: (_req, reply) =>
        htmlReply(
          reply,
          401,
          renderPopupMessage({
            result: 'failed',
            title: 'Sign in to Tailor first',
            message: 'Your Tailor session has ended. Sign in again, then start the X login from Setup › Outputs.',
            retryHref: '/sign-in?next=%2Foutputs',
          }),
        ),
    });
  });
}
