// @ts-check
// The JSON API (/api/v1) as the browser calls it: the session cookie travels by itself; writes
// carry the page's CSRF token in a header, which the server checks.

const meta = document.querySelector('meta[name="csrf-token"]');
const CSRF = meta ? meta.getAttribute('content') || '' : '';

export class ApiFailure extends Error {
  /**
   * @param {number} status the HTTP status; 0 when Tailor did not answer
   * @param {string} code the API's error code (src/http/errors.ts), or 'network' / 'error'
   * @param {string} message
   */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Calls /api/v1. The caller names the JSON it expects (see types.d.ts); nothing checks the answer
 * against it, so T is a promise about the server, not a proof.
 * @template T
 * @param {'GET' | 'PUT' | 'POST' | 'DELETE'} method
 * @param {string} path below /api/v1
 * @param {unknown} [body] sent as JSON
 * @returns {Promise<T>} the parsed answer; null for 204 or an empty body
 */
export async function api(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = CSRF;
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiFailure(0, 'network', 'Tailor did not answer (is it running?)');
  }
  if (res.status === 401) {
    // The session ended (expired, or Tailor restarted with a new admin token): sign in again.
    window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname)}`);
    throw new ApiFailure(401, 'unauthorized', 'Your session has ended; sign in again.');
  }
  if (res.status === 204) return /** @type {T} */ (null);
  const text = await res.text();
  /** @type {unknown} the error envelope, or the caller's T */
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const envelope = /** @type {{ error?: { code?: string, message?: string } } | null} */ (data);
    const error = envelope && envelope.error ? envelope.error : {};
    throw new ApiFailure(res.status, error.code || 'error', error.message || `Tailor answered HTTP ${res.status}`);
  }
  return /** @type {T} */ (data);
}

/**
 * The same JSON as api(), for the UI's own helper routes (outside /api/v1).
 * @template T
 * @param {string} path
 * @returns {Promise<T>}
 */
export async function uiGet(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
  if (res.status === 401) {
    window.location.assign(`/sign-in?next=${encodeURIComponent(window.location.pathname)}`);
    throw new ApiFailure(401, 'unauthorized', 'Your session has ended; sign in again.');
  }
  if (!res.ok) throw new ApiFailure(res.status, 'error', `Tailor answered HTTP ${res.status}`);
  /** @type {unknown} */
  const data = await res.json();
  return /** @type {T} */ (data);
}
