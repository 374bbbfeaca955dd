/**
 * X's side of the world that exists before any call: ad accounts, X logins (people) and which
 * permissions each login holds on which account. Ids and seeded access tokens come from the seed.
 *
 * The cast is fixed so tests can rely on it (credentials list them in this order):
 *   0. ads_admin      ACCOUNT_ADMIN on accounts 0 and 1
 *   1. ads_analyst    CAMPAIGN_ANALYST on account 0 (read only)
 *   2. ads_manager    AD_MANAGER on account 0
 *   3. other_admin    ACCOUNT_ADMIN on account 2, which no one else can reach
 */
import { ALPHANUMERIC, BASE36, createRng } from '../util/rng.ts';

export type Permission = 'ACCOUNT_ADMIN' | 'AD_MANAGER' | 'CREATIVE_MANAGER' | 'CAMPAIGN_ANALYST' | 'ANALYST' | 'PARTNER_AUDIENCE_MANAGER' | 'TWEET_COMPOSER';

/**
 * Who may change audiences. docs/reference/x-ads-api.md 9.4 calls this UNCONFIRMED beyond "ACCOUNT_ADMIN and
 * AD_MANAGER almost certainly can"; PARTNER_AUDIENCE_MANAGER exists for exactly this.
 */
export const AUDIENCE_WRITERS: readonly Permission[] = ['ACCOUNT_ADMIN', 'AD_MANAGER', 'PARTNER_AUDIENCE_MANAGER'];

export interface Account {
  id: string;
  name: string;
  businessId: string;
  businessName: string;
  timezone: string;
  createdAt: number;
}

export interface Grant {
  accountId: string;
  permissions: Permission[];
}

export interface Login {
  userId: string;
  screenName: string;
  name: string;
  grants: Grant[];
  /** The ready access token, as if generated in X's developer console. */
  accessToken: string;
  accessTokenSecret: string;
}

export interface Directory {
  accounts: Account[];
  logins: Login[];
}

const ACCOUNT_SPECS = [
  { name: 'Acme Outdoor', business: 'Acme Inc.' },
  { name: 'Acme Outdoor EU', business: 'Acme Inc.' },
  { name: 'Globex Retail', business: 'Globex Corporation' },
] as const;

const LOGIN_SPECS: ReadonlyArray<{ screenName: string; name: string; grants: Array<[number, Permission[]]> }> = [
  {
    screenName: 'ads_admin',
    name: 'Avery Admin',
    grants: [
      [0, ['ACCOUNT_ADMIN']],
      [1, ['ACCOUNT_ADMIN']],
    ],
  },
  { screenName: 'ads_analyst', name: 'Casey Analyst', grants: [[0, ['CAMPAIGN_ANALYST']]] },
  { screenName: 'ads_manager', name: 'Morgan Manager', grants: [[0, ['AD_MANAGER']]] },
  { screenName: 'other_admin', name: 'Olive Other', grants: [[2, ['ACCOUNT_ADMIN']]] },
];

/** Accounts were created in 2019; a fixed instant keeps responses identical across runs. */
const ACCOUNTS_CREATED_AT = Date.UTC(2019, 4, 14, 17, 2, 11);

export function buildDirectory(seed: number): Directory {
  const rng = createRng(seed, 'directory');
  const businessIds = new Map<string, string>();
  const accounts = ACCOUNT_SPECS.map((spec, i): Account => {
    let businessId = businessIds.get(spec.business);
    if (businessId === undefined) {
      businessId = rng.string(13, BASE36);
      businessIds.set(spec.business, businessId);
    }
    return {
      // X account ids look like "18ce54d4x5t": 11 base-36 characters.
      id: `${1 + rng.int(9)}${rng.string(10, BASE36)}`,
      name: spec.name,
      businessId,
      businessName: spec.business,
      timezone: 'America/Los_Angeles',
      createdAt: ACCOUNTS_CREATED_AT + i * 86_400_000,
    };
  });
  const logins = LOGIN_SPECS.map((spec): Login => {
    // X user ids are numeric strings; access tokens start with the user id, as X's do.
    const userId = `${1 + rng.int(9)}${rng.string(9, '0123456789')}`;
    return {
      userId,
      screenName: spec.screenName,
      name: spec.name,
      grants: spec.grants.map(([index, permissions]) => ({
        accountId: accounts[index]?.id ?? '',
        permissions: [...permissions],
      })),
      accessToken: `${userId}-${rng.string(40, ALPHANUMERIC)}`,
      accessTokenSecret: rng.string(45, ALPHANUMERIC),
    };
  });
  return { accounts, logins };
}

/** The permissions `userId` holds on `accountId`, or undefined when the account is out of reach. */
export function permissionsOn(directory: Directory, userId: string, accountId: string): Permission[] | undefined {
  const login = directory.logins.find((l) => l.userId === userId);
  return login?.grants.find((g) => g.accountId === accountId)?.permissions;
}
