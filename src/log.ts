import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs. Tokens and secrets are redacted wherever they appear; identifiers never
 * reach a log line in the first place (only hashes are handled past the sources, and bodies are
 * never logged).
 */
export function createLogger(level: string, name = 'tailor'): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: ['req.headers.authorization', '*.access_token', '*.access_token_secret', '*.tokens', 'tokens', 'accessToken', 'accessTokenSecret'],
      censor: '[redacted]',
    },
  });
}
