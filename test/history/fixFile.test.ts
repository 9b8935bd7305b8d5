import { PassThrough } from 'node:stream';
import Papa from 'papaparse';
import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import {
  FIX_FILE_COLUMNS,
  fixFileName,
  writeFixCsv,
  type FixFileHistory,
} from '../../services/history/fixFile';
import { ImportHistory, newImportId } from '../../services/history/importHistory';
import { emptyOutcomes, type ImportRecord, type RowResult } from '../../services/history/importRecord';
import { ImportResults } from '../../services/history/importResults';
import { mapColumns } from '../../services/import/columns';
import { EmailKeyMap } from '../../services/import/emailKeySet';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { commitImport } from '../../services/import/importCommit';
import { prepareImport } from '../../services/import/importReader';
import { ImportService } from '../../services/import/importService';
import { checkRow } from '../../services/import/rowRules';
import { UserDirectory } from '../../services/users/userDirectory';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const ACCOUNT = 'initech';
const HEADER = 'Email ID,First Name,Last Name,Alternate ID,Work Phone,Title,Department,User Status';
const FIX_HEADER = `${HEADER},Problem`;
const BOM = '\uFEFF';

let t: TestDatabase;
let service: ImportService;
let history: ImportHistory;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 20 * 1024 * 1024, batchSize: 2 });
  history = new ImportHistory(t.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(USERS_COLLECTION).deleteMany({});
  await t.db.collection(IMPORTS_COLLECTION).deleteMany({});
  await t.db.collection(IMPORT_ROWS_COLLECTION).deleteMany({});
});

async function importText(text: string, name = 'users.csv'): Promise<ImportRecord> {
  return service.commit(fileSourceFromBuffer(name, Buffer.from(text, 'utf8')), ACCOUNT, {}, { by: 'admin' });
}

/** The fix file of an import, as text (BOM included) and its row count. */
async function fixFile(
  record: Pick<ImportRecord, '_id' | 'outcomes'>,
  from: FixFileHistory = history,
): Promise<{ text: string; count: number }> {
  const out = new PassThrough({ highWaterMark: 64 });
  const parts: Buffer[] = [];
  out.on('data', (chunk: Buffer) => parts.push(chunk));
  const count = await writeFixCsv(from, record, out);
  out.end();
  await new Promise((resolve) => out.once('end', resolve));
  return { text: Buffer.concat(parts).toString('utf8'), count };
}

function parseCsv(text: string): string[][] {
  const parsed = Papa.parse<string[]>(text, { header: false, skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

async function rowResults(importId: string): Promise<RowResult[]> {
  const rows: RowResult[] = [];
  for await (const row of history.rowResults(importId)) rows.push(row);
  return rows;
}

async function user(email: string): Promise<UserDocument | null> {
  return t.db.collection<UserDocument>(USERS_COLLECTION).findOne({ accountId: ACCOUNT, email });
}

describe('writeFixCsv', () => {
  const file = [
    HEADER,
    'jane@acme.com,Jane,Doe,,,,,New', // 2: created
    'Not-An-Email,Bad,Email,E1,+1 555 0100,=Boss,"Sales, EMEA",New', // 3: invalid email
    'sam@acme.com,Sam,Lee,,,,,', // 4: no User Status and no default
    'ann@acme.com,Ann,,,,"Say ""hi""",,New', // 5: no Last Name to create her
    'bob@acme.com,Bob,"Ray, Jr.",,,,,Activate', // 6: created active
    'ghost@acme.com,Ghost,,,,@ops,,update', // 7: update of an unknown user
    '',
  ].join('\r\n');

  it('gives back each ignored row as written, in row order, with why, quoted and neutralised', async () => {
    const record = await importText(file);
    expect(record.outcomes).toMatchObject({ created: 2, ignored: 4 });

    const { text, count } = await fixFile(record);
    expect(count).toBe(4);
    expect(text.startsWith(BOM)).toBe(true);
    expect(text.slice(1).startsWith(BOM)).toBe(false);
    const lines = text.slice(1).split('\r\n');
    expect(lines[0]).toBe(FIX_HEADER);
    expect(FIX_FILE_COLUMNS.join(',')).toBe(FIX_HEADER);
    // The raw text: the invalid email as written (not lower-cased), formula-like cells with an apostrophe,
    // commas and quotes quoted per RFC 4180.
    expect(lines[1]).toBe(
      `Not-An-Email,Bad,Email,E1,'+1 555 0100,'=Boss,"Sales, EMEA",New,` +
        `"Row 3: ""Not-An-Email"" is not a valid email address."`,
    );
    expect(lines[2]).toBe(
      'sam@acme.com,Sam,Lee,,,,,,"Row 4: User Status is empty (expected New, Update, Delete or Activate)."',
    );
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(6);

    expect(parseCsv(text.slice(1))).toEqual([
      FIX_HEADER.split(','),
      [
        'Not-An-Email',
        'Bad',
        'Email',
        'E1',
        "'+1 555 0100",
        "'=Boss",
        'Sales, EMEA',
        'New',
        'Row 3: "Not-An-Email" is not a valid email address.',
      ],
      // The User Status that was missing stays empty.
      [
        'sam@acme.com',
        'Sam',
        'Lee',
        '',
        '',
        '',
        '',
        '',
        'Row 4: User Status is empty (expected New, Update, Delete or Activate).',
      ],
      [
        'ann@acme.com',
        'Ann',
        '',
        '',
        '',
        'Say "hi"',
        '',
        'New',
        'Row 5: Last Name is required to create a user.',
      ],
      [
        'ghost@acme.com',
        'Ghost',
        '',
        '',
        '',
        "'@ops",
        '',
        'update',
        'Row 7: Update skipped: no user with this email in the account.',
      ],
    ]);
  });

  it('keeps the values in the row results it was made from, and only for rows not imported', async () => {
    const record = await importText(file);
    const rows = await rowResults(record._id);
    expect(rows.find((r) => r.row === 3)?.fields).toEqual({
      email: 'Not-An-Email',
      firstName: 'Bad',
      lastName: 'Email',
      alternateId: 'E1',
      workPhone: '+1 555 0100',
      title: '=Boss',
      department: 'Sales, EMEA',
      status: 'New',
    });
    expect(rows.find((r) => r.row === 4)?.fields).toEqual({
      email: 'sam@acme.com',
      firstName: 'Sam',
      lastName: 'Lee',
    });
    expect(rows.filter((r) => r.outcome === 'created').map((r) => r.fields)).toEqual([undefined, undefined]);
  });

  it('is the header alone when every row was imported', async () => {
    const record = await importText(`${HEADER}\r\njane@acme.com,Jane,Doe,,,,,New\r\n`);
    expect(record.outcomes.created).toBe(1);
    expect(await fixFile(record)).toEqual({ text: `${BOM}${FIX_HEADER}\r\n`, count: 0 });
  });

  it('includes failed rows, and gives rows recorded before fields were kept their email and status', async () => {
    const results: RowResult[] = [
      { row: 2, email: 'ok@acme.com', action: 'new', outcome: 'created' },
      {
        row: 3,
        email: 'race@acme.com',
        action: 'activate',
        outcome: 'failed',
        reason: 'The database refused the change (code 121).',
        fields: { email: 'race@acme.com', firstName: 'Race', status: 'Activate' },
      },
      { row: 4, email: 'old@acme.com', action: 'delete', outcome: 'ignored', code: 'not-found' },
      { row: 5, email: '-x', action: null, outcome: 'ignored', reason: 'bad' },
    ];
    const from: FixFileHistory = {
      async *rowResults() {
        for (const r of results) yield r;
      },
    };
    const outcomes = { ...emptyOutcomes(), created: 1, failed: 1, ignored: 2 };
    const { text, count } = await fixFile({ _id: 'imp_x', outcomes }, from);
    expect(count).toBe(3);
    expect(parseCsv(text.slice(1)).slice(1)).toEqual([
      [
        'race@acme.com',
        'Race',
        '',
        '',
        '',
        '',
        '',
        'Activate',
        'Row 3: The database refused the change (code 121).',
      ],
      ['old@acme.com', '', '', '', '', '', '', 'Delete', 'Row 4: not-found'],
      ["'-x", '', '', '', '', '', '', '', 'Row 5: bad'],
    ]);
  });
});

describe('a row the database refuses', () => {
  it('is recorded as failed with what it asked for, and comes back in the fix file', async () => {
    await importText(`${HEADER}\r\nrace@acme.com,Race,Car,,,,,New\r\n`);
    // A directory that does not see race@acme.com decides its row as a create, which the unique index
    // refuses: the same as another import creating that user at the same moment.
    class BlindDirectory extends UserDirectory {
      override async emailKeys(): Promise<EmailKeyMap> {
        return new EmailKeyMap();
      }
    }
    const directory = new BlindDirectory(t.db);
    const source = fileSourceFromBuffer(
      'race.csv',
      Buffer.from(`${HEADER}\r\nRace@Acme.com,Racer,Two,A9,,,,activate\r\nnew@acme.com,New,One,,,,,New\r\n`),
    );
    const prepared = await prepareImport(directory, source, ACCOUNT, {}, 1e6);
    const record = await commitImport({ db: t.db, directory, history }, prepared, {
      importId: newImportId(),
      by: 'admin',
    });
    expect(record.outcomes).toMatchObject({ failed: 1, created: 1 });
    const failed = (await rowResults(record._id)).find((r) => r.outcome === 'failed');
    expect(failed?.fields).toEqual({
      email: 'race@acme.com',
      firstName: 'Racer',
      lastName: 'Two',
      alternateId: 'A9',
      status: 'Activate',
    });
    const rows = parseCsv((await fixFile(record)).text.slice(1));
    expect(rows).toHaveLength(2);
    expect(rows[1]?.slice(0, 8)).toEqual(['race@acme.com', 'Racer', 'Two', 'A9', '', '', '', 'Activate']);
    expect(rows[1]?.[8]).toMatch(/^Row 2: A user with this email was created by someone else/);
  });
});

describe('sending the corrected fix file back', () => {
  it('imports just the corrected rows, reports the other again, asks nothing and touches nothing else', async () => {
    const original = await importText(
      [
        HEADER,
        'alice@acme.com,Alice,Archer,,,,,New', // 2
        'bob(at)acme.com,Bob,Brown,B7,+44 20 7946 0000,-Lead,"Ops, North",New', // 3: invalid email
        'carl@acme.com,Carl,Cole,,,,,New', // 4
        'dana@acme.com,Dana,,,,,,New', // 5: no Last Name
        'erin@acme.com,Erin,Eyre,,,,,Promote', // 6: unknown status
        'fay@acme.com,Fay,Fox,,,,,Activate', // 7
        '',
      ].join('\r\n'),
    );
    expect(original.outcomes).toMatchObject({ created: 3, ignored: 3 });
    const before = await t.db
      .collection<UserDocument>(USERS_COLLECTION)
      .find({ accountId: ACCOUNT })
      .sort({ email: 1 })
      .toArray();
    expect(before.map((u) => u.email)).toEqual(['alice@acme.com', 'carl@acme.com', 'fay@acme.com']);

    const fix = await fixFile(original);
    expect(fix.count).toBe(3);
    // The admin corrects two rows in the file and leaves the third as it is.
    const corrected = fix.text
      .replace('bob(at)acme.com,', 'bob@acme.com,')
      .replace('dana@acme.com,Dana,,', 'dana@acme.com,Dana,Dunn,');
    expect(corrected).not.toBe(fix.text);
    const source = () => fileSourceFromBuffer('users-fix-rows.csv', Buffer.from(corrected, 'utf8'));

    const plan = await service.plan(source(), ACCOUNT);
    expect(plan.ignoredColumns).toEqual([]);
    expect(plan.needs).toEqual([]);
    expect(Object.keys(plan.columns)).toHaveLength(8);
    expect(plan.effects).toMatchObject({ create: 2, update: 0, delete: 0, activate: 0, unchanged: 0 });
    expect(plan.problems.map((p) => [p.row, p.code])).toEqual([[4, 'unknown-status']]);

    const again = await service.commit(source(), ACCOUNT, {}, { by: 'admin' });
    expect(again.outcomes).toEqual({ ...emptyOutcomes(), created: 2, ignored: 1 });
    expect(again.ignoredColumns).toEqual([]);

    // The corrected rows are created with their values, the neutralising apostrophes taken off again.
    expect(await user('bob@acme.com')).toMatchObject({
      firstName: 'Bob',
      lastName: 'Brown',
      alternateId: 'B7',
      workPhone: '+44 20 7946 0000',
      title: '-Lead',
      department: 'Ops, North',
      status: 'invited',
      createdByImportId: again._id,
    });
    expect(await user('dana@acme.com')).toMatchObject({ lastName: 'Dunn', createdByImportId: again._id });
    expect(await user('erin@acme.com')).toBeNull();
    expect(await user('bob(at)acme.com')).toBeNull();
    // The users the first import made are exactly as they were.
    for (const earlier of before) {
      expect(await t.db.collection<UserDocument>(USERS_COLLECTION).findOne({ _id: earlier._id })).toEqual(
        earlier,
      );
    }
    expect(await t.db.collection(USERS_COLLECTION).countDocuments({ accountId: ACCOUNT })).toBe(5);

    // The row still wrong is reported again, under its row in the new file.
    const next = parseCsv((await fixFile(again)).text.slice(1));
    expect(next).toEqual([
      FIX_HEADER.split(','),
      [
        'erin@acme.com',
        'Erin',
        'Eyre',
        '',
        '',
        '',
        '',
        'Promote',
        'Row 4: User Status "Promote" is not one of New, Update, Delete or Activate.',
      ],
    ]);
  });
});

describe('the Problem column', () => {
  it('is known and skipped in any spelling, without being listed as an ignored column', () => {
    for (const header of ['Problem', 'PROBLEM', ' problem ', 'Problems', 'problem:']) {
      expect(mapColumns(['Email ID', header, 'Notes']).ignoredColumns).toEqual(['Notes']);
    }
    expect(mapColumns(['Email ID', 'Problem Code']).ignoredColumns).toEqual(['Problem Code']);
  });

  it('can still feed a field when the admin says so', () => {
    const mapping = mapColumns(['Email ID', 'Problem'], { title: 'Problem' });
    expect(mapping.columns.title).toEqual({ header: 'Problem', index: 1 });
    expect(mapping.ignoredColumns).toEqual([]);
  });
});

describe('reading cells our CSV files neutralised', () => {
  const mapping = mapColumns(['Email ID', 'First Name', 'Last Name', 'Work Phone', 'Title', 'User Status']);

  it('takes the apostrophe off before = + - @ only', () => {
    const check = checkRow(
      2,
      ["'=x@acme.com", "O'Brien", "'Quote", "'+1 555", "'@ops", 'New'],
      mapping,
      undefined,
    );
    expect(check).toEqual({
      ok: true,
      value: {
        row: 2,
        email: '=x@acme.com',
        action: 'new',
        profile: { firstName: "O'Brien", lastName: "'Quote", workPhone: '+1 555', title: '@ops' },
      },
    });
  });
});

describe('fixFileName', () => {
  it.each([
    ['users.csv', 'users-fix-rows.csv'],
    ['Zoë’s staff.csv', 'Zoe-s-staff-fix-rows.csv'],
    ['q3 "new" hires.txt', 'q3-new-hires-fix-rows.csv'],
    ['C:\\exports\\team.list.csv', 'team-list-fix-rows.csv'],
    ['../../etc/passwd', 'passwd-fix-rows.csv'],
    ['файл.csv', 'import-fix-rows.csv'],
    ['', 'import-fix-rows.csv'],
    [`${'a'.repeat(100)}.csv`, `${'a'.repeat(60)}-fix-rows.csv`],
  ])('names the fix file of %j %j', (name, expected) => {
    expect(fixFileName(name)).toBe(expected);
  });
});

describe('ImportResults.fixFileUrl', () => {
  it('links the fix file of an import with rows not imported, and nothing otherwise', async () => {
    const bad = await importText(`${HEADER}\r\nbad,A,B,,,,,New\r\n`);
    const good = await importText(`${HEADER}\r\ngood@acme.com,A,B,,,,,New\r\n`);
    const results = new ImportResults(
      t.db,
      history,
      (id, account) => `report:${id}:${account}`,
      (id, account) => `fix:${id}:${account}`,
    );
    expect(results.fixFileUrl(bad)).toBe(`fix:${bad._id}:${ACCOUNT}`);
    expect(results.fixFileUrl(good)).toBeNull();
    expect(new ImportResults(t.db, history, () => 'r').fixFileUrl(bad)).toBeNull();
  });
});
