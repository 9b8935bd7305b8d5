import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import { isAppError, type AppError } from '../../services/errors';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { ole2DirectoryEntry, ole2Header, workbook, type SheetSpec } from '../import/workbooks';

const ACCOUNT = 'initech';

let t: TestDatabase;
let service: ImportService;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 2 });
});
afterAll(async () => t.close());
beforeEach(async () => {
  for (const name of [USERS_COLLECTION, IMPORTS_COLLECTION, IMPORT_ROWS_COLLECTION])
    await t.db.collection(name).deleteMany({});
});

const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);
const user = (email: string) => users().findOne({ accountId: ACCOUNT, email });

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err;
}

/** A cover sheet first, as HR exports often have, then the users under Excel-style header names. */
const cover: SheetSpec = { name: 'Read me', rows: [['Exported from the HR system'], ['Do not edit']] };
const staff: SheetSpec = {
  name: 'Staff',
  rows: [['E-mail', 'Given Name', 'Surname', 'Employee ID', 'Business Phone', 'Job Title', 'Status']],
  edit: (sheet) => {
    const rows: Array<[string, string, string, number, number, string, string]> = [
      ['jane@acme.com', 'Jane', 'Doe', 42, 7123456789, 'CTO', 'New'],
      ['bob@acme.com', 'Bob', 'Ray', 7, 447700900123, 'Engineer', 'Activate'],
    ];
    rows.forEach((values, i) => {
      const row = sheet.getRow(i + 2);
      row.values = values;
      row.getCell(4).numFmt = '000000';
      row.getCell(5).numFmt = i === 0 ? '00000000000' : '+0';
    });
    // Row 4 empty; row 5 a formula building the email, row 6 a bad address.
    sheet.getRow(5).values = ['', 'Sam', 'Lee', '', '', '', 'New'];
    sheet.getCell('A5').value = { formula: 'LOWER(B5)&"@acme.com"', result: 'sam@acme.com' };
    sheet.getRow(6).values = ['not-an-email', 'Xa', 'Ya', '', '', '', 'New'];
  },
};

describe('importing an Excel workbook', () => {
  it('plans the sheet named with the same header matching as a CSV, then imports it as shown', async () => {
    const source = fileSourceFromBuffer('HR export.xlsx', await workbook([cover, staff]));
    const plan = await service.plan(source, ACCOUNT, { sheet: 'staff' });
    expect(plan.file).toMatchObject({
      name: 'HR export.xlsx',
      encoding: 'xlsx',
      delimiter: null,
      delimiterName: null,
      sheet: 'Staff',
      sheets: ['Read me', 'Staff'],
      rows: 4,
    });
    expect(plan.columns).toEqual({
      email: 'E-mail',
      firstName: 'Given Name',
      lastName: 'Surname',
      alternateId: 'Employee ID',
      workPhone: 'Business Phone',
      title: 'Job Title',
      status: 'Status',
    });
    expect(plan.effects).toMatchObject({ create: 3 });
    expect(plan.problems).toEqual([
      expect.objectContaining({ row: 6, code: 'invalid-email', email: 'not-an-email' }),
    ]);
    expect(plan.preview.slice(0, 2)).toEqual([
      expect.objectContaining({ row: 2, alternateId: '000042', workPhone: '07123456789' }),
      expect.objectContaining({ row: 3, alternateId: '000007', workPhone: '+447700900123' }),
    ]);

    const record = await service.commit(source, ACCOUNT, { sheet: 'staff' }, { by: 'admin@acme.com' });
    expect(record.status).toBe('completed');
    expect(record.outcomes).toMatchObject({ created: 3, ignored: 1 });
    expect(record.file).toMatchObject({ encoding: 'xlsx', delimiter: null, sheet: 'Staff', rows: 4 });
    expect(await user('jane@acme.com')).toMatchObject({
      alternateId: '000042',
      workPhone: '07123456789',
      status: 'invited',
    });
    expect(await user('bob@acme.com')).toMatchObject({ workPhone: '+447700900123', status: 'active' });
    expect(await user('sam@acme.com')).toMatchObject({ firstName: 'Sam', lastName: 'Lee' });
    const rows = [];
    for await (const row of service.history.rowResults(record._id)) rows.push([row.row, row.outcome]);
    expect(rows).toEqual([
      [2, 'created'],
      [3, 'created'],
      [5, 'created'],
      [6, 'ignored'],
    ]);
  });

  it('recognises the same workbook imported again', async () => {
    const bytes = await workbook([staff]);
    await service.commit(fileSourceFromBuffer('a.xlsx', bytes), ACCOUNT, {}, { by: 'admin@acme.com' });
    const again = await service.plan(fileSourceFromBuffer('b.xlsx', bytes), ACCOUNT);
    expect(again.alreadyImported).toMatchObject({ fileName: 'a.xlsx' });
    expect(again.needs).toContain('confirm-reimport');
  });

  it('says which sheet has no email column, and which others there are', async () => {
    const err = await rejection(
      service.plan(fileSourceFromBuffer('hr.xlsx', await workbook([cover, staff])), ACCOUNT),
    );
    expect(err.code).toBe('file-no-email-column');
    expect(err.message).toContain(`The sheet "Read me"'s columns are: "Exported from the HR system"`);
    expect(err.message).toContain(`The workbook's other sheets: "Staff"`);
    expect(err.details).toMatchObject({ sheet: 'Read me', sheets: ['Read me', 'Staff'] });
  });

  it.each([
    [
      'an unknown sheet',
      () => workbook([staff]),
      { sheet: 'Users' },
      'file-sheet-not-found',
      /no sheet named "Users"/,
    ],
    [
      'an Excel 97-2003 file',
      async () => Buffer.concat([ole2Header(), Buffer.alloc(2048)]),
      {},
      'file-legacy-excel',
      /is an older Excel file \(\.xls\)/,
    ],
    [
      'a password-protected workbook',
      async () =>
        Buffer.concat([ole2Header(), ole2DirectoryEntry('EncryptedPackage', 2), Buffer.alloc(1024)]),
      {},
      'file-password-protected',
      /is password-protected/,
    ],
  ])('refuses %s in plan and commit alike, writing nothing', async (_what, bytes, options, code, message) => {
    const source = fileSourceFromBuffer('users.xlsx', await bytes());
    for (const attempt of [
      service.plan(source, ACCOUNT, options),
      service.commit(source, ACCOUNT, options, { by: 'admin@acme.com' }),
    ]) {
      const err = await rejection(attempt);
      expect(err.code).toBe(code);
      expect(err.message).toMatch(message);
    }
    expect(await users().countDocuments()).toBe(0);
    expect(await service.history.list(ACCOUNT)).toEqual([]);
  });

  it('applies the service size limit to the workbook as uploaded', async () => {
    const small = new ImportService(t.db, { maxFileBytes: 4096 });
    const err = await rejection(
      small.plan(fileSourceFromBuffer('users.xlsx', await workbook([staff])), ACCOUNT),
    );
    expect(err.code).toBe('file-too-large');
  });
});
