import { isAppError, type AppError } from '../../services/errors';
import type { RowResult } from '../../services/history/importRecord';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import type { ImportOptions } from '../../services/import/importOptions';
import { describeEmailList } from '../../services/import/importPlan';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const ACCOUNT = 'acme';
const HEADER = 'Email ID,First Name,Last Name,User Status';

let t: TestDatabase;
let service: ImportService;
let fileNo = 0;

beforeAll(async () => {
  t = await openTestDatabase();
  // Small batches, so the lists below span several of them.
  service = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 3 });
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(USERS_COLLECTION).deleteMany({});
  await t.db.collection('imports').deleteMany({});
  await t.db.collection('importRows').deleteMany({});
});

const file = (content: string, name = `list-${++fileNo}.txt`): FileSource =>
  fileSourceFromBuffer(name, Buffer.from(content));
const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);
const user = (email: string) => users().findOne({ accountId: ACCOUNT, email });
const commit = (source: FileSource, options: ImportOptions = {}) =>
  service.commit(source, ACCOUNT, options, { by: 'admin@acme.com' });

async function rowResults(importId: string): Promise<RowResult[]> {
  const rows: RowResult[] = [];
  for await (const row of service.history.rowResults(importId)) rows.push(row);
  return rows;
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err;
}

async function expectNothingWritten(): Promise<void> {
  expect(await users().countDocuments()).toBe(0);
  expect(await t.db.collection('imports').countDocuments()).toBe(0);
  expect(await t.db.collection('importRows').countDocuments()).toBe(0);
}

describe('an email list', () => {
  it.each([
    ['one address per line, no header', 'ana@acme.com\nbo@acme.com\ncy@acme.com\n', [1, 2, 3]],
    [
      'one address per line under an "Email" header',
      'Email\r\nana@acme.com\r\nbo@acme.com\r\ncy@acme.com\r\n',
      [2, 3, 4],
    ],
  ])('with %s invites every new address without names', async (_what, content, rows) => {
    const plan = await service.plan(file(content), ACCOUNT);
    expect(plan.file).toMatchObject({ shape: 'email-list', rows: 3 });
    expect(plan.emailList).toMatchObject({
      addresses: 3,
      toInvite: 3,
      alreadyUsers: 0,
      invalid: 0,
      duplicates: 0,
    });
    expect(plan.effects).toMatchObject({ create: 3, unchanged: 0 });
    expect(plan.invitations).toBe(3);
    expect(plan.needs).toEqual([]);
    expect(plan.preview.map((p) => [p.row, p.email, p.action])).toEqual([
      [rows[0], 'ana@acme.com', 'new'],
      [rows[1], 'bo@acme.com', 'new'],
      [rows[2], 'cy@acme.com', 'new'],
    ]);

    const record = await commit(file(content));
    expect(record.outcomes).toMatchObject({ created: 3, ignored: 0 });
    expect(record.invitations).toBe(3);
    expect(record.file.shape).toBe('email-list');
    const ana = await user('ana@acme.com');
    expect(ana).toMatchObject({ status: 'invited', mailDue: true });
    expect(ana?.firstName).toBeUndefined();
    expect(ana?.lastName).toBeUndefined();
    expect(ana?.invitation).toMatchObject({ kind: 'invitation', state: 'pending', importId: record._id });
    expect(await users().countDocuments({ 'invitation.importId': record._id })).toBe(3);
  });

  it('reads a line of mixed separators, reporting invalid entries by their place and repeats once', async () => {
    const content =
      'a@x.com, b@x.com; c@x.com d@x.com, bob@ ;not-an-email\n' + 'e@x.com\n' + 'a@x.com;f@x.com\n';
    const plan = await service.plan(file(content), ACCOUNT);
    expect(plan.file).toMatchObject({ shape: 'email-list', rows: 9 });
    expect(plan.emailList).toEqual({
      header: null,
      addresses: 6,
      toInvite: 6,
      alreadyUsers: 0,
      invalid: 2,
      duplicates: 1,
    });
    expect(describeEmailList(plan.emailList!)).toBe(
      '6 addresses to invite, 2 invalid, 0 already users, 1 duplicate',
    );
    expect(plan.problemCounts).toEqual({ 'invalid-email': 2, 'duplicate-email': 1 });
    expect(plan.problems.map((p) => [p.code, p.message])).toEqual([
      ['duplicate-email', 'item 1 on line 1: The same address is listed again later; it counts once.'],
      ['invalid-email', 'item 5 on line 1: "bob@" is not a valid email address.'],
      ['invalid-email', 'item 6 on line 1: "not-an-email" is not a valid email address.'],
    ]);
    expect(plan.problems.map((p) => p.where)).toEqual([
      'item 1 on line 1',
      'item 5 on line 1',
      'item 6 on line 1',
    ]);
    // The counters agree with the list's counts.
    expect(plan.effects.create).toBe(plan.emailList?.toInvite);
    expect(plan.invitations).toBe(6);

    const record = await commit(file(content));
    expect(record.outcomes).toMatchObject({ created: 6, ignored: 3 });
    expect(await users().countDocuments()).toBe(6);
    const ignored = (await rowResults(record._id)).filter((r) => r.outcome === 'ignored');
    expect(ignored.map((r) => [r.email, r.code, r.reason])).toEqual([
      [
        'a@x.com',
        'duplicate-email',
        'item 1 on line 1: The same address is listed again later; it counts once.',
      ],
      ['bob@', 'invalid-email', 'item 5 on line 1: "bob@" is not a valid email address.'],
      ['not-an-email', 'invalid-email', 'item 6 on line 1: "not-an-email" is not a valid email address.'],
    ]);
  });

  it('leaves existing users alone, counts them, and invites the new and the deleted', async () => {
    const seed = await commit(
      file(
        `${HEADER}\njane@acme.com,Jane,Doe,New\nsam@acme.com,Sam,Lee,Activate\ngone@acme.com,Gone,Away,New\n`,
        'seed.csv',
      ),
    );
    await commit(file(`${HEADER}\ngone@acme.com,,,Delete\n`, 'delete.csv'));
    const before = {
      jane: await user('jane@acme.com'),
      sam: await user('sam@acme.com'),
    };
    expect(before.jane?.invitation?.importId).toBe(seed._id);

    const list = 'Email Address\nJANE@acme.com\nsam@acme.com\ngone@acme.com\nnew@acme.com\n';
    const plan = await service.plan(file(list), ACCOUNT);
    expect(plan.emailList).toEqual({
      header: 'Email Address',
      addresses: 4,
      toInvite: 2,
      alreadyUsers: 2,
      invalid: 0,
      duplicates: 0,
    });
    expect(plan.effects).toMatchObject({ create: 2, unchanged: 2, update: 0, activate: 0 });

    const record = await commit(file(list));
    expect(record.outcomes).toMatchObject({ created: 2, unchanged: 2, updated: 0 });
    expect(record.invitations).toBe(2);
    // Existing users are untouched: the same document, the same (earlier) invitation, no new notice.
    expect(await user('jane@acme.com')).toEqual(before.jane);
    expect(await user('sam@acme.com')).toEqual(before.sam);
    expect(before.sam?.invitation).toBeUndefined();
    // The deleted user is brought back and invited, as a New row would.
    expect(await user('gone@acme.com')).toMatchObject({
      status: 'invited',
      firstName: 'Gone',
      invitation: { state: 'pending', importId: record._id },
    });
    expect(await user('new@acme.com')).toMatchObject({
      status: 'invited',
      invitation: { state: 'pending', importId: record._id },
    });
    expect(await users().countDocuments({ 'invitation.importId': record._id })).toBe(2);
    expect(await users().countDocuments()).toBe(4);
  });

  it('ignores a default status: every address on a list is someone to invite', async () => {
    await commit(file(`${HEADER}\njane@acme.com,Jane,Doe,New\n`, 'seed.csv'));
    const record = await commit(file('jane@acme.com\nann@acme.com\n'), { defaultAction: 'delete' });
    expect(record.outcomes).toMatchObject({ created: 1, unchanged: 1, deleted: 0 });
    expect(await user('jane@acme.com')).toMatchObject({ status: 'invited' });
  });
});

describe('rows run together on one line', () => {
  const runTogether =
    `${HEADER},ana@acme.com,Ana,"Silva, Jr.",New,bo@acme.com,Bo,Berg,Activate,` +
    'cy@acme.com,Cy,Chu,New\r\n';

  it('is planned re-flowed, and imported only once the re-flow is confirmed', async () => {
    const plan = await service.plan(file(runTogether, 'run.csv'), ACCOUNT);
    expect(plan.file).toMatchObject({ shape: 'run-together', rows: 3 });
    expect(plan.needs).toEqual(['confirm-reflow']);
    expect(plan.reflow).toEqual({
      columns: 4,
      values: 12,
      rows: 3,
      headerOnOwnLine: false,
      headers: ['Email ID', 'First Name', 'Last Name', 'User Status'],
      sample: [
        ['ana@acme.com', 'Ana', 'Silva, Jr.', 'New'],
        ['bo@acme.com', 'Bo', 'Berg', 'Activate'],
        ['cy@acme.com', 'Cy', 'Chu', 'New'],
      ],
    });
    expect(plan.effects).toMatchObject({ create: 3 });
    expect(plan.emailList).toBeNull();

    const refused = await failure(commit(file(runTogether, 'run.csv')));
    expect(refused.code).toBe('decision-needed');
    expect(refused.message).toMatch(/run together on one line.*make 3 rows; confirm the re-flow/);
    await expectNothingWritten();

    expect((await service.plan(file(runTogether), ACCOUNT, { reflow: true })).needs).toEqual([]);
    const record = await commit(file(runTogether, 'run.csv'), { reflow: true });
    expect(record.outcomes).toMatchObject({ created: 3, ignored: 0 });
    expect(record).toMatchObject({ invitations: 2, activationNotices: 1 });
    expect(record.file).toMatchObject({ shape: 'run-together', rows: 3 });
    expect(record.options.reflow).toBe(true);
    expect(await user('ana@acme.com')).toMatchObject({
      firstName: 'Ana',
      lastName: 'Silva, Jr.',
      status: 'invited',
    });
    expect(await user('bo@acme.com')).toMatchObject({ firstName: 'Bo', lastName: 'Berg', status: 'active' });
    expect(await user('cy@acme.com')).toMatchObject({ firstName: 'Cy', lastName: 'Chu', status: 'invited' });
    expect((await rowResults(record._id)).map((r) => [r.row, r.email])).toEqual([
      [2, 'ana@acme.com'],
      [3, 'bo@acme.com'],
      [4, 'cy@acme.com'],
    ]);
  });

  it('applies the usual row rules to the re-flowed rows (names, statuses)', async () => {
    const content = `${HEADER}\nana@acme.com,Ana,,New,bo@acme.com,Bo,Berg,Maybe,cy@acme.com,Cy,Chu,New\n`;
    const record = await commit(file(content), { reflow: true });
    expect(record.outcomes).toMatchObject({ created: 1, ignored: 2 });
    expect(record.problemCounts).toEqual({ 'missing-field': 1, 'unknown-status': 1 });
  });

  it('is refused, with the numbers, when its values do not fill whole rows; nothing is written', async () => {
    const content = `${HEADER},ana@acme.com,Ana,Silva,New,bo@acme.com,Bo,New,cy@acme.com,Cy,Chu,New\n`;
    for (const attempt of [
      service.plan(file(content, 'broken.csv'), ACCOUNT),
      commit(file(content, 'broken.csv'), { reflow: true }),
    ]) {
      const err = await failure(attempt);
      expect(err.code).toBe('file-run-together');
      expect(err.message).toBe(
        '"broken.csv" has its rows run together on one line, and they cannot be told apart: the line has 11 ' +
          'values after the 4-column header; 11 is not a multiple of 4 (2 rows would need 8, 3 rows 12), so I ' +
          'cannot tell where rows end. A value is probably missing or extra: put each user on a line of its ' +
          'own (or fix the count) and upload the file again.',
      );
    }
    await expectNothingWritten();
  });
});
