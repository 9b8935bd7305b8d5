import { createHash } from 'node:crypto';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { ole2Header, workbook, type SheetSpec } from '../import/workbooks';
import { CliWorld, json } from './cliHarness';

const ACCOUNT = 'acme';

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => w.reset());

const user = (email: string) =>
  w.t.db.collection<UserDocument>(USERS_COLLECTION).findOne({ accountId: ACCOUNT, email });

const usersSheet: SheetSpec = {
  name: 'Users',
  rows: [
    ['Email ID', 'First Name', 'Last Name', 'Work Phone', 'User Status'],
    ['jane@acme.com', 'Jane', 'Doe', 7123456789, 'New'],
  ],
  edit: (sheet) => {
    sheet.getCell('D2').numFmt = '00000000000';
  },
};
const staffSheet: SheetSpec = {
  name: 'Staff',
  rows: [
    ['Email', 'First Name', 'Last Name', 'Status'],
    ['sam@acme.com', 'Sam', 'Lee', 'Activate'],
    ['kim@acme.com', 'Kim', 'Ng', 'Activate'],
  ],
};

interface PlanOutput {
  file: Record<string, unknown>;
  columns: Record<string, string>;
  preview: Array<Record<string, unknown>>;
  importId?: string;
  outcomes?: Record<string, number>;
  error?: { code: string; message: string };
}

describe('import of an Excel workbook', () => {
  it('prints the same JSON plan document, with encoding xlsx, no delimiter and the sheet read', async () => {
    const bytes = await workbook([usersSheet, staffSheet]);
    const file = await w.file(bytes, 'people.xlsx');
    const run = await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']);
    expect(run.code).toBe(0);
    const plan = json<PlanOutput>(run);
    expect(plan.file).toEqual({
      name: 'people.xlsx',
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      encoding: 'xlsx',
      delimiter: null,
      delimiterName: null,
      sheet: 'Users',
      sheets: ['Users', 'Staff'],
      rows: 1,
      shape: 'table',
    });
    expect(plan.columns).toMatchObject({ email: 'Email ID', workPhone: 'Work Phone', status: 'User Status' });
    expect(plan.preview).toEqual([
      expect.objectContaining({ row: 2, email: 'jane@acme.com', workPhone: '07123456789', action: 'New' }),
    ]);
    await w.expectNothingWritten(ACCOUNT);
  });

  it('says in the text plan which sheet it read and which others there are', async () => {
    const file = await w.file(await workbook([usersSheet, staffSheet]), 'people.xlsx');
    const run = await w.run(['import', file, '--account', ACCOUNT, '--dry-run']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /^File: people\.xlsx \(\d+ bytes, Excel workbook, sheet "Users"; other sheets: "Staff", 1 data row\)$/m,
    );
  });

  it('imports the sheet --sheet names, in any case, and records it', async () => {
    const file = await w.file(await workbook([usersSheet, staffSheet]), 'people.xlsx');
    const run = await w.run(['import', file, '--account', ACCOUNT, '--sheet', 'STAFF', '--json']);
    expect(run.code).toBe(0);
    const result = json<PlanOutput>(run);
    expect(result.file).toMatchObject({ sheet: 'Staff', rows: 2 });
    expect(result.outcomes).toMatchObject({ created: 2 });
    expect(await user('sam@acme.com')).toMatchObject({ status: 'active', firstName: 'Sam' });
    expect(await user('jane@acme.com')).toBeNull();
    const show = await w.run(['show', String(result.importId), '--json']);
    expect(json<PlanOutput>(show).file).toMatchObject({ encoding: 'xlsx', delimiter: null, sheet: 'Staff' });
  });

  it('refuses an unknown sheet, listing the sheets, and writes nothing', async () => {
    const file = await w.file(await workbook([usersSheet, staffSheet]), 'people.xlsx');
    const run = await w.run(['import', file, '--account', ACCOUNT, '--sheet', 'Contractors', '--json']);
    expect(run.code).toBe(1);
    expect(json<PlanOutput>(run).error).toEqual({
      code: 'file-sheet-not-found',
      message: '"people.xlsx" has no sheet named "Contractors". Its sheets are: "Users", "Staff".',
    });
    await w.expectNothingWritten(ACCOUNT);
  });

  it('refuses --sheet for a text file and an Excel 97-2003 file, with their own codes', async () => {
    const csv = await w.csv(['jane@acme.com,Jane,Doe,,,,,New']);
    const onCsv = await w.run(['import', csv, '--account', ACCOUNT, '--sheet', 'Users', '--json']);
    expect(onCsv.code).toBe(1);
    expect(json<PlanOutput>(onCsv).error?.code).toBe('option-invalid');
    const xls = await w.file(Buffer.concat([ole2Header(), Buffer.alloc(2048)]), 'old.xls');
    const run = await w.run(['import', xls, '--account', ACCOUNT, '--json']);
    expect(run.code).toBe(1);
    expect(json<PlanOutput>(run).error).toEqual({
      code: 'file-legacy-excel',
      message:
        '"old.xls" is an older Excel file (.xls). Open it in Excel and save it as .xlsx or CSV, then send it again.',
    });
    await w.expectNothingWritten(ACCOUNT);
  });
});
