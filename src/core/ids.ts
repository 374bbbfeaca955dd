/**
 * The shape of the ids Tailor accepts and gives out: audience ids (REST, the Firehose's, the web
 * UI's form) and configuration ids (UUIDs). One definition, used by the server's checks, the
 * OpenAPI description (through the zod schemas) and the web UI's form (served to it on the
 * page, src/server/ui.ts), so none of them can allow what another refuses.
 */

/**
 * The longest id. Ids travel in URL paths (`/api/v1/audiences/:audienceId`), and the HTTP
 * router refuses a path parameter longer than this (`maxParamLength`, src/server/app.ts): 100 is
 * fastify's default, which the REST API always answered with. The product contract names no
 * limit; mParticle's audience ids are 32-bit integers, far shorter.
 */
export const MAX_ID_CHARS = 100;

/** The characters of an id: URL-unreserved, so an id goes into a path as it is. */
export const ID_CHARS = 'A-Za-z0-9._~-';

/** A whole id, for server-side checks. */
export const ID_RE = new RegExp(`^[${ID_CHARS}]{1,${MAX_ID_CHARS}}$`);

/**
 * The same rule as an HTML `pattern` attribute, which browsers compile with the `v` flag: there
 * a `-` inside a class must be escaped.
 */
export const ID_HTML_PATTERN = `[${ID_CHARS.replace('-', '\\-')}]{1,${MAX_ID_CHARS}}`;
