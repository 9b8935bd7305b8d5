import { isAdministrator, loadAccessSettings, resolveAccount } from '../../bot/access/accountAccess';

describe('access settings', () => {
  it('reads the default account, tenant mapping and admins', () => {
    const settings = loadAccessSettings({
      DEFAULT_ACCOUNT: 'acme',
      TENANT_ACCOUNTS: 'T1=acme, t2=globex',
      ADMINS: 'Admin@Acme.com; 00000000-aaaa-4bbb-8ccc-000000000001',
    });
    expect(settings.defaultAccount).toBe('acme');
    expect([...settings.tenantAccounts]).toEqual([
      ['t1', 'acme'],
      ['t2', 'globex'],
    ]);
    expect(settings.admins.has('admin@acme.com')).toBe(true);
  });

  it('names the setting that is wrong', () => {
    expect(() => loadAccessSettings({ TENANT_ACCOUNTS: 'just-a-tenant' })).toThrow(
      /TENANT_ACCOUNTS: "just-a-tenant" is not tenantId=accountId/,
    );
    expect(() => loadAccessSettings({ DEFAULT_ACCOUNT: 'has space' })).toThrow(/DEFAULT_ACCOUNT/);
  });
});

describe('which account a conversation belongs to', () => {
  const settings = loadAccessSettings({ DEFAULT_ACCOUNT: 'acme', TENANT_ACCOUNTS: 'tenant-1=globex' });

  it('is the default account outside Teams', () => {
    expect(resolveAccount({ channelId: 'webchat' }, settings)).toEqual({ ok: true, accountId: 'acme' });
  });

  it('is the mapped account of the Teams tenant, from channelData or the conversation', () => {
    expect(
      resolveAccount({ channelId: 'msteams', channelData: { tenant: { id: 'TENANT-1' } } }, settings),
    ).toEqual({
      ok: true,
      accountId: 'globex',
    });
    expect(
      resolveAccount({ channelId: 'msteams', conversation: { tenantId: 'tenant-1' } as never }, settings),
    ).toEqual({ ok: true, accountId: 'globex' });
  });

  it('is none for a Teams tenant nobody mapped', () => {
    const result = resolveAccount(
      { channelId: 'msteams', channelData: { tenant: { id: 'other' } } },
      settings,
    );
    expect(result.ok).toBe(false);
  });
});

describe('who is an administrator', () => {
  const settings = loadAccessSettings({ ADMINS: 'aad-1,webchat-user,boss@acme.com' });

  it('matches the Entra object id, the channel user id or the email, ignoring case', () => {
    expect(isAdministrator({ from: { id: 'x', name: 'A', aadObjectId: 'AAD-1' } }, settings)).toBe(true);
    expect(isAdministrator({ from: { id: 'webchat-user', name: 'B' } }, settings)).toBe(true);
    expect(isAdministrator({ from: { id: 'y', name: 'C' } }, settings, 'Boss@Acme.com')).toBe(true);
  });

  it('refuses everyone else, and everyone when no admins are configured', () => {
    expect(isAdministrator({ from: { id: 'someone', name: 'D' } }, settings, 'someone@acme.com')).toBe(false);
    expect(isAdministrator({ from: { id: 'webchat-user', name: 'B' } }, loadAccessSettings({}))).toBe(false);
  });
});
