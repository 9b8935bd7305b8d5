import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ActivityHandler,
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  TestAdapter,
  TurnContext,
  type Activity,
} from 'botbuilder';
import {
  AccountAccess,
  isAdministrator,
  loadAccessSettings,
  refusalText,
  resolveAccount,
  teamsEmailLookup,
  type AccessResult,
} from '../../bot/access/accountAccess';
import { createHttpServer } from '../../bot/httpServer';
import { AccountDirectory } from '../../services/accounts/accountDirectory';
import { createLogger } from '../../services/logger';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

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

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const STORED_TENANT = '00000000-aaaa-4bbb-8ccc-000000000002';
const AAD_ID = '00000000-aaaa-4bbb-8ccc-0000000000aa';

describe('AccountAccess: settings and the stored directory together', () => {
  let t: TestDatabase;
  let directory: AccountDirectory;

  beforeAll(async () => {
    t = await openTestDatabase();
    directory = new AccountDirectory(t.db);
    await directory.linkTenant(STORED_TENANT, 'initech', 'ops');
    // A stored link the TENANT_ACCOUNTS setting overrides.
    await directory.linkTenant(TENANT, 'not-this-one', 'ops');
    await directory.addAdmin('acme', 'stored-webchat-user', 'ops');
    await directory.addAdmin('initech', AAD_ID, 'ops');
    await directory.addAdmin('initech', 'boss@initech.com', 'ops');
  });
  afterAll(async () => t.close());

  const settings = loadAccessSettings({
    DEFAULT_ACCOUNT: 'acme',
    TENANT_ACCOUNTS: `${TENANT}=globex`,
    ADMINS: 'webchat-admin, Admin@Acme.com',
  });

  /** A turn's context on a test adapter: check() reads only the activity (and passes it to the look-up). */
  const contextOf = (activity: Partial<Activity>) =>
    new TurnContext(new TestAdapter(), {
      type: 'message',
      recipient: { id: 'bot', name: 'Bot' },
      conversation: { id: 'conv-1' } as never,
      ...activity,
    });

  const teams = (from: { id: string; aadObjectId?: string }, tenant = STORED_TENANT): Partial<Activity> => ({
    channelId: 'msteams',
    from: { name: 'Someone', ...from },
    channelData: { tenant: { id: tenant } },
  });

  /** An email look-up that answers `email` and counts its calls. */
  function lookup(email: string | undefined | Error) {
    const calls: TurnContext[] = [];
    const fn = async (context: TurnContext) => {
      calls.push(context);
      if (email instanceof Error) throw email;
      return email;
    };
    return { fn, calls };
  }

  it('outside Teams: the default account, administrators from ADMINS or stored for that account', async () => {
    const email = lookup('boss@initech.com');
    const access = new AccountAccess(settings, directory, email.fn);
    const webchat = (id: string) => contextOf({ channelId: 'webchat', from: { id, name: 'W' } });
    expect(await access.check(webchat('webchat-admin'))).toEqual({
      ok: true,
      accountId: 'acme',
      isAdmin: true,
      principal: 'webchat-admin',
    });
    expect(await access.check(webchat('Stored-Webchat-User'))).toMatchObject({ ok: true, isAdmin: true });
    expect(await access.check(webchat('stranger'))).toEqual({
      ok: true,
      accountId: 'acme',
      isAdmin: false,
      principal: 'stranger',
    });
    // Emails are looked up in Teams only.
    expect(email.calls).toHaveLength(0);
  });

  it('in Teams: TENANT_ACCOUNTS first, then the stored link; an unknown tenant gets no account', async () => {
    const access = new AccountAccess(settings, directory);
    expect(await access.check(contextOf(teams({ id: '29:a' }, TENANT.toUpperCase())))).toMatchObject({
      ok: true,
      accountId: 'globex',
    });
    expect(await access.check(contextOf(teams({ id: '29:a' }, STORED_TENANT)))).toMatchObject({
      ok: true,
      accountId: 'initech',
    });
    const unknown = '00000000-aaaa-4bbb-8ccc-0000000000ff';
    const refused = await access.check(contextOf(teams({ id: '29:a' }, unknown)));
    expect(refused).toEqual({
      ok: false,
      reason:
        'This Microsoft Teams organisation is not linked to an Enrollment Assistant account yet. Whoever ' +
        `runs Enrollment Assistant can link it with: npm run -s enroll -- tenants link ${unknown} --account <account>`,
    });
    const noTenant = await access.check(contextOf({ channelId: 'msteams', from: { id: '29:a', name: 'A' } }));
    expect(noTenant).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/did not say which organisation/),
    });
    // Without a directory only the settings count.
    expect(
      await new AccountAccess(settings, undefined).check(contextOf(teams({ id: '29:a' }, STORED_TENANT))),
    ).toMatchObject({ ok: false });
  });

  it('in Teams: a stored Entra object id is an administrator without looking up the email', async () => {
    const email = lookup('nobody@initech.com');
    const access = new AccountAccess(settings, directory, email.fn);
    const result = await access.check(contextOf(teams({ id: '29:boss', aadObjectId: AAD_ID.toUpperCase() })));
    expect(result).toEqual({
      ok: true,
      accountId: 'initech',
      isAdmin: true,
      principal: AAD_ID.toUpperCase(),
    });
    expect(email.calls).toHaveLength(0);
  });

  it('in Teams: the looked-up email matches ADMINS or the account’s stored administrators', async () => {
    const byStored = lookup(' Boss@Initech.com ');
    const stored = await new AccountAccess(settings, directory, byStored.fn).check(
      contextOf(teams({ id: '29:x', aadObjectId: 'aad-x' })),
    );
    expect(stored).toEqual({ ok: true, accountId: 'initech', isAdmin: true, principal: 'aad-x' });
    expect(byStored.calls).toHaveLength(1);

    const bySetting = await new AccountAccess(settings, directory, lookup('admin@acme.com').fn).check(
      contextOf(teams({ id: '29:x' })),
    );
    expect(bySetting).toMatchObject({ ok: true, isAdmin: true, principal: '29:x' });

    // A stored administrator of another account is no administrator here.
    const elsewhere = await new AccountAccess(settings, directory, lookup('boss@initech.com').fn).check(
      contextOf(teams({ id: '29:x' }, TENANT)),
    );
    expect(elsewhere).toMatchObject({ ok: true, accountId: 'globex', isAdmin: false });
  });

  it('in Teams: no email, or a look-up that fails, refuses instead of failing the turn', async () => {
    for (const answer of [undefined, '', new Error('connector down')]) {
      const access = new AccountAccess(settings, directory, lookup(answer).fn);
      expect(await access.check(contextOf(teams({ id: '29:x' })))).toMatchObject({
        ok: true,
        isAdmin: false,
      });
    }
    const throwsAtOnce = new AccountAccess(settings, directory, () => {
      throw new Error('synchronous');
    });
    expect(await throwsAtOnce.check(contextOf(teams({ id: '29:x' })))).toMatchObject({ isAdmin: false });
  });
});

describe('the refusal', () => {
  it('names the sender’s id and both ways of becoming an administrator', () => {
    expect(refusalText('29:abc')).toBe(
      'Sorry, only the administrators of this account can import users. Ask one of them to add you ' +
        '(your user id here is 29:abc; it goes in the ADMINS setting, or they can run ' +
        'npm run -s enroll -- admins add 29:abc --account <account>).',
    );
    expect(refusalText('aad-1', 'acme')).toContain('admins add aad-1 --account acme).');
  });
});

interface ConnectorRequest {
  method: string;
  path: string;
}

/**
 * A stand-in for the Teams connector on loopback: answers the member look-up with `member` (or 404 when
 * null) and accepts anything else.
 */
async function startTeamsConnector(member: Record<string, unknown> | null) {
  const received: ConnectorRequest[] = [];
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(req.url ?? '');
    received.push({ method: req.method ?? '', path });
    req.resume();
    req.on('end', () => {
      const isMember = req.method === 'GET' && /^\/v3\/conversations\/[^/]+\/members\/[^/]+$/.test(path);
      if (isMember && !member) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'MemberNotFoundInConversation', message: 'Not found' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(isMember ? member : { id: 'reply-1' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('the Teams email look-up, in a real turn', () => {
  const settings = loadAccessSettings({ TENANT_ACCOUNTS: `${TENANT}=acme`, ADMINS: 'admin@acme.com' });

  /** Posts one Teams message to a bot whose only job is to check access; resolves to what check() said. */
  async function turn(member: Record<string, unknown> | null) {
    const connector = await startTeamsConnector(member);
    const logLines: string[] = [];
    const log = createLogger('debug', (line) => logLines.push(line));
    const access = new AccountAccess(settings, undefined, (context) => teamsEmailLookup(context, log));
    const results: AccessResult[] = [];
    const bot = new ActivityHandler();
    bot.onMessage(async (context, next) => {
      results.push(await access.check(context));
      await next();
    });
    const adapter = new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}));
    const turnErrors: unknown[] = [];
    adapter.onTurnError = async (_context, error) => {
      turnErrors.push(error);
    };
    const server = createHttpServer({ adapter, bot, isReady: async () => true });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          id: 'incoming-1',
          channelId: 'msteams',
          serviceUrl: connector.url,
          from: { id: '29:user-1', aadObjectId: AAD_ID, name: 'Admin' },
          recipient: { id: '28:bot', name: 'Enrollment Assistant' },
          conversation: { id: 'a:conv-1', tenantId: TENANT },
          channelData: { tenant: { id: TENANT } },
          text: 'hello',
        }),
      });
      return { status: response.status, results, turnErrors, received: connector.received, logLines };
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connector.close();
    }
  }

  it('an ADMINS email grants access to a Teams user whose ids are not listed', async () => {
    const run = await turn({ id: '29:user-1', email: 'Admin@Acme.com', userPrincipalName: 'admin@acme.com' });
    expect(run.status).toBe(200);
    expect(run.turnErrors).toEqual([]);
    expect(run.results).toEqual([{ ok: true, accountId: 'acme', isAdmin: true, principal: AAD_ID }]);
    expect(run.received).toEqual([{ method: 'GET', path: '/v3/conversations/a:conv-1/members/29:user-1' }]);
  });

  it('falls back to the user principal name when Teams gives no email', async () => {
    const run = await turn({ id: '29:user-1', userPrincipalName: 'ADMIN@acme.com' });
    expect(run.results).toEqual([{ ok: true, accountId: 'acme', isAdmin: true, principal: AAD_ID }]);
  });

  it('a user whose email is not listed is refused', async () => {
    const run = await turn({ id: '29:user-1', email: 'someone@acme.com' });
    expect(run.results).toEqual([{ ok: true, accountId: 'acme', isAdmin: false, principal: AAD_ID }]);
  });

  it('a failed look-up (connector 404) means no email: not an administrator, no error, logged at debug', async () => {
    const run = await turn(null);
    expect(run.status).toBe(200);
    expect(run.turnErrors).toEqual([]);
    expect(run.results).toEqual([{ ok: true, accountId: 'acme', isAdmin: false, principal: AAD_ID }]);
    expect(run.received).toEqual([{ method: 'GET', path: '/v3/conversations/a:conv-1/members/29:user-1' }]);
    const logged = run.logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'debug', message: 'Could not look up the Teams sender’s email' }),
    );
  });
});
