// @ts-check
// Cheap polling (issue 16): a GET that sends back the ETag of the answer it holds, so an
// unchanged answer is a 304 with no body and the page keeps what it has.
import { ApiFailure, api } from './api.js';

/**
 * @template T
 * @returns {(path: string) => Promise<{ data: T, changed: boolean }>} a getter remembering one path's last answer
 */
export function taggedGetter() {
  /** @type {{ path: string, tag: string, data: T } | null} */
  let held = null;
  return async (path) => {
    /** @type {Record<string, string>} */
    const headers = { accept: 'application/json' };
    if (held && held.path === path) headers['if-none-match'] = held.tag;
    let res;
    try {
      res = await fetch(`/api/v1${path}`, { headers, credentials: 'same-origin', cache: 'no-store' });
    } catch {
      throw new ApiFailure(0, 'network', 'Tailor did not answer (is it running?)');
    }
    if (res.status === 304 && held && held.path === path) return { data: held.data, changed: false };
    if (!res.ok) {
      // The same refusals as api() (sign-in on 401, the error envelope's message): ask it again.
      /** @type {T} */
      const data = await api('GET', path);
      return { data, changed: true };
    }
    /** @type {unknown} */
    const body = await res.json();
    const data = /** @type {T} */ (body);
    const tag = res.headers.get('etag');
    held = tag ? { path, tag, data } : null;
    return { data, changed: true };
  };
}
