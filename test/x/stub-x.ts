/**
 * A small stand-in for X on 127.0.0.1 that records what arrives and checks every signature with the
 * tests' independent signer (test/support/oauth.ts, never src/x/oauth.ts). Each test sets `handle`.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type OAuth from 'oauth-1.0a';
import { testSigner } from '../support/oauth.ts';
import { XClient, type XClientOptions } from '../../src/x/client.ts';

export const APP = { consumerKey: 'app-key', consumerSecret: 'app-secret/+=' };
export const TOKENS = { accessToken: '12345-userTokenABC', accessTokenSecret: 'user-secret:&,' };

export interface Received {
  method: string;
  /** Path and query exactly as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The Authorization header's parameters, decoded. */
  oauth: Record<string, string>;
  /** Whether the signature matches oauth-1.0a's over URL, query and oauth_* (no body). */
  signatureValid: boolean;
  /** The client port: the same port on two requests means the connection was reused. */
  remotePort: number | undefined;
}

export type Reply =
  | { status?: number; headers?: Record<string, string>; body?: unknown }
  | 'hang' // never answer
  | 'destroy'; // drop the connection without an answer

export interface Stub {
  url: string;
  received: Received[];
  handle: (req: Received) => Reply;
  /** Token secrets the stub knows, by token (access and request tokens). */
  secrets: Map<string, string>;
  client(opts?: Partial<XClientOptions>): XClient;
  close(): Promise<void>;
}

const reference = testSigner({ key: APP.consumerKey, secret: APP.consumerSecret });

export function parseAuthorization(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header?.startsWith('OAuth ')) return out;
  for (const part of header.slice('OAuth '.length).split(', ')) {
    const m = /^([^=]+)="([^"]*)"$/.exec(part);
    if (m) out[decodeURIComponent(m[1]!)] = decodeURIComponent(m[2]!);
  }
  return out;
}

/** The signature oauth-1.0a computes for this request, given the form data it should include. */
export function referenceSignature(
  method: string,
  fullUrl: string,
  oauth: Record<string, string>,
  tokenSecret: string,
  data: Record<string, string> = {},
): string {
  const { oauth_signature: _s, ...rest } = oauth;
  return reference.getSignature({ url: fullUrl, method, data }, tokenSecret, rest as unknown as OAuth.Data);
}

export async function startStub(): Promise<Stub> {
  const app: FastifyInstance = Fastify({ forceCloseConnections: true });
  // Keep JSON and form bodies as the exact text that arrived.
  app.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const stub: Stub = {
    url: '',
    received: [],
    handle: () => ({ status: 500, body: { errors: [{ code: 'INTERNAL_ERROR', message: 'no handler' }] } }),
    secrets: new Map([[TOKENS.accessToken, TOKENS.accessTokenSecret]]),
    client: (opts = {}) => new XClient({ apiUrl: stub.url, oauthUrl: stub.url, app: APP, ...opts }),
    close: () => app.close(),
  };

  app.all('/*', async (request, reply) => {
    const url = request.url;
    const full = `${stub.url}${url}`;
    const oauth = parseAuthorization(request.headers.authorization);
    const tokenSecret = oauth.oauth_token ? (stub.secrets.get(oauth.oauth_token) ?? 'unknown token') : '';
    const received: Received = {
      method: request.method,
      url,
      path: url.split('?')[0]!,
      query: new URL(full).searchParams,
      headers: request.headers,
      body: typeof request.body === 'string' ? request.body : '',
      oauth,
      signatureValid: oauth.oauth_signature === referenceSignature(request.method, full, oauth, tokenSecret),
      remotePort: request.raw.socket.remotePort,
    };
    stub.received.push(received);
    const answer = stub.handle(received);
    if (answer === 'hang') {
      reply.hijack();
      return;
    }
    if (answer === 'destroy') {
      reply.hijack();
      request.raw.socket.destroy();
      return;
    }
    void reply.code(answer.status ?? 200);
    for (const [k, v] of Object.entries(answer.headers ?? {})) void reply.header(k, v);
    if (typeof answer.body === 'string') {
      if (!answer.headers?.['content-type']) void reply.type('text/plain');
      return reply.send(answer.body);
    }
    return reply.send(answer.body ?? {});
  });

  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  stub.url = address;
  return stub;
}

/** An X audience object as X writes it. */
export function xAudience(id: string, overrides: Record<string, unknown> = {}) {
  return {
    targetable: false,
    name: `audience ${id}`,
    targetable_types: ['CRM', 'EXCLUDED_CRM'],
    audience_type: 'CRM',
    description: null,
    permission_level: 'READ_WRITE',
    owner_account_id: '18ce54d4x5t',
    id,
    reasons_not_targetable: ['PROCESSING', 'TOO_SMALL'],
    created_at: '2017-08-22T23:34:26Z',
    updated_at: '2017-08-22T23:34:26Z',
    partner_source: 'OTHER',
    deleted: false,
    audience_size: null,
    ...overrides,
  };
}
