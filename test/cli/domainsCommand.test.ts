import { ACCOUNT_DOMAINS_COLLECTION } from '../../services/db/indexes';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { CliWorld, json, type CliRun } from './cliHarness';

const ACCOUNT = 'acme';

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => {
  await w.reset();
  await w.t.db.collection(ACCOUNT_DOMAINS_COLLECTION).deleteMany({});
});

/** Asserts the exit code and that stdout is exactly `{ "error": { code, message } }`; returns the message. */
function expectError(run: CliRun, exitCode: number, code: string): string {
  expect(run.code).toBe(exitCode);
  expect(json(run)).toEqual({ error: { code, message: expect.any(String) } });
  return json<{ error: { message: string } }>(run).error.message;
}

const storedDomains = async () =>
  (await w.t.db.collection(ACCOUNT_DOMAINS_COLLECTION).find().sort({ _id: 1 }).toArray()).map((d) => [
    d._id,
    d.domains as string[],
  ]);

interface DomainsOut {
  accountId: string;
  allowedDomains: string[];
  updatedAt: string;
  updatedBy: string;
}

describe('domains', () => {
  it('sets (lower-case, from one or several words), lists and clears an account’s allowed domains', async () => {
    const set = await w.run(['domains', 'set', ACCOUNT, 'Acme.com,acme.co.uk', '--as', 'ops', '--json']);
    expect(set.code).toBe(0);
    expect(json(set)).toEqual({
      accountId: ACCOUNT,
      allowedDomains: ['acme.com', 'acme.co.uk'],
      previous: [],
    });

    const replaced = await w.run(['domains', 'set', ACCOUNT, 'acme.com,', 'eu.acme.com', '--json']);
    expect(json(replaced)).toEqual({
      accountId: ACCOUNT,
      allowedDomains: ['acme.com', 'eu.acme.com'],
      previous: ['acme.com', 'acme.co.uk'],
    });
    await w.run(['domains', 'set', 'globex', 'globex.com']);

    const all = await w.run(['domains', 'list', '--json']);
    expect(all.code).toBe(0);
    expect(json<{ accounts: DomainsOut[] }>(all).accounts).toEqual([
      {
        accountId: ACCOUNT,
        allowedDomains: ['acme.com', 'eu.acme.com'],
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        updatedBy: 'cli',
      },
      expect.objectContaining({ accountId: 'globex', allowedDomains: ['globex.com'] }),
    ]);
    const one = await w.run(['domains', 'list', '--account', 'globex', '--json']);
    expect(json<{ accounts: DomainsOut[] }>(one).accounts.map((a) => a.accountId)).toEqual(['globex']);

    const text = await w.run(['domains', 'list', '--account', ACCOUNT]);
    expect(text.stdout).toMatch(/^acme\tacme\.com,eu\.acme\.com\t\d{4}-\d\d-\d\dT\S+\tcli\n$/);

    const cleared = await w.run(['domains', 'clear', ACCOUNT, '--json']);
    expect(json(cleared)).toEqual({
      accountId: ACCOUNT,
      cleared: true,
      previous: ['acme.com', 'eu.acme.com'],
    });
    const again = await w.run(['domains', 'clear', ACCOUNT]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('acme has no allowed domains set; nothing changed.\n');
    expect((await w.run(['domains', 'list', '--account', ACCOUNT])).stdout).toBe(
      'acme allows any email domain.\n',
    );
    expect(await storedDomains()).toEqual([['globex', ['globex.com']]]);
  });

  it('says in words what a change does', async () => {
    const set = await w.run(['domains', 'set', ACCOUNT, 'acme.com']);
    expect(set.stdout).toBe('Imports into acme now flag emails outside acme.com (subdomains included).\n');
    const cleared = await w.run(['domains', 'clear', ACCOUNT]);
    expect(cleared.stdout).toBe('acme allows any email domain again (it allowed acme.com).\n');
  });

  it('refuses a domain that is not a host name with option-invalid and keeps what was stored', async () => {
    await w.run(['domains', 'set', ACCOUNT, 'acme.com']);
    const bad = await w.run(['domains', 'set', ACCOUNT, 'acme.org,acme', '--json']);
    expect(expectError(bad, 1, 'option-invalid')).toMatch(/"acme" is not a valid allowed domain/);
    expect(await storedDomains()).toEqual([[ACCOUNT, ['acme.com']]]);
  });

  it.each([
    [['domains'], /domains needs one of: set, clear, list/],
    [['domains', 'add', ACCOUNT, 'acme.com'], /Unknown domains command "add"/],
    [['domains', 'set'], /domains set needs an account id/],
    [['domains', 'set', ACCOUNT], /domains set needs the domains, comma-separated/],
    [['domains', 'set', 'acme.com', '--account', ACCOUNT], /takes the account as its first word/],
    [['domains', 'clear', ACCOUNT, 'acme.com'], /domains clear takes one account; also got "acme.com"/],
    [['domains', 'list', ACCOUNT], /domains list takes no other words/],
  ])('%j is a usage error (exit 2) and stores nothing', async (args, message) => {
    const run = await w.run([...args, '--json']);
    expect(expectError(run, 2, 'usage')).toMatch(message);
    expect(await storedDomains()).toEqual([]);
  });
});

interface PlanOut {
  flagged: { count: number; rows: Array<Record<string, unknown>> };
  needs: string[];
  problems: Array<{ row: number; email: string; code: string; message: string }>;
  outcomes?: Record<string, number>;
  importId?: string;
}

describe('import with flagged emails', () => {
  const file = () =>
    w.csv([
      'ann@gmail.com,Ann,Ash,,,,,New',
      'bob@gmial.com,Bob,Bo,,,,,New',
      'cy@hotmail.con,Cy,Cole,,,,,New',
    ]);
  const user = (email: string) =>
    w.t.db.collection<UserDocument>(USERS_COLLECTION).findOne({ accountId: ACCOUNT, email });

  it('lists them in the dry-run plan, in JSON and in text', async () => {
    const path = await file();
    const plan = json<PlanOut>(await w.run(['import', path, '--account', ACCOUNT, '--dry-run', '--json']));
    expect(plan.flagged).toEqual({
      count: 2,
      rows: [
        { row: 3, email: 'bob@gmial.com', kind: 'likely-typo', suggestion: 'gmail.com' },
        { row: 4, email: 'cy@hotmail.con', kind: 'likely-typo', suggestion: 'hotmail.com' },
      ],
    });
    expect(plan.needs).toEqual(['confirm-flagged-emails']);

    const text = await w.run(['import', path, '--account', ACCOUNT, '--dry-run']);
    expect(text.stdout).toContain('Flagged emails: 2 (choose with --flagged import or --flagged skip)');
    expect(text.stdout).toContain('  row 3: bob@gmial.com - gmial.com looks like a typo of gmail.com');
    expect(text.stdout).toContain('  row 4: cy@hotmail.con - hotmail.con looks like a typo of hotmail.com');
    await w.expectNothingWritten(ACCOUNT);
  });

  it('refuses to import them without --flagged, naming the flag and the emails, and writes nothing', async () => {
    const run = await w.run(['import', await file(), '--account', ACCOUNT, '--json']);
    const message = expectError(run, 1, 'decision-needed');
    expect(message).toBe(
      '2 emails are flagged: row 3 bob@gmial.com (gmial.com looks like a typo of gmail.com), row 4 cy@hotmail.con ' +
        '(hotmail.con looks like a typo of hotmail.com). Add --flagged import to import them as they are, or ' +
        '--flagged skip to leave those rows out (--dry-run lists them all). Nothing was imported.',
    );
    const text = await w.run(['import', await file(), '--account', ACCOUNT]);
    expect(text.code).toBe(1);
    expect(text.stderr).toMatch(/^Error \(decision-needed\): 2 emails are flagged: .*--flagged import/);
    await w.expectNothingWritten(ACCOUNT);
  });

  it('--flagged skip leaves those rows out with flagged-email and records the choice', async () => {
    const run = await w.run(['import', await file(), '--account', ACCOUNT, '--flagged', 'skip', '--json']);
    expect(run.code).toBe(0);
    const out = json<PlanOut>(run);
    expect(out.needs).toEqual([]);
    expect(out.flagged.count).toBe(2);
    expect(out.outcomes).toMatchObject({ created: 1, ignored: 2 });
    expect(out.problems).toEqual([
      {
        row: 3,
        email: 'bob@gmial.com',
        code: 'flagged-email',
        message: 'gmial.com looks like a typo of gmail.com; skipped as you chose.',
      },
      expect.objectContaining({ row: 4, code: 'flagged-email' }),
    ]);
    expect(await user('ann@gmail.com')).not.toBeNull();
    expect(await user('bob@gmial.com')).toBeNull();
    const shown = json<{ options: Record<string, unknown> }>(
      await w.run(['show', out.importId ?? '', '--json']),
    );
    expect(shown.options).toMatchObject({ flaggedEmails: 'skip' });
  });

  it('--flagged import imports them as they are', async () => {
    const run = await w.run(['import', await file(), '--account', ACCOUNT, '--flagged', 'Import', '--json']);
    expect(run.code).toBe(0);
    expect(json<PlanOut>(run).outcomes).toMatchObject({ created: 3, ignored: 0 });
    expect(await user('bob@gmial.com')).toMatchObject({ status: 'invited' });
  });

  it('needs no --flagged for a file without flagged emails', async () => {
    const run = await w.run([
      'import',
      await w.csv(['ann@gmail.com,Ann,Ash,,,,,New']),
      '--account',
      ACCOUNT,
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(json<PlanOut>(run).outcomes).toMatchObject({ created: 1 });
  });

  it('rejects an unknown --flagged choice with option-invalid', async () => {
    const run = await w.run(['import', await file(), '--account', ACCOUNT, '--flagged', 'maybe', '--json']);
    expect(expectError(run, 1, 'option-invalid')).toMatch(/"maybe" is not a choice for flagged emails/);
    await w.expectNothingWritten(ACCOUNT);
  });

  it("flags emails outside the account's allowed domains set with `domains set`", async () => {
    await w.run(['domains', 'set', ACCOUNT, 'acme.com']);
    const path = await w.csv(['ann@acme.com,Ann,Ash,,,,,New', 'di@gmail.com,Di,Do,,,,,New']);
    const plan = json<PlanOut>(await w.run(['import', path, '--account', ACCOUNT, '--dry-run', '--json']));
    expect(plan.flagged.rows).toEqual([
      { row: 3, email: 'di@gmail.com', kind: 'outside-allowed', allowed: ['acme.com'] },
    ]);
    const text = await w.run(['import', path, '--account', ACCOUNT, '--dry-run']);
    expect(text.stdout).toContain(
      "row 3: di@gmail.com - gmail.com is outside the account's allowed domains (acme.com)",
    );
    // Another account is not limited by acme's setting.
    const other = json<PlanOut>(await w.run(['import', path, '--account', 'globex', '--dry-run', '--json']));
    expect(other.flagged.count).toBe(0);
  });
});
