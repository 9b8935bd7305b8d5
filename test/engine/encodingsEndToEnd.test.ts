import { Readable } from 'node:stream';
import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import type { RowResult } from '../../services/history/importRecord';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const ACCOUNT = 'globex';

let t: TestDatabase;
let service: ImportService;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 20 * 1024 * 1024, batchSize: 500 });
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(USERS_COLLECTION).deleteMany({});
  await t.db.collection(IMPORTS_COLLECTION).deleteMany({});
  await t.db.collection(IMPORT_ROWS_COLLECTION).deleteMany({});
});

/** UTF-16 bytes of `text` with a byte-order mark, as Excel's "Unicode Text" writes them. */
function utf16(text: string, endian: 'le' | 'be'): Buffer {
  const le = Buffer.from('\ufeff' + text, 'utf16le');
  return endian === 'le' ? le : le.swap16();
}

/** Windows-1252 bytes of `text` (Latin-1 plus the few 0x80-0x9f characters used here). */
function windows1252(text: string): Buffer {
  const extra: Record<string, number> = { '€': 0x80, '’': 0x92, '–': 0x96 };
  return Buffer.from(
    Array.from(text, (ch) => {
      const code = extra[ch] ?? ch.charCodeAt(0);
      if (code > 0xff) throw new Error(`"${ch}" is not in this Windows-1252 table`);
      return code;
    }),
  );
}

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** A source that hands out its bytes `size` at a time, to put chunk boundaries inside characters. */
function chunked(name: string, buffer: Buffer, size: number): FileSource {
  return {
    name,
    bytes: buffer.length,
    open: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < buffer.length; i += size) yield buffer.subarray(i, i + size);
        })(),
        { objectMode: false },
      ),
  };
}

const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);

async function stored(): Promise<Array<Pick<UserDocument, 'email' | 'firstName' | 'lastName' | 'title'>>> {
  const docs = await users().find({ accountId: ACCOUNT }).sort({ email: 1 }).toArray();
  return docs.map((d) => ({
    email: d.email,
    firstName: d.firstName,
    lastName: d.lastName,
    ...(d.title !== undefined ? { title: d.title } : {}),
  }));
}

async function rowResults(importId: string): Promise<RowResult[]> {
  const rows: RowResult[] = [];
  for await (const row of service.history.rowResults(importId)) rows.push(row);
  return rows;
}

/** Plans, then commits, `source`, checking the plan saw the expected encoding and delimiter. */
async function planAndCommit(
  source: FileSource,
  expected: { encoding: string; delimiter: string; delimiterName: string; rows: number },
  { allowProblems = false } = {},
) {
  const plan = await service.plan(source, ACCOUNT);
  expect(plan.file).toMatchObject(expected);
  // The first header never carries a byte-order mark, so Email ID is found and maps.
  expect(plan.columns.email).toBe('Email ID');
  if (!allowProblems) expect(plan.problems).toEqual([]);
  const record = await service.commit(source, ACCOUNT, {}, { by: 'admin@globex.com' });
  expect(record.status).toBe('completed');
  expect(record.file).toMatchObject({ encoding: expected.encoding, delimiter: expected.delimiter });
  expect(record.columns.email).toBe('Email ID');
  return { plan, record };
}

describe('encodings, delimiters and line ends, through a real import', () => {
  it('imports Excel "Unicode Text": UTF-16LE with a BOM, tab-delimited, CRLF', async () => {
    const text = [
      'Email ID\tFirst Name\tLast Name\tTitle\tUser Status',
      'zoe@globex.com\tZoë\tMüller\t"Head of ""R&D"""\tNew',
      'yamada@globex.com\t太郎\t山田\tEngineer\tNew',
      'emoji@globex.com\tAna 🎉\tGarcía\t"Sales, EMEA"\tNew',
      '',
    ].join('\r\n');
    const { plan, record } = await planAndCommit(fileSourceFromBuffer('users.txt', utf16(text, 'le')), {
      encoding: 'utf-16le',
      delimiter: '\t',
      delimiterName: 'tab',
      rows: 3,
    });
    expect(plan.actions.new).toBe(3);
    expect(record.outcomes.created).toBe(3);
    expect(await stored()).toEqual([
      { email: 'emoji@globex.com', firstName: 'Ana 🎉', lastName: 'García', title: 'Sales, EMEA' },
      { email: 'yamada@globex.com', firstName: '太郎', lastName: '山田', title: 'Engineer' },
      { email: 'zoe@globex.com', firstName: 'Zoë', lastName: 'Müller', title: 'Head of "R&D"' },
    ]);
  });

  it('imports UTF-16BE with a BOM, comma-delimited', async () => {
    const text = 'Email ID,First Name,Last Name,User Status\nbjorn@globex.com,Björn,Ångström,New\n';
    await planAndCommit(fileSourceFromBuffer('users.csv', utf16(text, 'be')), {
      encoding: 'utf-16be',
      delimiter: ',',
      delimiterName: 'comma',
      rows: 1,
    });
    expect(await stored()).toEqual([{ email: 'bjorn@globex.com', firstName: 'Björn', lastName: 'Ångström' }]);
  });

  it('imports UTF-16LE handed out in odd-sized chunks that split code units', async () => {
    const text = 'Email ID\tFirst Name\tLast Name\tUser Status\r\nzoe@globex.com\tZoë\tMüller\tNew\r\n';
    await planAndCommit(chunked('users.txt', utf16(text, 'le'), 3), {
      encoding: 'utf-16le',
      delimiter: '\t',
      delimiterName: 'tab',
      rows: 1,
    });
    expect(await stored()).toEqual([{ email: 'zoe@globex.com', firstName: 'Zoë', lastName: 'Müller' }]);
  });

  it('imports Windows-1252 (legacy "CSV (Comma delimited)") with Müller and José', async () => {
    const text = [
      'Email ID,First Name,Last Name,Title,User Status',
      'jose@globex.com,José,Müller,Costs in €,New',
      'renee@globex.com,Renée,O’Brien,R&D – EU,New',
      '',
    ].join('\r\n');
    const bytes = windows1252(text);
    // Not valid UTF-8, which is what makes it Windows-1252.
    expect(bytes.includes(0xe9)).toBe(true);
    await planAndCommit(fileSourceFromBuffer('users.csv', bytes), {
      encoding: 'windows-1252',
      delimiter: ',',
      delimiterName: 'comma',
      rows: 2,
    });
    expect(await stored()).toEqual([
      { email: 'jose@globex.com', firstName: 'José', lastName: 'Müller', title: 'Costs in €' },
      { email: 'renee@globex.com', firstName: 'Renée', lastName: 'O’Brien', title: 'R&D – EU' },
    ]);
  });

  it('imports Windows-1252 whose only non-ASCII byte is the very last one', async () => {
    const bytes = windows1252('Email ID,Last Name,First Name,User Status\r\njose@globex.com,Müll,José');
    // The status column is missing from the data row: the default status applies.
    const plan = await service.plan(fileSourceFromBuffer('users.csv', bytes), ACCOUNT, {
      defaultAction: 'new',
    });
    expect(plan.file.encoding).toBe('windows-1252');
    await service.commit(
      fileSourceFromBuffer('users.csv', bytes),
      ACCOUNT,
      { defaultAction: 'new' },
      {
        by: 'admin',
      },
    );
    expect(await stored()).toEqual([{ email: 'jose@globex.com', firstName: 'José', lastName: 'Müll' }]);
  });

  it('falls back to Windows-1252 when the first non-ASCII byte comes after 100 KB of ASCII', async () => {
    const lines = ['Email ID,First Name,Last Name,User Status'];
    for (let i = 0; i < 4000; i++) lines.push(`user${i}@globex.com,User,Number${i},New`);
    lines.push('jose@globex.com,José,Müller,New', '');
    const bytes = windows1252(lines.join('\r\n'));
    expect(bytes.indexOf(0xe9)).toBeGreaterThan(100 * 1024);
    await planAndCommit(chunked('users.csv', bytes, 16 * 1024), {
      encoding: 'windows-1252',
      delimiter: ',',
      delimiterName: 'comma',
      rows: 4001,
    });
    expect(await users().findOne({ email: 'jose@globex.com' })).toMatchObject({
      firstName: 'José',
      lastName: 'Müller',
    });
    expect(await users().countDocuments({ accountId: ACCOUNT })).toBe(4001);
  });

  it('imports a UTF-8 BOM file re-saved as Windows-1252, without the BOM remnant reaching the header', async () => {
    const bytes = Buffer.concat([
      UTF8_BOM,
      windows1252('Email ID;First Name;Last Name;User Status\r\njose@globex.com;José;Müller;New\r\n'),
    ]);
    await planAndCommit(fileSourceFromBuffer('users.csv', bytes), {
      encoding: 'windows-1252',
      delimiter: ';',
      delimiterName: 'semicolon',
      rows: 1,
    });
    expect(await stored()).toEqual([{ email: 'jose@globex.com', firstName: 'José', lastName: 'Müller' }]);
  });

  it('imports UTF-8 with a BOM and semicolons (European Excel), commas staying inside values', async () => {
    const text = [
      'Email ID;First Name;Last Name;Title;User Status',
      'jan@globex.com;Jan;de Vries, Jr.;Manager, Sales;New',
      'lea@globex.com;Léa;Dupont;"Chef; projets";New',
      '',
    ].join('\r\n');
    await planAndCommit(fileSourceFromBuffer('users.csv', Buffer.concat([UTF8_BOM, Buffer.from(text)])), {
      encoding: 'utf-8',
      delimiter: ';',
      delimiterName: 'semicolon',
      rows: 2,
    });
    expect(await stored()).toEqual([
      { email: 'jan@globex.com', firstName: 'Jan', lastName: 'de Vries, Jr.', title: 'Manager, Sales' },
      { email: 'lea@globex.com', firstName: 'Léa', lastName: 'Dupont', title: 'Chef; projets' },
    ]);
  });

  it('maps a quoted first header after a UTF-8 BOM', async () => {
    const text =
      '"Email ID","First Name","Last Name","User Status"\r\n"ann@globex.com","Ann","Lee","New"\r\n';
    const { plan } = await planAndCommit(
      fileSourceFromBuffer('users.csv', Buffer.concat([UTF8_BOM, Buffer.from(text)])),
      { encoding: 'utf-8', delimiter: ',', delimiterName: 'comma', rows: 1 },
    );
    expect(plan.ignoredColumns).toEqual([]);
    expect(await stored()).toEqual([{ email: 'ann@globex.com', firstName: 'Ann', lastName: 'Lee' }]);
  });

  it('keeps delimiters and line breaks inside quoted values, with spreadsheet row numbers', async () => {
    const text = [
      'Email ID,First Name,Last Name,Title,User Status',
      'a@globex.com,Ann,"Smith, Jr.","Line one\r\nLine two",New',
      'b@globex.com,Bob,"Ray ""The Ray""","Three\nlines\rhere",New',
      'not-an-email,Bad,Row,,New',
      '',
    ].join('\r\n');
    const { plan, record } = await planAndCommit(
      fileSourceFromBuffer('users.csv', Buffer.from(text)),
      { encoding: 'utf-8', delimiter: ',', delimiterName: 'comma', rows: 3 },
      { allowProblems: true },
    );
    expect(plan.problems).toEqual([expect.objectContaining({ row: 4, code: 'invalid-email' })]);
    expect(record.outcomes).toMatchObject({ created: 2, ignored: 1 });
    expect(await stored()).toEqual([
      { email: 'a@globex.com', firstName: 'Ann', lastName: 'Smith, Jr.', title: 'Line one\nLine two' },
      { email: 'b@globex.com', firstName: 'Bob', lastName: 'Ray "The Ray"', title: 'Three\nlines\nhere' },
    ]);
    expect((await rowResults(record._id)).map((r) => [r.row, r.outcome])).toEqual([
      [2, 'created'],
      [3, 'created'],
      [4, 'ignored'],
    ]);
  });

  it('reads CR-only line ends (classic Mac)', async () => {
    const text = [
      'Email ID|First Name|Last Name|User Status',
      'mac@globex.com|Mac|Intosh|New',
      'os9@globex.com|Os|Nine|New',
      '',
    ].join('\r');
    await planAndCommit(fileSourceFromBuffer('users.txt', Buffer.from(text)), {
      encoding: 'utf-8',
      delimiter: '|',
      delimiterName: 'pipe',
      rows: 2,
    });
    expect(await stored()).toEqual([
      { email: 'mac@globex.com', firstName: 'Mac', lastName: 'Intosh' },
      { email: 'os9@globex.com', firstName: 'Os', lastName: 'Nine' },
    ]);
  });

  it('reads mixed CRLF, LF and CR line ends in one file, with CRs split from LFs by chunk boundaries', async () => {
    const text =
      'Email ID,First Name,Last Name,User Status\r\n' +
      'a@globex.com,A,Aa,New\n' +
      'b@globex.com,B,Bb,New\r' +
      'c@globex.com,C,Cc,New\r\n';
    const source = chunked('users.csv', Buffer.from(text), 7);
    const { record } = await planAndCommit(source, {
      encoding: 'utf-8',
      delimiter: ',',
      delimiterName: 'comma',
      rows: 3,
    });
    expect((await rowResults(record._id)).map((r) => r.row)).toEqual([2, 3, 4]);
    expect((await stored()).map((u) => u.lastName)).toEqual(['Aa', 'Bb', 'Cc']);
  });

  it('imports a large UTF-16LE file whose multi-line quoted values straddle read chunks', async () => {
    const count = 3000;
    const lines = ['Email ID\tFirst Name\tLast Name\tTitle\tUser Status'];
    for (let i = 0; i < count; i++) {
      lines.push(`u${i}@globex.com\tFirst ${i}\tLäst ${i}\t"Title ${i}\r\nsecond\tline ${i}"\tNew`);
    }
    const bytes = utf16(lines.join('\r\n') + '\r\n', 'le');
    expect(bytes.length).toBeGreaterThan(3 * 64 * 1024);
    const { plan, record } = await planAndCommit(chunked('big.txt', bytes, 65537), {
      encoding: 'utf-16le',
      delimiter: '\t',
      delimiterName: 'tab',
      rows: count,
    });
    expect(plan.actions.new).toBe(count);
    expect(record.outcomes.created).toBe(count);
    expect(await users().countDocuments({ accountId: ACCOUNT })).toBe(count);
    for (const i of [0, 1, 1234, 2047, count - 1]) {
      expect(await users().findOne({ email: `u${i}@globex.com` })).toMatchObject({
        firstName: `First ${i}`,
        lastName: `Läst ${i}`,
        title: `Title ${i}\nsecond\tline ${i}`,
      });
    }
    const rows = await rowResults(record._id);
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: count }, (_, i) => i + 2));
  });
});
