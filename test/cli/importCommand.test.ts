import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { CliWorld, HEADER, json } from './cliHarness';

const ACCOUNT = 'acme';

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => w.reset());

const user = (email: string) =>
  w.t.db.collection<UserDocument>(USERS_COLLECTION).findOne({ accountId: ACCOUNT, email });

/** Two creatable rows (one invitation, one activation notice), an invalid email and an unknown Update. */
async function mixedFile(): Promise<string> {
  return w.csv(
    [
      'jane@acme.com,Jane,Doe,E1,800-555-1212,President,Executive,New,CC1',
      'bob@acme.com,Bob,Ray,,,,,Activate,CC2',
      'not-an-email,Xa,Ya,,,,,New,CC3',
      'sam@acme.com,Sam,Lee,,,,,Update,CC4',
    ],
    `${HEADER},Cost Center`,
  );
}

interface ImportOutput {
  importId: string;
  status: string;
  by: string;
  outcomes: Record<string, number>;
  invitations: number;
  activationNotices: number;
  delivery: { sent: number; failed: number; retrying: number };
  columns: Record<string, string>;
  ignoredColumns: string[];
  preview: Array<Record<string, unknown>>;
  problems: Array<Record<string, unknown>>;
  needs: string[];
  alreadyImported: null | { importId: string; fileName: string; createdAt: string; by: string };
}

describe('import --dry-run --json', () => {
  it('prints the plan document and writes nothing', async () => {
    const file = await mixedFile();
    const bytes = await fs.readFile(file);
    const run = await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const plan = json(run);
    expect(plan.file).toEqual({
      name: path.basename(file),
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      encoding: 'utf-8',
      delimiter: ',',
      delimiterName: 'comma',
      rows: 4,
      shape: 'table',
    });
    expect(plan.columns).toEqual({
      email: 'Email ID',
      firstName: 'First Name',
      lastName: 'Last Name',
      alternateId: 'Alternate ID',
      workPhone: 'Work Phone',
      title: 'Title',
      department: 'Department',
      status: 'User Status',
    });
    expect(plan.ignoredColumns).toEqual(['Cost Center']);
    expect(plan.actions).toEqual({ new: 1, update: 0, delete: 0, activate: 1 });
    expect(plan.invitations).toBe(1);
    expect(plan.activationNotices).toBe(1);
    expect(plan.problems).toEqual([
      {
        row: 4,
        email: 'not-an-email',
        code: 'invalid-email',
        message: '"not-an-email" is not a valid email address.',
      },
      {
        row: 5,
        email: 'sam@acme.com',
        code: 'not-found',
        message: expect.stringContaining('no user with this email'),
      },
    ]);
    expect(plan.preview).toEqual([
      {
        row: 2,
        action: 'New',
        effect: 'create',
        email: 'jane@acme.com',
        firstName: 'Jane',
        lastName: 'Doe',
        alternateId: 'E1',
        workPhone: '800-555-1212',
        title: 'President',
        department: 'Executive',
      },
      {
        row: 3,
        action: 'Activate',
        effect: 'create',
        email: 'bob@acme.com',
        firstName: 'Bob',
        lastName: 'Ray',
      },
    ]);
    expect(plan.needs).toEqual(['create-missing-on-update']);
    expect(plan.alreadyImported).toBeNull();
    expect(run.stderr).toBe('');
    await w.expectNothingWritten(ACCOUNT);
  });

  it('prints a readable plan without --json', async () => {
    const file = await mixedFile();
    const run = await w.run(['import', file, '--account', ACCOUNT, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`File: ${path.basename(file)} (`);
    expect(run.stdout).toContain('utf-8, comma-delimited, 4 data rows)');
    expect(run.stdout).toContain('Ignored columns: "Cost Center"');
    expect(run.stdout).toContain('Will create 2, update 0, activate 0, delete 0; 0 already up to date.');
    expect(run.stdout).toContain('row 4: invalid-email');
    expect(() => JSON.parse(run.stdout) as unknown).toThrow();
    await w.expectNothingWritten(ACCOUNT);
  });
});

describe('import (committed)', () => {
  it('imports, records the import and delivers the queued messages as .eml files', async () => {
    const file = await mixedFile();
    const run = await w.run(['import', file, '--account', ACCOUNT, '--as', 'admin@acme.com', '--json'], {
      ACCOUNT_NAME: 'Acme Corp',
    });
    expect(run.code).toBe(0);
    const out = json<ImportOutput>(run);
    expect(out.importId).toMatch(/^imp_[a-z0-9]+$/);
    expect(out.status).toBe('completed');
    expect(out.by).toBe('admin@acme.com');
    expect(out.outcomes).toEqual({
      created: 2,
      updated: 0,
      unchanged: 0,
      deleted: 0,
      activated: 0,
      ignored: 2,
      failed: 0,
    });
    expect(out.invitations).toBe(1);
    expect(out.activationNotices).toBe(1);
    expect(out.delivery).toEqual({ sent: 2, failed: 0, retrying: 0 });
    // The plan is part of the document too.
    expect(out.problems.map((p) => p.code)).toEqual(['invalid-email', 'not-found']);
    expect(out.alreadyImported).toBeNull();

    expect(await user('jane@acme.com')).toMatchObject({ status: 'invited', title: 'President' });
    expect((await user('jane@acme.com'))?.invitation).toMatchObject({
      state: 'sent',
      importId: out.importId,
    });
    expect(await user('bob@acme.com')).toMatchObject({ status: 'active' });
    expect((await user('bob@acme.com'))?.activationNotice).toMatchObject({ state: 'sent' });
    expect(await user('sam@acme.com')).toBeNull();
    expect(await w.counts()).toMatchObject({ users: 2, imports: 1 });

    const emls = await w.outboxFiles();
    expect(emls).toHaveLength(2);
    const messages = await Promise.all(emls.map((f) => fs.readFile(f, 'utf8')));
    const invitation = messages.find((m) => /^To: .*jane@acme\.com/m.test(m));
    const activation = messages.find((m) => /^To: .*bob@acme\.com/m.test(m));
    expect(invitation).toMatch(/^Subject: .*Acme Corp/m);
    expect(activation).toMatch(/^Subject: .*Acme Corp/m);
  });

  it('prints a readable summary without --json', async () => {
    const file = await mixedFile();
    const run = await w.run(['import', file, '--account', ACCOUNT]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Import imp_\w+ completed: users-\d+\.csv/);
    expect(run.stdout).toContain(
      'created 2, updated 0, activated 0, deleted 0, unchanged 0, ignored 2, failed 0',
    );
    expect(run.stdout).toContain('delivered now: 2 sent, 0 failed, 0 to retry (.eml files in ');
  });

  it('records who imported: --as, else USER from the given environment, else "cli"', async () => {
    const first = await w.run(
      ['import', await w.csv(['a@acme.com,A,A,,,,,New']), '--account', ACCOUNT, '--json'],
      {
        USER: 'alice',
      },
    );
    expect(json<ImportOutput>(first).by).toBe('alice');
    const second = await w.run([
      'import',
      await w.csv(['b@acme.com,B,B,,,,,New']),
      '--account',
      ACCOUNT,
      '--json',
    ]);
    expect(json<ImportOutput>(second).by).toBe('cli');
    const third = await w.run(
      ['import', await w.csv(['c@acme.com,C,C,,,,,New']), '--account', ACCOUNT, '--as', '  carol ', '--json'],
      { USER: 'alice' },
    );
    expect(json<ImportOutput>(third).by).toBe('carol');
  });

  it('names the earlier import when the same file is imported again', async () => {
    const file = await mixedFile();
    const first = json<ImportOutput>(await w.run(['import', file, '--account', ACCOUNT, '--json']));
    const againRun = await w.run(['import', file, '--account', ACCOUNT, '--json']);
    expect(againRun.code).toBe(0);
    const again = json<ImportOutput>(againRun);
    expect(again.alreadyImported).toEqual({
      importId: first.importId,
      fileName: path.basename(file),
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      by: 'cli',
    });
    expect(again.needs).toContain('confirm-reimport');
    expect(again.importId).not.toBe(first.importId);
    expect(again.outcomes).toMatchObject({ created: 0, unchanged: 2, ignored: 2 });
    expect(again.invitations).toBe(0);
    expect(await w.outboxFiles()).toHaveLength(2);

    // The newest completed import of those bytes is the one named from now on.
    const third = json<ImportOutput>(
      await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']),
    );
    expect(third.alreadyImported?.importId).toBe(again.importId);
    // Another account has never imported it.
    const other = json<ImportOutput>(
      await w.run(['import', file, '--account', 'globex', '--dry-run', '--json']),
    );
    expect(other.alreadyImported).toBeNull();
  });
});

describe('import options', () => {
  const statuslessFile = () =>
    w.csv(['amy@acme.com,Amy,Ash,', 'ben@acme.com,Ben,Bo,New'], 'Email ID,First Name,Last Name,User Status');

  it('ignores rows with an empty User Status unless --default-status is given', async () => {
    const file = await statuslessFile();
    const plan = json<ImportOutput>(
      await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']),
    );
    expect(plan.problems).toEqual([
      {
        row: 2,
        email: 'amy@acme.com',
        code: 'missing-field',
        message: expect.stringContaining('User Status'),
      },
    ]);
    expect(plan.needs).toContain('default-status');

    const run = await w.run(['import', file, '--account', ACCOUNT, '--default-status', 'activate', '--json']);
    expect(run.code).toBe(0);
    const out = json<ImportOutput>(run);
    expect(out.outcomes).toMatchObject({ created: 2, ignored: 0 });
    expect(out.activationNotices).toBe(1);
    expect(out.invitations).toBe(1);
    expect(await user('amy@acme.com')).toMatchObject({ status: 'active' });
    // A row's own status still wins over the default.
    expect(await user('ben@acme.com')).toMatchObject({ status: 'invited' });
    const shown = json(await w.run(['show', out.importId, '--json']));
    expect(shown.options).toEqual({ defaultStatus: 'activate', createMissingOnUpdate: false, mapping: {} });
  });

  it('rejects an unknown --default-status with option-invalid and writes nothing', async () => {
    const run = await w.run([
      'import',
      await statuslessFile(),
      '--account',
      ACCOUNT,
      '--default-status',
      'Maybe',
      '--json',
    ]);
    expect(run.code).toBe(1);
    expect(json(run)).toEqual({
      error: {
        code: 'option-invalid',
        message: '"Maybe" is not a User Status. Use New, Update, Delete or Activate.',
      },
    });
    await w.expectNothingWritten(ACCOUNT);
  });

  const phonesFile = () =>
    w.csv(
      ['kim@acme.com,Kim,Kay,555-0100,555-0199,New'],
      'Email ID,First Name,Last Name,Business Phone,Mobile,User Status',
    );

  it('takes Work Phone from the better-named column unless --map says otherwise', async () => {
    const file = await phonesFile();
    const detected = json<ImportOutput>(
      await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']),
    );
    expect(detected.columns.workPhone).toBe('Business Phone');
    expect(detected.ignoredColumns).toEqual(['Mobile']);
    expect(detected.preview[0]).toMatchObject({ workPhone: '555-0100' });

    const run = await w.run(['import', file, '--account', ACCOUNT, '--map', 'workPhone=Mobile', '--json']);
    expect(run.code).toBe(0);
    const out = json<ImportOutput>(run);
    expect(out.columns.workPhone).toBe('Mobile');
    expect(out.ignoredColumns).toEqual(['Business Phone']);
    expect(out.preview[0]).toMatchObject({ workPhone: '555-0199' });
    expect(await user('kim@acme.com')).toMatchObject({ workPhone: '555-0199' });
    const shown = json(await w.run(['show', out.importId, '--json']));
    expect(shown.options).toMatchObject({ mapping: { workPhone: 'Mobile' } });
    expect(shown.columns).toMatchObject({ workPhone: 'Mobile' });
  });

  it('accepts several --map options and label spellings of the field', async () => {
    const run = await w.run([
      'import',
      await phonesFile(),
      '--account',
      ACCOUNT,
      '--dry-run',
      '--map',
      'Work Phone=mobile',
      '--map',
      'alternateId=Business Phone',
      '--json',
    ]);
    expect(run.code).toBe(0);
    const plan = json<ImportOutput>(run);
    expect(plan.columns).toMatchObject({ workPhone: 'Mobile', alternateId: 'Business Phone' });
    expect(plan.ignoredColumns).toEqual([]);
  });

  it.each([
    ['a header the file does not have', 'workPhone=Fax', /no column "Fax"/],
    ['an unknown field', 'shoeSize=Mobile', /"shoeSize" is not a field/],
    ['no "="', 'workPhone', /is not a mapping/],
    ['one column for two fields', 'title=Mobile', /cannot feed both/],
  ])('rejects a --map with %s: mapping-invalid, exit 1, nothing written', async (_case, map, message) => {
    const args = ['import', await phonesFile(), '--account', ACCOUNT, '--map', map, '--json'];
    if (map === 'title=Mobile') args.push('--map', 'workPhone=Mobile');
    const run = await w.run(args);
    expect(run.code).toBe(1);
    const out = json<{ error: { code: string; message: string } }>(run);
    expect(Object.keys(out)).toEqual(['error']);
    expect(out.error.code).toBe('mapping-invalid');
    expect(out.error.message).toMatch(message);
    await w.expectNothingWritten(ACCOUNT);
  });

  it('creates unknown emails of Update rows with --create-missing', async () => {
    const file = await w.csv(['sam@acme.com,Sam,Lee,,,,,Update']);
    const without = json<ImportOutput>(
      await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']),
    );
    expect(without.problems).toEqual([expect.objectContaining({ code: 'not-found' })]);
    const run = await w.run(['import', file, '--account', ACCOUNT, '--create-missing', '--json']);
    expect(json<ImportOutput>(run).outcomes).toMatchObject({ created: 1, ignored: 0 });
    expect(await user('sam@acme.com')).toMatchObject({ status: 'invited' });
  });
});
