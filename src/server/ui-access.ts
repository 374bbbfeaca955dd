/**
 * Access classes of the web UI's routes (ui.ts, oauth-login.ts): the few a signed-out browser
 * needs are listed here, each for a reason; every other UI route, including any added later,
 * needs the session (access.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderPopupMessage } from '../ui/pages/popup.ts';
import type { Access } from './access.ts';
import { sendError } from '../http/errors.ts';

/** "METHOD pattern" → why it is open. HEAD follows GET. */
export const UI_PUBLIC_ROUTES: ReadonlyMap<string, string> = new Map([
  ['GET /sign-in', 'the sign-in page'],
  ['POST /sign-in', 'the sign-in form; it checks the admin token itself'],
  ['POST /sign-out', 'clears the cookie; needs the session and its CSRF token to do anything'],
  ['GET /assets/:file', "the UI's static files (only those shipped in src/ui/assets); the sign-in page needs them"],
  ['GET /oauth/x/callback', 'X redirects the browser here; refused without the flow cookie issued by /oauth/x/start, which needs a session'],
]);

/** Pages a signed-out browser is sent to sign in from, and back. */
const PAGES = new Set(['/', '/outputs', '/audit', '/setup/health', '/audiences/:id', '/privacy']);

export function classifyUiRoute(method: string, url: string): Access {
  return UI_PUBLIC_ROUTES.has(`${method === 'HEAD' ? 'GET' : method} ${url}`) ? 'public' : 'session';
}

/**
 * A UI route's answer to a browser without a session, as its handler would give it: a page
 * redirects to sign-in; the X login popup shows why it stopped; anything else is a 401.
 */
export function refuseUiSession(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const route = req.routeOptions.url ?? '';
  reply.header('cache-control', 'no-store');
  if (PAGES.has(route) && (req.method === 'GET' || req.method === 'HEAD')) {
    const next = req.url.startsWith('/') ? req.url : '/';
    return reply.redirect(`/sign-in?next=${encodeURIComponent(next)}`, 303);
  }
  if (route.startsWith('/oauth/x/')) {
    const page = renderPopupMessage({
      result: 'failed',
      title: 'Sign in to Tailor first',
      message: 'Your Tailor session has ended. Sign in again, then start the X login from Setup › Outputs.',
      retryHref: '/sign-in?next=%2Foutputs',
    });
    return reply.code(401).type('text/html; charset=utf-8').send(page);
  }
  return sendError(reply, 'unauthorized', 'Sign in first');
}
