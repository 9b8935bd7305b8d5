import { AccountDirectory } from '../../services/accounts/accountDirectory';
import { ACCOUNT_ADMINS_COLLECTION, ACCOUNT_TENANTS_COLLECTION } from '../../services/db/indexes';
import { AppError } from '../../services/errors';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '00000000-aaaa-4bbb-8ccc-000000000002';

let t: TestDatabase;
let accounts: AccountDirectory;

beforeAll(async () => {
  t = await openTestDatabase();
  accounts = new AccountDirectory(t.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(ACCOUNT_TENANTS_COLLECTION).deleteMany({});
  await t.db.collection(ACCOUNT_ADMINS_COLLECTION).deleteMany({});
});

/** Runs `action`, expects an option-invalid AppError and returns its message. */
async function rejection(action: () => Promise<unknown>): Promise<string> {
  const err = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('option-invalid');
  return (err as AppError).message;
}

async function stored(): Promise<{ tenants: number; admins: number }> {
  return {
    tenants: await t.db.collection(ACCOUNT_TENANTS_COLLECTION).countDocuments(),
    admins: await t.db.collection(ACCOUNT_ADMINS_COLLECTION).countDocuments(),
  };
}

describe('tenant links', () => {
  it('links a tenant (stored lower-case, with when and by whom) and finds its account in any case', async () => {
    const before = Date.now();
    await accounts.linkTenant(TENANT.toUpperCase(), 'acme', 'ops');
    expect(await accounts.accountForTenant(TENANT)).toBe('acme');
    expect(await accounts.accountForTenant(` ${TENANT.toUpperCase()} `)).toBe('acme');
    const doc = await t.db.collection(ACCOUNT_TENANTS_COLLECTION).findOne({});
    expect(doc).toEqual({ _id: TENANT, accountId: 'acme', linkedAt: expect.any(Date), linkedBy: 'ops' });
    expect((doc?.linkedAt as Date).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('relinking a tenant moves it to the new account: a tenant has one account', async () => {
    await accounts.linkTenant(TENANT, 'acme', 'ops');
    await accounts.linkTenant(TENANT, 'globex', 'boss');
    expect(await accounts.accountForTenant(TENANT)).toBe('globex');
    expect(await accounts.listTenants()).toEqual([
      { tenantId: TENANT, accountId: 'globex', linkedAt: expect.any(Date), linkedBy: 'boss' },
    ]);
  });

  it('lists all links or one account’s, by tenant id', async () => {
    await accounts.linkTenant(TENANT, 'acme', 'ops');
    await accounts.linkTenant(OTHER_TENANT, 'globex', 'ops');
    expect((await accounts.listTenants()).map((l) => [l.tenantId, l.accountId])).toEqual([
      [OTHER_TENANT, 'globex'],
      [TENANT, 'acme'],
    ]);
    expect((await accounts.listTenants('acme')).map((l) => l.tenantId)).toEqual([TENANT]);
    expect(await accounts.listTenants('initech')).toEqual([]);
  });

  it('unlinks, saying whether there was a link', async () => {
    await accounts.linkTenant(TENANT, 'acme', 'ops');
    expect(await accounts.unlinkTenant(TENANT.toUpperCase())).toBe(true);
    expect(await accounts.accountForTenant(TENANT)).toBeNull();
    expect(await accounts.unlinkTenant(TENANT)).toBe(false);
  });

  it('answers null for an unknown tenant and for anything that is not a tenant id', async () => {
    expect(await accounts.accountForTenant(OTHER_TENANT)).toBeNull();
    expect(await accounts.accountForTenant('tenant-1')).toBeNull();
    expect(await accounts.accountForTenant('')).toBeNull();
  });

  it('rejects a tenant id that is not a GUID, a bad account id or an empty author, and writes nothing', async () => {
    expect(await rejection(() => accounts.linkTenant('contoso.onmicrosoft.com', 'acme', 'ops'))).toBe(
      '"contoso.onmicrosoft.com" is not a valid tenant id: it must be a Microsoft Entra tenant id ' +
        '(a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47).',
    );
    expect(await rejection(() => accounts.linkTenant(TENANT, 'has space', 'ops'))).toBe(
      '"has space" is not a valid account id: it must be 1-100 letters, digits or . _ : -.',
    );
    expect(await rejection(() => accounts.linkTenant(TENANT, 'a'.repeat(101), 'ops'))).toMatch(
      /is not a valid account id/,
    );
    expect(await rejection(() => accounts.linkTenant(TENANT, 'acme', '  '))).toMatch(/must not be empty/);
    await rejection(() => accounts.unlinkTenant('not-a-guid'));
    await rejection(() => accounts.listTenants('bad/id'));
    expect(await stored()).toEqual({ tenants: 0, admins: 0 });
  });
});

describe('stored administrators', () => {
  it('adds an administrator once, trimmed and lower-case, keeping the first entry', async () => {
    expect(await accounts.addAdmin('acme', '  Admin@Acme.com ', 'ops')).toBe(true);
    expect(await accounts.addAdmin('acme', 'admin@acme.com', 'someone-else')).toBe(false);
    expect(await accounts.listAdmins('acme')).toEqual([
      { principal: 'admin@acme.com', addedAt: expect.any(Date), addedBy: 'ops' },
    ]);
    expect(await t.db.collection(ACCOUNT_ADMINS_COLLECTION).findOne({})).toMatchObject({
      accountId: 'acme',
      principal: 'admin@acme.com',
    });
  });

  it('adds once when two adds race', async () => {
    const results = await Promise.all([
      accounts.addAdmin('acme', 'boss@acme.com', 'ops'),
      accounts.addAdmin('acme', 'BOSS@acme.com', 'boss'),
    ]);
    expect(results.sort()).toEqual([false, true]);
    expect(await accounts.listAdmins('acme')).toHaveLength(1);
  });

  it('matches any of the principals, ignoring case, within the account only', async () => {
    await accounts.addAdmin('acme', '00000000-AAAA-4bbb-8ccc-000000000001', 'ops');
    await accounts.addAdmin('acme', 'boss@acme.com', 'ops');
    expect(await accounts.isAdmin('acme', ['29:someone', '00000000-aaaa-4BBB-8ccc-000000000001'])).toBe(true);
    expect(await accounts.isAdmin('acme', ['BOSS@ACME.COM'])).toBe(true);
    expect(await accounts.isAdmin('acme', ['29:someone', 'other@acme.com'])).toBe(false);
    expect(await accounts.isAdmin('globex', ['boss@acme.com'])).toBe(false);
    expect(await accounts.isAdmin('acme', [])).toBe(false);
    // Values from channel traffic that could never have been stored are a "no", not an error.
    expect(await accounts.isAdmin('bad id', ['boss@acme.com'])).toBe(false);
    expect(await accounts.isAdmin('acme', ['', 'with space'])).toBe(false);
  });

  it('keeps accounts apart: the same principal administers each account separately', async () => {
    expect(await accounts.addAdmin('acme', 'boss@acme.com', 'ops')).toBe(true);
    expect(await accounts.addAdmin('globex', 'boss@acme.com', 'ops')).toBe(true);
    expect(await accounts.removeAdmin('acme', 'BOSS@acme.com')).toBe(true);
    expect(await accounts.isAdmin('acme', ['boss@acme.com'])).toBe(false);
    expect(await accounts.isAdmin('globex', ['boss@acme.com'])).toBe(true);
    expect(await accounts.removeAdmin('acme', 'boss@acme.com')).toBe(false);
  });

  it('lists an account’s administrators by principal', async () => {
    await accounts.addAdmin('acme', 'zed@acme.com', 'ops');
    await accounts.addAdmin('acme', 'amy@acme.com', 'boss');
    await accounts.addAdmin('globex', 'other@globex.com', 'ops');
    expect((await accounts.listAdmins('acme')).map((a) => [a.principal, a.addedBy])).toEqual([
      ['amy@acme.com', 'boss'],
      ['zed@acme.com', 'ops'],
    ]);
    expect(await accounts.listAdmins('initech')).toEqual([]);
  });

  it('rejects an empty, spaced or overlong principal and a bad account id, and writes nothing', async () => {
    expect(await rejection(() => accounts.addAdmin('acme', '   ', 'ops'))).toBe(
      '"   " is not a valid administrator (an Entra object id, user id or email): it must not be empty.',
    );
    expect(await rejection(() => accounts.addAdmin('acme', 'John Smith', 'ops'))).toMatch(
      /^"John Smith" is not a valid administrator .*: it must not contain spaces\.$/,
    );
    const long = `${'a'.repeat(320)}@acme.com`;
    expect(await rejection(() => accounts.addAdmin('acme', long, 'ops'))).toBe(
      `"${'a'.repeat(60)}…" is not a valid administrator (an Entra object id, user id or email): ` +
        'it must be at most 320 characters.',
    );
    expect(await rejection(() => accounts.addAdmin('acme/evil', 'boss@acme.com', 'ops'))).toMatch(
      /^"acme\/evil" is not a valid account id/,
    );
    await rejection(() => accounts.removeAdmin('acme', 'two words'));
    await rejection(() => accounts.listAdmins(''));
    expect(await stored()).toEqual({ tenants: 0, admins: 0 });
  });

  it('accepts the longest allowed principal and account id', async () => {
    const principal = `${'a'.repeat(311)}@acme.com`;
    expect(principal).toHaveLength(320);
    const account = 'A'.repeat(100);
    expect(await accounts.addAdmin(account, principal, 'ops')).toBe(true);
    expect(await accounts.isAdmin(account, [principal.toUpperCase()])).toBe(true);
  });
});
