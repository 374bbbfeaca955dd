/** The X configuration the PostgreSQL benches share: the emulator's admin login, tokens sealed as Tailor seals them. */
import { SecretBox } from '../src/core/secret-box.ts';
import type { Configuration, Store } from '../src/store/port.ts';
import { sealTokens } from '../src/sync/tokens.ts';
import { SECRET_KEY, type Emu } from '../test/e2e/harness.ts';

export async function putAdminConfiguration(store: Store, emu: Emu, name: string): Promise<Configuration> {
  const { user, accountId } = emu.admin();
  const tokens = sealTokens(new SecretBox(SECRET_KEY), { accessToken: user.access_token, accessTokenSecret: user.access_token_secret });
  const { configuration } = await store.putConfiguration(
    { name, accountId, accountName: null, xUserId: user.user_id, screenName: null, tokens },
    Date.now(),
    'cli',
  );
  return configuration;
}
