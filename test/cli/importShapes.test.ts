import { promises as fs } from 'node:fs';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { CliWorld, HEADER, json, type CliRun } from './cliHarness';

const ACCOUNT = 'acme';

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => w.reset());

const user = (email: string) =>
  w.t.db.collection<UserDocument>(USERS_COLLECTION).findOne({ accountId: ACCOUNT, email });

function expectError(run: CliRun, code: string): string {
  expect(run.code).toBe(1);
  expect(json(run)).toEqual({ error: { code, message: expect.any(String) } });
  return json<{ error: { message: string } }>(run).error.message;
}

interface PlanOutput {
  file: Record<string, unknown>;
  effects: Record<string, number>;
  problems: Array<Record<string, unknown>>;
  emailList: null | Record<string, unknown>;
  reflow: null | Record<string, unknown>;
  needs: string[];
  outcomes?: Record<string, number>;
  invitations?: number;
  delivery?: { sent: number };
}

describe('import of an email list', () => {
  const list = 'a@x.com, b@x.com; c@x.com d@x.com bob@\nEMAIL@x.com\n';

  it('--dry-run --json gives the shape, the list counts and the invalid entries by place', async () => {
    const file = await w.file(list, 'invite.txt');
    const run = await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const plan = json<PlanOutput>(run);
    expect(plan.file).toMatchObject({ name: 'invite.txt', shape: 'email-list', rows: 6 });
    expect(plan.emailList).toEqual({
      header: null,
      addresses: 5,
      toInvite: 5,
      alreadyUsers: 0,
      invalid: 1,
      duplicates: 0,
    });
    expect(plan.effects).toMatchObject({ create: 5 });
    expect(plan.problems).toEqual([
      {
        row: 5,
        email: 'bob@',
        code: 'invalid-email',
        message: 'item 5 on line 1: "bob@" is not a valid email address.',
        where: 'item 5 on line 1',
      },
    ]);
    expect(plan.reflow).toBeNull();
    expect(plan.needs).toEqual([]);
    await w.expectNothingWritten(ACCOUNT);
  });

  it('imports it, sending invitations to people without names, and says so in text', async () => {
    const file = await w.file(list, 'invite.txt');
    const run = await w.run(['import', file, '--account', ACCOUNT, '--json'], { ACCOUNT_NAME: 'Acme' });
    expect(run.code).toBe(0);
    const out = json<PlanOutput>(run);
    expect(out.outcomes).toMatchObject({ created: 5, ignored: 1 });
    expect(out.invitations).toBe(5);
    expect(out.delivery).toMatchObject({ sent: 5 });
    expect(await user('email@x.com')).toMatchObject({ status: 'invited', invitation: { state: 'sent' } });
    const mails = await Promise.all((await w.outboxFiles()).map((f) => fs.readFile(f, 'utf8')));
    expect(mails).toHaveLength(5);
    for (const mail of mails) expect(mail).toMatch(/Hello,\r?\n/);
    expect(mails.join('\n')).toContain('please complete your profile');

    const text = await w.run(['import', file, '--account', ACCOUNT, '--dry-run']);
    expect(text.stdout).toContain('an email list of 6 entries)');
    expect(text.stdout).toContain('Email list: 0 addresses to invite, 1 invalid, 5 already users.');
    expect(text.stdout).toContain('  invalid-email - item 5 on line 1: "bob@" is not a valid email address.');
  });
});

describe('import of rows run together on one line', () => {
  const runTogether = `${HEADER.split(',').slice(0, 4).join(',')},Title,User Status,ana@x.com,Ana,Silva,E1,"VP, Sales",New,bo@x.com,Bo,Berg,E2,Dev,New\r\n`;

  it('--dry-run --json shows the re-flow and that it needs confirming', async () => {
    const file = await w.file(runTogether, 'run.csv');
    const run = await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const plan = json<PlanOutput>(run);
    expect(plan.file).toMatchObject({ shape: 'run-together', delimiter: ',', rows: 2 });
    expect(plan.reflow).toEqual({
      columns: 6,
      values: 12,
      rows: 2,
      headerOnOwnLine: false,
      headers: ['Email ID', 'First Name', 'Last Name', 'Alternate ID', 'Title', 'User Status'],
      sample: [
        ['ana@x.com', 'Ana', 'Silva', 'E1', 'VP, Sales', 'New'],
        ['bo@x.com', 'Bo', 'Berg', 'E2', 'Dev', 'New'],
      ],
    });
    expect(plan.emailList).toBeNull();
    expect(plan.needs).toEqual(['confirm-reflow']);
    const text = await w.run(['import', file, '--account', ACCOUNT, '--dry-run']);
    expect(text.stdout).toContain(
      'Rows run together on one line: 12 values after the 6-column header, re-flowed into 2 rows (import them with --reflow). The first:\n' +
        '  ana@x.com | Ana | Silva | E1 | VP, Sales | New\n',
    );
  });

  it('is not imported without --reflow, and is with it', async () => {
    const file = await w.file(runTogether, 'run.csv');
    const refused = await w.run(['import', file, '--account', ACCOUNT, '--json']);
    expect(expectError(refused, 'decision-needed')).toMatch(
      /^The rows of run\.csv are run together on one line\. Re-flowed into rows of 6 values they make 2 rows, the first: ana@x\.com \| Ana .*add --reflow to import them/,
    );
    await w.expectNothingWritten(ACCOUNT);

    const run = await w.run(['import', file, '--account', ACCOUNT, '--reflow', '--json']);
    expect(run.code).toBe(0);
    const out = json<PlanOutput>(run);
    expect(out.needs).toEqual([]);
    expect(out.outcomes).toMatchObject({ created: 2 });
    expect(await user('ana@x.com')).toMatchObject({
      firstName: 'Ana',
      title: 'VP, Sales',
      alternateId: 'E1',
    });
  });

  it('is refused with the reason when its values do not fill whole rows', async () => {
    const file = await w.file(`${HEADER},a@x.com,A,B,,,,,New,b@x.com,B\n`, 'broken.csv');
    for (const args of [['--dry-run'], ['--reflow']]) {
      const run = await w.run(['import', file, '--account', ACCOUNT, ...args, '--json']);
      expect(expectError(run, 'file-run-together')).toContain(
        'the line has 10 values after the 8-column header; 10 is not a multiple of 8 (1 row would need 8, 2 rows 16)',
      );
    }
    await w.expectNothingWritten(ACCOUNT);
  });
});
