import { Readable } from 'node:stream';
import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import { isAppError, type AppError, type ErrorCode } from '../../services/errors';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import type { MappingOverrides } from '../../services/import/columns';
import {
  parseDefaultStatus,
  parseImportOptions,
  parseMappingAssignment,
  type ImportOptions,
} from '../../services/import/importOptions';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const ACCOUNT = 'acme';
const KB = 1024;
const MAX_FILE_BYTES = 512 * KB;
const HEADER = 'Email ID,First Name,Last Name,Title,User Status';
const HEADERS_LISTED = '"Email ID", "First Name", "Last Name", "Title", "User Status"';

let t: TestDatabase;
let service: ImportService;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: MAX_FILE_BYTES, batchSize: 3 });
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(USERS_COLLECTION).deleteMany({});
  await t.db.collection(IMPORTS_COLLECTION).deleteMany({});
  await t.db.collection(IMPORT_ROWS_COLLECTION).deleteMany({});
});

/** Resolves to the AppError `promise` rejects with; fails the test when it resolves or throws anything else. */
async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const outcome = await promise.then(
    (value: unknown) => ({ value }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error('expected a rejection, but the call succeeded');
  if (!isAppError(outcome.error)) throw outcome.error;
  return outcome.error;
}

/** The same, for a function that throws synchronously. */
function thrown(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (!isAppError(err)) throw err;
    return err;
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

async function counts() {
  return {
    users: await t.db.collection(USERS_COLLECTION).countDocuments(),
    imports: await t.db.collection(IMPORTS_COLLECTION).countDocuments(),
    importRows: await t.db.collection(IMPORT_ROWS_COLLECTION).countDocuments(),
  };
}

const NOTHING_WRITTEN = { users: 0, imports: 0, importRows: 0 };

/**
 * Plans and then commits `source`, expecting both to fail with the same code and a message matching every
 * pattern, and the database to hold nothing afterwards.
 */
async function expectRejectedByPlanAndCommit(
  source: FileSource,
  code: ErrorCode,
  patterns: RegExp[],
  options: ImportOptions = {},
): Promise<AppError> {
  const planError = await rejection(service.plan(source, ACCOUNT, options));
  const commitError = await rejection(service.commit(source, ACCOUNT, options, { by: 'admin@acme.com' }));
  for (const error of [planError, commitError]) {
    expect(error.code).toBe(code);
    for (const pattern of patterns) expect(error.message).toMatch(pattern);
  }
  expect(commitError.message).toBe(planError.message);
  expect(await counts()).toEqual(NOTHING_WRITTEN);
  expect(await service.history.list(ACCOUNT)).toEqual([]);
  return commitError;
}

const file = (name: string, content: Buffer | string) =>
  fileSourceFromBuffer(name, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);

const PNG_BYTES = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from([0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01]),
  Buffer.alloc(200, 0),
]);

/** A local file header as the first entry of an .xlsx archive ("[Content_Types].xml") begins, then garbage. */
const XLSX_BYTES = Buffer.concat([
  Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00, 0x08, 0x00]),
  Buffer.from('[Content_Types].xml', 'latin1'),
  Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 37) % 256)),
]);

describe('a sanity check for the assertions below', () => {
  it('a good file does write users, an import and its rows, so "nothing written" is a real check', async () => {
    await service.commit(
      file('good.csv', `${HEADER}\njane@acme.com,Jane,Doe,,New\n`),
      ACCOUNT,
      {},
      {
        by: 'admin@acme.com',
      },
    );
    expect(await counts()).toEqual({ users: 1, imports: 1, importRows: 1 });
  });
});

describe('files that are not user lists', () => {
  it('rejects an empty file, saying it is empty', async () => {
    const error = await expectRejectedByPlanAndCommit(file('users.csv', ''), 'file-empty', [
      /"users\.csv" is empty \(0 bytes\)/,
      /check that it has rows/,
    ]);
    expect(error.details).toEqual({ file: 'users.csv' });
  });

  it('rejects a file holding only a UTF-8 byte-order mark, naming the byte-order mark', async () => {
    await expectRejectedByPlanAndCommit(file('bom.csv', Buffer.from([0xef, 0xbb, 0xbf])), 'file-empty', [
      /"bom\.csv" has no content/,
      /byte-order mark/,
      /header row/,
    ]);
  });

  it('rejects a byte-order mark followed only by blank lines', async () => {
    await expectRejectedByPlanAndCommit(file('blank.csv', '\ufeff\r\n   \r\n\t\r\n'), 'file-empty', [
      /has no content/,
    ]);
  });

  it('rejects a UTF-16 byte-order mark with nothing after it', async () => {
    await expectRejectedByPlanAndCommit(file('unicode.txt', Buffer.from([0xff, 0xfe])), 'file-empty', [
      /"unicode\.txt" has no content/,
    ]);
  });

  it('rejects a PNG image as an image', async () => {
    const error = await expectRejectedByPlanAndCommit(file('screenshot.csv', PNG_BYTES), 'file-binary', [
      /"screenshot\.csv" is a PNG image, not a CSV or text file/,
      /\.csv or \.txt/,
    ]);
    expect(error.details).toMatchObject({ kind: 'png' });
  });

  it('rejects text with NUL bytes in it as binary data and says how to save a CSV', async () => {
    const bytes = Buffer.concat([
      Buffer.from(`${HEADER}\njane@acme.com,Ja`),
      Buffer.from([0x00, 0x00, 0x00]),
      Buffer.from('ne,Doe,,New\n'),
    ]);
    const error = await expectRejectedByPlanAndCommit(file('users.csv', bytes), 'file-binary', [
      /"users\.csv" contains binary data/,
      /CSV UTF-8 \(Comma delimited\)/,
    ]);
    expect(error.details).toMatchObject({ kind: 'nul' });
  });

  it('rejects bytes that are mostly control characters, even without a NUL', async () => {
    const bytes = Buffer.from(Array.from({ length: 4000 }, (_, i) => 1 + (i % 8)));
    const error = await expectRejectedByPlanAndCommit(file('data.bin', bytes), 'file-binary', [
      /contains binary data/,
    ]);
    expect(error.details).toMatchObject({ kind: 'control-characters' });
  });

  it('rejects a damaged .xlsx (a ZIP signature, then garbage) and explains how to save it again', async () => {
    const error = await expectRejectedByPlanAndCommit(file('Users.xlsx', XLSX_BYTES), 'file-unreadable', [
      /"Users\.xlsx" looks like an Excel workbook \(\.xlsx\) but could not be read/,
      /save it again as \.xlsx or CSV/,
    ]);
    expect(error.details).toMatchObject({ kind: 'zip' });
  });

  it('judges a workbook by its content even when it was renamed to .csv', async () => {
    await expectRejectedByPlanAndCommit(file('users.csv', XLSX_BYTES), 'file-unreadable', [
      /"users\.csv" looks like an Excel workbook/,
    ]);
  });
});

describe('size limit', () => {
  /** A valid CSV of exactly `bytes` bytes, padded in the Title cell. */
  function csvOfSize(bytes: number): Buffer {
    const head = `${HEADER}\njane@acme.com,Jane,Doe,`;
    const tail = ',New\n';
    const padding = bytes - Buffer.byteLength(head + tail);
    const buffer = Buffer.from(head + 'x'.repeat(padding) + tail);
    expect(buffer.length).toBe(bytes);
    return buffer;
  }

  it('rejects a file over maxFileBytes, naming the limit and the file size', async () => {
    const error = await expectRejectedByPlanAndCommit(
      file('big.csv', csvOfSize(600 * KB)),
      'file-too-large',
      [/"big\.csv" is larger than the 0\.5 MB limit/, /\(it is 0\.59 MB\)/, /at most 0\.5 MB/],
    );
    expect(error.details).toMatchObject({ maxBytes: MAX_FILE_BYTES });
  });

  it('rejects a file one byte over the limit', async () => {
    await expectRejectedByPlanAndCommit(file('big.csv', csvOfSize(MAX_FILE_BYTES + 1)), 'file-too-large', [
      /0\.5 MB limit/,
    ]);
  });

  it('accepts a file of exactly maxFileBytes', async () => {
    const plan = await service.plan(file('exact.csv', csvOfSize(MAX_FILE_BYTES)), ACCOUNT);
    expect(plan.file.bytes).toBe(MAX_FILE_BYTES);
    expect(plan.actions.new).toBe(1);
  });

  it('rejects a stream that turns out larger than the size its source declared', async () => {
    const content = csvOfSize(600 * KB);
    const understated: FileSource = {
      name: 'upload.csv',
      bytes: 1000,
      open: () => Readable.from([content.subarray(0, 300 * KB), content.subarray(300 * KB)]),
    };
    await expectRejectedByPlanAndCommit(understated, 'file-too-large', [/"upload\.csv" is larger than/]);
  });
});

describe('files without the columns an import needs', () => {
  it('rejects a file whose first line is data, quoting the email it found', async () => {
    const error = await expectRejectedByPlanAndCommit(
      file('noheader.csv', 'jane@acme.com,Jane,Doe,New\nbob@acme.com,Bob,Ray,New\n'),
      'file-no-header',
      [
        /"noheader\.csv" has no header row/,
        /holds data \("jane@acme\.com"\) instead of column names/,
        /Email ID,First Name,Last Name/,
      ],
    );
    expect(error.details).toEqual({ file: 'noheader.csv' });
  });

  it('skips a leading blank record (",,,") and still sees that the first line with content is data', async () => {
    await expectRejectedByPlanAndCommit(
      file('commas.csv', ',,,\njane@acme.com,Jane,Doe,New\n'),
      'file-no-header',
      [/holds data \("jane@acme\.com"\)/],
    );
  });

  it('rejects a first line that names no columns', async () => {
    await expectRejectedByPlanAndCommit(
      file('dashes.csv', '---,---,---\njane@acme.com,Jane,Doe\n'),
      'file-no-header',
      [/"dashes\.csv" has no header row: its first line names no columns/],
    );
  });

  it('rejects a file without an email column, listing the headers it has', async () => {
    const error = await expectRejectedByPlanAndCommit(
      file('people.csv', 'Name,Phone,Dept\nJane Doe,555,R&D\n'),
      'file-no-email-column',
      [/No column holds the Email ID/, /The file's columns are: "Name", "Phone", "Dept"\./, /email=<header>/],
    );
    expect(error.details).toEqual({ headers: ['Name', 'Phone', 'Dept'] });
  });

  it('rejects an unclosed quote, naming the row, and imports none of the rows before it', async () => {
    const content = [
      HEADER,
      'jane@acme.com,Jane,Doe,,New',
      'bob@acme.com,"Bob,Ray,,New',
      'sam@acme.com,Sam,Lee,,New',
      'ann@acme.com,Ann,Lee,,New',
      '',
    ].join('\n');
    const error = await expectRejectedByPlanAndCommit(file('quote.csv', content), 'file-unreadable', [
      /Row 3 of "quote\.csv"/,
      /never closed/,
      /closing quote/,
    ]);
    expect(error.details).toEqual({ file: 'quote.csv', row: 3 });
  });
});

describe('an unclosed quote in the header', () => {
  it('is reported as an unclosed quote on row 1 when it opens a later header cell', async () => {
    await expectRejectedByPlanAndCommit(
      file('quote.csv', 'Email ID,"First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\n'),
      'file-unreadable',
      [/Row 1 of "quote\.csv"/, /never closed/],
    );
  });

  // BUG (services/import/userFileReader.ts, parseHeader, line 103): when the quote opens the FIRST header
  // cell, papaparse returns the rest of the sample (up to 64 KB: every row, every email) as that one cell,
  // parseHeader ignores papaparse's MissingQuotes error, and prepareImport (importReader.ts line 41) then
  // fails with file-no-email-column whose message and details.headers quote the whole file as a "column"
  // name, e.g. The file's columns are: "Email ID,First Name,...\njane@acme.com,Jane,Doe,New\n...". That is
  // the wrong diagnosis and puts personal data into a chat message and logs. Repro: plan a file whose first
  // byte is '"' with no closing quote. Suggested fix: in parseHeader, throw the file-unreadable "Row 1 ...
  // never closed" error when the header record came back with a MissingQuotes error (or contains "\n").
  it('is reported as an unclosed quote on row 1 when it opens the first header cell', async () => {
    const content =
      '"Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\nbob@acme.com,Bob,Ray,New\n';
    const error = await expectRejectedByPlanAndCommit(file('quote.csv', content), 'file-unreadable', [
      /Row 1 of "quote\.csv"/,
      /never closed/,
    ]);
    expect(error.message).not.toContain('jane@acme.com');
  });
});

describe('bad choices from the administrator', () => {
  const good = () => file('good.csv', `${HEADER}\njane@acme.com,Jane,Doe,,New\n`);

  it('rejects a mapping override to a header the file does not have, listing the headers', async () => {
    const error = await expectRejectedByPlanAndCommit(
      good(),
      'mapping-invalid',
      [/The file has no column "Mail" to use for Email ID/],
      { mapping: { email: 'Mail' } },
    );
    expect(error.message).toContain(`Its columns are: ${HEADERS_LISTED}.`);
    expect(error.details).toEqual({
      headers: ['Email ID', 'First Name', 'Last Name', 'Title', 'User Status'],
    });
  });

  it('rejects mapping two fields onto one column', async () => {
    await expectRejectedByPlanAndCommit(
      good(),
      'mapping-invalid',
      [/Column "Title" cannot feed both First Name and Last Name/],
      { mapping: { firstName: 'Title', lastName: 'Title' } },
    );
  });

  it('rejects an unknown field in parseMappingAssignment, listing the fields', () => {
    const error = thrown(() => parseMappingAssignment('colour=Favourite Colour'));
    expect(error.code).toBe('mapping-invalid');
    expect(error.message).toBe(
      '"colour" is not a field. Fields: email, firstName, lastName, alternateId, workPhone, title, department, status.',
    );
  });

  it('rejects text that is not field=Header in parseMappingAssignment, with an example', () => {
    for (const text of ['workPhone', '=Mobile', '']) {
      const error = thrown(() => parseMappingAssignment(text));
      expect(error.code).toBe('mapping-invalid');
      expect(error.message).toContain(`"${text}" is not a mapping. Write it as field=Header`);
    }
  });

  it('parseMappingAssignment resolves labels and aliases, and an empty header unmaps', () => {
    expect(parseMappingAssignment('Work Phone = Mobile')).toEqual({ workPhone: 'Mobile' });
    expect(parseMappingAssignment('e-mail=Mail')).toEqual({ email: 'Mail' });
    expect(parseMappingAssignment('title=')).toEqual({ title: null });
  });

  it('rejects an unknown field that reaches the service without parsing, and writes nothing', async () => {
    await expectRejectedByPlanAndCommit(
      good(),
      'mapping-invalid',
      [/"colour" is not a field the import knows/, /The fields are: email, firstName/],
      { mapping: { colour: 'Title' } as MappingOverrides },
    );
  });

  it('rejects parseDefaultStatus("Promote") and names the four statuses', async () => {
    const error = thrown(() => parseDefaultStatus('Promote'));
    expect(error.code).toBe('option-invalid');
    expect(error.message).toBe('"Promote" is not a User Status. Use New, Update, Delete or Activate.');
    // The CLI parses the flag before it imports: the import never starts.
    await expect(
      (async () =>
        service.commit(good(), ACCOUNT, { defaultAction: parseDefaultStatus('Promote') }, { by: 'admin' }))(),
    ).rejects.toThrow(/is not a User Status/);
    expect(await counts()).toEqual(NOTHING_WRITTEN);
  });

  it('parseDefaultStatus accepts any case and surrounding spaces', () => {
    expect(parseDefaultStatus(' activate ')).toBe('activate');
    expect(parseDefaultStatus('NEW')).toBe('new');
  });

  it.each<[string, unknown, RegExp]>([
    ['a string', 'junk', /expected object/],
    ['null', null, /expected object/],
    ['an unknown option', { bogus: true }, /bogus/],
    ['an unknown default status', { defaultAction: 'promote' }, /"new"\|"update"\|"delete"\|"activate"/],
    ['an empty mapping header', { mapping: { email: '' } }, /Invalid import options: /],
  ])('rejects parseImportOptions with %s as option-invalid', async (_label, input, pattern) => {
    const error = thrown(() => parseImportOptions(input));
    expect(error.code).toBe('option-invalid');
    expect(error.message).toMatch(/^Invalid import options: /);
    expect(error.message).toMatch(pattern);
    await expect(
      (async () => service.commit(good(), ACCOUNT, parseImportOptions(input), { by: 'admin' }))(),
    ).rejects.toMatchObject({ code: 'option-invalid' });
    expect(await counts()).toEqual(NOTHING_WRITTEN);
  });

  // BUG (services/import/importOptions.ts line 30, parseImportOptions): the message joins only zod's issue
  // messages and drops each issue's path, so it never says WHICH option is wrong: { createMissingOnUpdate:
  // 'yes' } gives "Invalid import options: Invalid input: expected boolean, received string". Suggested
  // fix: prefix each message with `i.path.join('.')` as loadConfig does.
  it('names the offending option in the parseImportOptions message', () => {
    expect(thrown(() => parseImportOptions({ createMissingOnUpdate: 'yes' })).message).toMatch(
      /createMissingOnUpdate/,
    );
    expect(thrown(() => parseImportOptions({ defaultAction: 'promote' })).message).toMatch(/defaultAction/);
    expect(thrown(() => parseImportOptions({ mapping: { colour: 'X' } })).message).toMatch(/colour/);
  });

  it('parseImportOptions passes valid options through unchanged', () => {
    const options = { defaultAction: 'update', mapping: { workPhone: 'Mobile', title: null } };
    expect(parseImportOptions(options)).toEqual(options);
  });
});
