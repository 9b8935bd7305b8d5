import { ACCOUNT_ADMINS_COLLECTION, ACCOUNT_TENANTS_COLLECTION } from '../../services/db/indexes';
import { CliWorld, json, type CliRun } from './cliHarness';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '00000000-aaaa-4bbb-8ccc-000000000002';

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => {
  await w.t.db.collection(ACCOUNT_TENANTS_COLLECTION).deleteMany({});
  await w.t.db.collection(ACCOUNT_ADMINS_COLLECTION).deleteMany({});
});

/** Asserts the exit code and that stdout is exactly `{ "error": { code, message } }`; returns the message. */
function expectError(run: CliRun, exitCode: number, code: string): string {
  expect(run.code).toBe(exitCode);
  expect(json(run)).toEqual({ error: { code, message: expect.any(String) } });
  return json<{ error: { message: string } }>(run).error.message;
}

async function stored(): Promise<{ tenants: number; admins: number }> {
  return {
    tenants: await w.t.db.collection(ACCOUNT_TENANTS_COLLECTION).countDocuments(),
    admins: await w.t.db.collection(ACCOUNT_ADMINS_COLLECTION).countDocuments(),
  };
}

interface AdminOut {
  principal: string;
  addedAt: string;
  addedBy: string;
}

interface TenantOut {
  tenantId: string;
  accountId: string;
  linkedAt: string;
  linkedBy: string;
}

describe('admins', () => {
  it('adds (lower-case, once), lists and removes an account’s administrators', async () => {
    const add = await w.run(['admins', 'add', 'Boss@Acme.com', '--account', 'acme', '--as', 'ops', '--json']);
    expect(add.code).toBe(0);
    expect(json(add)).toEqual({ accountId: 'acme', principal: 'boss@acme.com', added: true });

    const again = await w.run(['admins', 'add', 'boss@acme.com', '--account', 'acme', '--json']);
    expect(json(again)).toEqual({ accountId: 'acme', principal: 'boss@acme.com', added: false });
    await w.run(['admins', 'add', 'aad-1', '--account', 'acme']);
    await w.run(['admins', 'add', 'other@globex.com', '--account', 'globex']);

    const list = await w.run(['admins', 'list', '--account', 'acme', '--json']);
    expect(list.code).toBe(0);
    const listed = json<{ accountId: string; admins: AdminOut[] }>(list);
    expect(listed).toEqual({
      accountId: 'acme',
      admins: [
        // Without --as the change is recorded as the user running the command (USER), else "cli".
        { principal: 'aad-1', addedAt: expect.any(String), addedBy: 'cli' },
        { principal: 'boss@acme.com', addedAt: expect.any(String), addedBy: 'ops' },
      ],
    });
    expect(Number.isNaN(Date.parse(listed.admins[0]?.addedAt ?? ''))).toBe(false);

    const remove = await w.run(['admins', 'remove', 'BOSS@acme.com', '--account', 'acme', '--json']);
    expect(json(remove)).toEqual({ accountId: 'acme', principal: 'boss@acme.com', removed: true });
    const removeAgain = await w.run(['admins', 'remove', 'boss@acme.com', '--account', 'acme', '--json']);
    expect(removeAgain.code).toBe(0);
    expect(json(removeAgain)).toMatchObject({ removed: false });
    const after = json<{ admins: AdminOut[] }>(
      await w.run(['admins', 'list', '--account', 'acme', '--json']),
    );
    expect(after.admins.map((a) => a.principal)).toEqual(['aad-1']);
  });

  it('records the user running the command when --as is not given', async () => {
    await w.run(['admins', 'add', 'boss@acme.com', '--account', 'acme'], { USER: 'alice' });
    const list = json<{ admins: AdminOut[] }>(await w.run(['admins', 'list', '--account', 'acme', '--json']));
    expect(list.admins[0]?.addedBy).toBe('alice');
  });

  it('prints text without --json', async () => {
    expect((await w.run(['admins', 'list', '--account', 'acme'])).stdout).toBe(
      'No stored administrators for acme (those in the ADMINS setting are not listed here).\n',
    );
    expect((await w.run(['admins', 'add', 'Boss@Acme.com', '--account', 'acme', '--as', 'ops'])).stdout).toBe(
      'Added boss@acme.com as an administrator of acme.\n',
    );
    expect((await w.run(['admins', 'add', 'boss@acme.com', '--account', 'acme'])).stdout).toBe(
      'boss@acme.com is already an administrator of acme; nothing changed.\n',
    );
    expect((await w.run(['admins', 'list', '--account', 'acme'])).stdout).toMatch(
      /^boss@acme\.com\t\d{4}-\d\d-\d\dT[\d:.]+Z\tops\n$/,
    );
    expect((await w.run(['admins', 'remove', 'boss@acme.com', '--account', 'acme'])).stdout).toBe(
      'Removed boss@acme.com from the administrators of acme.\n',
    );
    expect((await w.run(['admins', 'remove', 'boss@acme.com', '--account', 'acme'])).stdout).toBe(
      'boss@acme.com is not a stored administrator of acme; nothing changed.\n',
    );
  });

  it('rejects an invalid principal or account id (exit 1, option-invalid) and stores nothing', async () => {
    const long = `${'a'.repeat(330)}@acme.com`;
    expect(
      expectError(await w.run(['admins', 'add', long, '--account', 'acme', '--json']), 1, 'option-invalid'),
    ).toMatch(/is not a valid administrator .*: it must be at most 320 characters\.$/);
    expect(
      expectError(
        await w.run(['admins', 'add', 'boss@acme.com', '--account', 'acme corp', '--json']),
        1,
        'option-invalid',
      ),
    ).toBe('"acme corp" is not a valid account id: it must be 1-100 letters, digits or . _ : -.');
    const text = await w.run(['admins', 'add', 'boss@acme.com', '--account', 'a/b']);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe('');
    expect(text.stderr).toMatch(/^Error \(option-invalid\): "a\/b" is not a valid account id/);
    expect(await stored()).toEqual({ tenants: 0, admins: 0 });
  });
});

describe('tenants', () => {
  it('links (lower-case), relinks, lists and unlinks tenants', async () => {
    const link = await w.run([
      'tenants',
      'link',
      TENANT.toUpperCase(),
      '--account',
      'acme',
      '--as',
      'ops',
      '--json',
    ]);
    expect(link.code).toBe(0);
    expect(json(link)).toEqual({ tenantId: TENANT, accountId: 'acme', previousAccountId: null });
    await w.run(['tenants', 'link', OTHER_TENANT, '--account', 'globex', '--as', 'ops']);

    const all = json<{ tenants: TenantOut[] }>(await w.run(['tenants', 'list', '--json']));
    expect(all.tenants).toEqual([
      { tenantId: OTHER_TENANT, accountId: 'globex', linkedAt: expect.any(String), linkedBy: 'ops' },
      { tenantId: TENANT, accountId: 'acme', linkedAt: expect.any(String), linkedBy: 'ops' },
    ]);
    const acme = json<{ tenants: TenantOut[] }>(
      await w.run(['tenants', 'list', '--account', 'acme', '--json']),
    );
    expect(acme.tenants.map((l) => l.tenantId)).toEqual([TENANT]);

    // A tenant has one account: linking it again moves it, and says from where.
    const relink = await w.run(['tenants', 'link', TENANT, '--account', 'globex', '--json']);
    expect(json(relink)).toEqual({ tenantId: TENANT, accountId: 'globex', previousAccountId: 'acme' });
    expect(
      json<{ tenants: TenantOut[] }>(await w.run(['tenants', 'list', '--account', 'acme', '--json'])),
    ).toEqual({ tenants: [] });

    const unlink = await w.run(['tenants', 'unlink', TENANT, '--json']);
    expect(json(unlink)).toEqual({ tenantId: TENANT, unlinked: true, previousAccountId: 'globex' });
    const unlinkAgain = await w.run(['tenants', 'unlink', TENANT, '--json']);
    expect(unlinkAgain.code).toBe(0);
    expect(json(unlinkAgain)).toEqual({ tenantId: TENANT, unlinked: false, previousAccountId: null });
    expect(await stored()).toEqual({ tenants: 1, admins: 0 });
  });

  it('prints text without --json', async () => {
    expect((await w.run(['tenants', 'list'])).stdout).toBe('No linked tenants.\n');
    expect((await w.run(['tenants', 'link', TENANT, '--account', 'acme'])).stdout).toBe(
      `Linked tenant ${TENANT} to account acme.\n`,
    );
    expect((await w.run(['tenants', 'link', TENANT, '--account', 'globex'])).stdout).toBe(
      `Linked tenant ${TENANT} to account globex (it was linked to acme).\n`,
    );
    expect((await w.run(['tenants', 'list'])).stdout).toMatch(
      new RegExp(`^${TENANT}\\tglobex\\t\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\tcli\\n$`),
    );
    expect((await w.run(['tenants', 'unlink', TENANT])).stdout).toBe(
      `Unlinked tenant ${TENANT} from account globex.\n`,
    );
    expect((await w.run(['tenants', 'unlink', TENANT])).stdout).toBe(
      `Tenant ${TENANT} is not linked; nothing changed.\n`,
    );
  });

  it('rejects a tenant id that is not a GUID or a bad account id (exit 1, option-invalid)', async () => {
    expect(
      expectError(
        await w.run(['tenants', 'link', 'contoso.onmicrosoft.com', '--account', 'acme', '--json']),
        1,
        'option-invalid',
      ),
    ).toMatch(
      /^"contoso\.onmicrosoft\.com" is not a valid tenant id: it must be a Microsoft Entra tenant id/,
    );
    expectError(
      await w.run(['tenants', 'link', TENANT, '--account', 'acme!', '--json']),
      1,
      'option-invalid',
    );
    expectError(await w.run(['tenants', 'unlink', 'tenant-1', '--json']), 1, 'option-invalid');
    expectError(await w.run(['tenants', 'list', '--account', 'a b', '--json']), 1, 'option-invalid');
    expect(await stored()).toEqual({ tenants: 0, admins: 0 });
  });
});

describe('usage errors (exit 2)', () => {
  it.each([
    ['admins without a subcommand', ['admins'], /^admins needs one of: add, remove, list\.\n\nUsage:/],
    [
      'an unknown admins subcommand',
      ['admins', 'grant', 'x'],
      /^Unknown admins command "grant"\. Use add, remove, list\./,
    ],
    ['tenants without a subcommand', ['tenants'], /^tenants needs one of: link, unlink, list\./],
    ['an unknown tenants subcommand', ['tenants', 'show'], /^Unknown tenants command "show"\./],
  ])('%s, checked before the database is contacted', async (_case, args, message) => {
    const run = await w.run([...args, '--json'], { MONGODB_URI: 'mongodb://127.0.0.1:1/' });
    expect(expectError(run, 2, 'usage')).toMatch(message);
  });

  it.each([
    [
      'admins add without a principal',
      ['admins', 'add', '--account', 'acme'],
      /^admins add needs an administrator/,
    ],
    [
      'admins remove without a principal',
      ['admins', 'remove', '--account', 'acme'],
      /^admins remove needs an/,
    ],
    ['admins add without --account', ['admins', 'add', 'boss@acme.com'], /^--account <id> is required\./],
    ['admins list without --account', ['admins', 'list'], /^--account <id> is required\./],
    [
      'admins add with a name in two words',
      ['admins', 'add', 'John', 'Smith', '--account', 'acme'],
      /^admins add takes one value; also got "Smith"\./,
    ],
    ['admins list with a word', ['admins', 'list', 'acme'], /^admins list takes no other words/],
    [
      'tenants link without a tenant',
      ['tenants', 'link', '--account', 'acme'],
      /^tenants link needs a tenant id\./,
    ],
    ['tenants link without --account', ['tenants', 'link', TENANT], /^--account <id> is required\./],
    [
      'tenants unlink with --account',
      ['tenants', 'unlink', TENANT, '--account', 'acme'],
      /^tenants unlink takes no --account/,
    ],
    [
      'tenants list with a blank --account',
      ['tenants', 'list', '--account', ' '],
      /^--account <id> must not be blank\./,
    ],
  ])('%s', async (_case, args, message) => {
    expect(expectError(await w.run([...args, '--json']), 2, 'usage')).toMatch(message);
    expect(await stored()).toEqual({ tenants: 0, admins: 0 });
  });

  it('lists the new commands in the usage text', async () => {
    const help = await w.run(['--help']);
    for (const line of [
      'admins add <principal> --account <id> [--as <admin>] [--json]',
      'admins remove <principal> --account <id> [--json]',
      'admins list --account <id> [--json]',
      'tenants link <tenantId> --account <id> [--as <admin>] [--json]',
      'tenants unlink <tenantId> [--json]',
      'tenants list [--account <id>] [--json]',
    ])
      expect(help.stdout).toContain(`\n  ${line}\n`);
  });
});
