/** GET /_emulator/credentials: the app's keys and every X login with its ready access token. */
import type { FastifyInstance } from 'fastify';
import type { World } from '../../world/world.ts';

export function registerCredentials(app: FastifyInstance, world: World): void {
  app.get('/_emulator/credentials', async () => ({
    consumer_key: world.settings.consumerKey,
    consumer_secret: world.settings.consumerSecret,
    users: world.directory.logins.map((login) => ({
      user_id: login.userId,
      screen_name: login.screenName,
      access_token: login.accessToken,
      access_token_secret: login.accessTokenSecret,
      accounts: login.grants.map((g) => ({
        id: g.accountId,
        name: world.directory.accounts.find((a) => a.id === g.accountId)?.name ?? '',
        permissions: [...g.permissions],
      })),
    })),
  }));
}
