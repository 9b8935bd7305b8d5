import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { AppError, isAppError } from '../../services/errors';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import { inspectUserFile, readRows, type FileLayout } from '../../services/import/userFileReader';
import { cellText, workbookContainer } from '../../services/import/workbookReader';
import { collectRows, failingSource } from './sources';
import {
  countingSource,
  ole2DirectoryEntry,
  ole2Header,
  unzipEntries,
  workbook,
  zipOf,
  type SheetSpec,
} from './workbooks';

const MAX = { maxBytes: 20 * 1024 * 1024 };
const HEADER = ['Email ID', 'First Name', 'Last Name', 'Work Phone', 'User Status'];

const source = (buffer: Buffer, name = 'users.xlsx') => fileSourceFromBuffer(name, buffer);

async function readAll(src: FileSource, options: { sheet?: string } = {}) {
  const layout = await inspectUserFile(src, { ...MAX, ...options });
  return { layout, rows: await collectRows(src, layout) };
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

const users: SheetSpec = {
  name: 'Users',
  rows: [HEADER, ['jane@acme.com', 'Jane', 'Doe', '800-555-1212', 'New']],
};
const staff: SheetSpec = {
  name: 'Staff',
  rows: [
    ['Email', 'Given Name', 'Surname'],
    ['sam@acme.com', 'Sam', 'Lee'],
    ['kim@acme.com', 'Kim', 'Ng'],
  ],
};

describe('recognising a workbook', () => {
  it('goes by the signature the text reader refuses, not by the name', async () => {
    const err = (kind: string) => new AppError('file-binary', 'not text', { kind });
    expect(workbookContainer(err('zip'))).toBe('zip');
    expect(workbookContainer(err('ole2'))).toBe('ole2');
    expect(workbookContainer(err('png'))).toBeNull();
    expect(workbookContainer(new AppError('file-empty', 'empty', { kind: 'zip' }))).toBeNull();
    expect(workbookContainer(new Error('disk on fire'))).toBeNull();
    const text = await inspectUserFile(source(Buffer.from('Email,Name\na@x.io,Ana\n'), 'users.xlsx'), MAX);
    expect(text).toMatchObject({ encoding: 'utf-8', delimiter: ',', headers: ['Email', 'Name'] });
  });
});

describe('inspectUserFile on a workbook', () => {
  it('describes the first worksheet: encoding xlsx, no delimiter, its header and every sheet', async () => {
    const bytes = await workbook([users, staff]);
    const layout = await inspectUserFile(fileSourceFromBuffer('C:\\Users\\me\\book.xlsx', bytes), MAX);
    expect(layout).toEqual({
      name: 'book.xlsx',
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      encoding: 'xlsx',
      bom: false,
      delimiter: null,
      headers: HEADER,
      sheet: 'Users',
      sheets: ['Users', 'Staff'],
    });
  });

  it('reads a workbook sent under a text name the same way, judging by content', async () => {
    const { layout, rows } = await readAll(source(await workbook([users]), 'users.csv'));
    expect(layout).toMatchObject({ encoding: 'xlsx', sheet: 'Users' });
    expect(rows).toEqual([{ row: 2, cells: ['jane@acme.com', 'Jane', 'Doe', '800-555-1212', 'New'] }]);
  });

  it('reads the sheet named, in any case, and lists it among the others', async () => {
    const { layout, rows } = await readAll(source(await workbook([users, staff])), { sheet: ' staff ' });
    expect(layout).toMatchObject({
      sheet: 'Staff',
      sheets: ['Users', 'Staff'],
      headers: ['Email', 'Given Name', 'Surname'],
    });
    expect(rows).toEqual([
      { row: 2, cells: ['sam@acme.com', 'Sam', 'Lee'] },
      { row: 3, cells: ['kim@acme.com', 'Kim', 'Ng'] },
    ]);
  });

  it('skips hidden sheets by default but reads one when it is named', async () => {
    const bytes = await workbook([{ name: 'Lookups', state: 'hidden', rows: [['Code'], ['X1']] }, users]);
    const first = await readAll(source(bytes));
    expect(first.layout).toMatchObject({ sheet: 'Users', sheets: ['Lookups', 'Users'] });
    expect(first.rows).toHaveLength(1);
    const named = await inspectUserFile(source(bytes), { ...MAX, sheet: 'lookups' });
    expect(named).toMatchObject({ sheet: 'Lookups', headers: ['Code'] });
  });

  it('refuses an unknown sheet name, listing the sheets there are', async () => {
    const err = await failure(
      inspectUserFile(source(await workbook([users, staff])), { ...MAX, sheet: 'Staf' }),
    );
    expect(err.code).toBe('file-sheet-not-found');
    expect(err.message).toBe('"users.xlsx" has no sheet named "Staf". Its sheets are: "Users", "Staff".');
    expect(err.details).toMatchObject({ sheet: 'Staf', sheets: ['Users', 'Staff'] });
  });

  it('refuses a sheet name for a text file', async () => {
    const err = await failure(
      inspectUserFile(source(Buffer.from('Email\na@x.io\n'), 'users.csv'), { ...MAX, sheet: 'Staff' }),
    );
    expect(err.code).toBe('option-invalid');
    expect(err.message).toContain('"users.csv" is a text file, not an Excel workbook');
  });

  it('explains an empty sheet and a sheet whose first row is data, naming the sheet', async () => {
    const empty = await failure(
      inspectUserFile(source(await workbook([users, { name: 'Notes' }])), { ...MAX, sheet: 'Notes' }),
    );
    expect(empty.code).toBe('file-no-header');
    expect(empty.message).toContain('The sheet "Notes" of "users.xlsx" is empty');
    const data = await failure(
      inspectUserFile(source(await workbook([{ name: 'List', rows: [['ana@acme.com', 'Ana']] }])), MAX),
    );
    expect(data.code).toBe('file-no-header');
    expect(data.message).toContain('row 1 holds data ("ana@acme.com") instead of column names');
  });

  it('finds the header below empty rows and ignores empty trailing columns', async () => {
    const bytes = await workbook([
      {
        name: 'Users',
        edit: (sheet) => {
          sheet.getCell('A3').value = 'Email';
          sheet.getCell('B3').value = 'Name';
          sheet.getCell('C3').value = '   ';
          // Formatted but empty cells to the right, as a coloured header band leaves them.
          sheet.getCell('F3').fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFFFFF00' } };
          sheet.getCell('A4').value = 'ana@acme.com';
          sheet.getCell('B4').value = 'Ana';
          sheet.getCell('F4').numFmt = '0.00';
        },
      },
    ]);
    const { layout, rows } = await readAll(source(bytes));
    expect(layout.headers).toEqual(['Email', 'Name']);
    expect(rows).toEqual([{ row: 4, cells: ['ana@acme.com', 'Ana'] }]);
  });
});

describe('cell values as Excel shows them', () => {
  /** One data row under a header, each cell set (and formatted) by `edit`; returns the row's cells. */
  async function cellsOf(edit: (row: import('exceljs').Row) => void): Promise<string[]> {
    const bytes = await workbook([
      {
        name: 'Users',
        rows: [['Email', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L']],
        edit: (sheet) => {
          const row = sheet.getRow(2);
          row.getCell(1).value = 'x@acme.com';
          edit(row);
          row.commit();
        },
      },
    ]);
    const { rows } = await readAll(source(bytes));
    expect(rows).toHaveLength(1);
    return (rows[0] as { cells: string[] }).cells.slice(1);
  }

  it('keeps leading zeros and plus signs a number format shows, and every digit of a long number', async () => {
    const cells = await cellsOf((row) => {
      row.getCell(2).value = 7123456789;
      row.getCell(2).numFmt = '00000000000';
      row.getCell(3).value = 447700900123;
      row.getCell(3).numFmt = '+0';
      row.getCell(4).value = 447700900123;
      row.getCell(5).value = 2025550123;
      row.getCell(5).numFmt = '(###) ###-####';
      row.getCell(6).value = 0.1 + 0.2;
      row.getCell(7).value = 0.25;
      row.getCell(7).numFmt = '0%';
      row.getCell(8).value = 1234.5;
      row.getCell(8).numFmt = '#,##0.00';
    });
    expect(cells).toEqual([
      '07123456789',
      '+447700900123',
      '447700900123',
      '(202) 555-0123',
      '0.3',
      '25%',
      '1,234.50',
    ]);
  });

  it('shows dates in their format, and in ISO form when the format is the default date', async () => {
    const cells = await cellsOf((row) => {
      row.getCell(2).value = new Date(Date.UTC(2024, 2, 14));
      row.getCell(2).numFmt = 'dd/mm/yyyy';
      row.getCell(3).value = new Date(Date.UTC(2024, 2, 14));
      row.getCell(3).numFmt = 'd mmm yyyy';
      // exceljs gives a date without a format Excel's default date format (id 14), as Excel does.
      row.getCell(4).value = new Date(Date.UTC(2024, 2, 14));
      row.getCell(5).value = new Date(Date.UTC(2024, 2, 14, 9, 30));
      row.getCell(5).numFmt = 'yyyy-mm-dd hh:mm';
    });
    expect(cells).toEqual(['14/03/2024', '14 Mar 2024', '2024-03-14', '2024-03-14 09:30']);
  });

  it('reads formulas as their results, in the cell format', async () => {
    const cells = await cellsOf((row) => {
      row.getCell(2).value = { formula: 'A2&"x"', result: 'x@acme.comx' };
      row.getCell(3).value = { formula: '1+2', result: 3 };
      row.getCell(3).numFmt = '0.00';
      row.getCell(4).value = { formula: 'DATE(2024,3,14)', result: 45365 };
      row.getCell(4).numFmt = 'yyyy-mm-dd';
      row.getCell(5).value = { formula: 'NA()', result: { error: '#N/A' } };
      row.getCell(6).value = { formula: 'B2', result: 'after error' };
    });
    expect(cells).toEqual(['x@acme.comx', '3.00', '2024-03-14', '', 'after error']);
  });

  it('reads booleans, errors, rich text, hyperlinks and padded text', async () => {
    const cells = await cellsOf((row) => {
      row.getCell(2).value = true;
      row.getCell(3).value = false;
      row.getCell(4).value = { error: '#N/A' };
      row.getCell(5).value = { richText: [{ text: 'Ja', font: { bold: true } }, { text: 'ne' }] };
      row.getCell(6).value = { text: 'Intranet', hyperlink: 'https://intranet.acme.com' };
      row.getCell(7).value = '  Doe  ';
    });
    expect(cells).toEqual(['TRUE', 'FALSE', '', 'Jane', 'Intranet', 'Doe']);
  });

  it('converts values without a workbook too', () => {
    expect(cellText(7123456789, '00000000000')).toBe('07123456789');
    expect(cellText(12.5, 'not a [valid format')).toBe('12.5');
    expect(cellText({ sharedFormula: 'A2', result: 'shared' }, undefined)).toBe('shared');
    expect(cellText(null, undefined)).toBe('');
    expect(cellText(Number.NaN, undefined)).toBe('');
  });
});

describe('rows of a workbook', () => {
  it('numbers rows as Excel does: empty rows skipped but counted, hidden rows read', async () => {
    const bytes = await workbook([
      {
        name: 'Users',
        rows: [
          ['Email', 'Name'],
          ['a@acme.com', 'A'],
          [],
          ['hidden@acme.com', 'Hidden'],
          ['b@acme.com', 'B'],
        ],
        edit: (sheet) => {
          sheet.getRow(4).hidden = true;
          sheet.getRow(7).getCell(1).value = 'c@acme.com';
          // A formatted row without values, as deleting a row's contents leaves it.
          sheet.getRow(8).getCell(1).numFmt = '@';
        },
      },
    ]);
    const { rows } = await readAll(source(bytes));
    expect(rows).toEqual([
      { row: 2, cells: ['a@acme.com', 'A'] },
      { row: 4, cells: ['hidden@acme.com', 'Hidden'] },
      { row: 5, cells: ['b@acme.com', 'B'] },
      { row: 7, cells: ['c@acme.com'] },
    ]);
  });

  it('takes a merged cell’s value from its top-left cell only', async () => {
    const bytes = await workbook([
      {
        name: 'Users',
        rows: [['Email', 'Department', 'Title']],
        edit: (sheet) => {
          sheet.getCell('A2').value = 'a@acme.com';
          sheet.getCell('B2').value = 'Sales';
          sheet.mergeCells('B2:C3');
          sheet.getCell('A3').value = 'b@acme.com';
        },
      },
    ]);
    const { rows } = await readAll(source(bytes));
    expect(rows).toEqual([
      { row: 2, cells: ['a@acme.com', 'Sales'] },
      { row: 3, cells: ['b@acme.com'] },
    ]);
  });

  it('reads a workbook whatever the order of its parts, without writing any file', async () => {
    const bytes = await workbook([users, staff]);
    const entries = await unzipEntries(bytes);
    // exceljs stores the sheets first and the shared strings, styles and workbook last; Excel stores the
    // workbook first. Both must read alike, and neither may be parked in a temporary file.
    const sheetsFirst = entries.map((e) => e.name).findIndex((n) => n.startsWith('xl/worksheets/'));
    expect(sheetsFirst).toBeLessThan(entries.map((e) => e.name).indexOf('xl/sharedStrings.xml'));
    const shared = ['xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/styles.xml', 'xl/sharedStrings.xml'];
    const excelOrder = await zipOf([
      ...entries.filter((e) => shared.includes(e.name)),
      ...entries.filter((e) => !shared.includes(e.name)),
    ]);
    const writes = jest.spyOn(fs, 'createWriteStream');
    try {
      for (const bytesInOrder of [bytes, excelOrder]) {
        const { rows } = await readAll(source(bytesInOrder), { sheet: 'Staff' });
        expect(rows.map((r) => r.cells[0])).toEqual(['sam@acme.com', 'kim@acme.com']);
      }
      expect(writes).not.toHaveBeenCalled();
    } finally {
      writes.mockRestore();
    }
  });

  it('closes every stream it opens, even when the consumer stops early', async () => {
    const rows = Array.from({ length: 500 }, (_, i) => [`user${i}@acme.com`, `User ${i}`]);
    const src = countingSource(
      'big.xlsx',
      await workbook([{ name: 'Users', rows: [['Email', 'Name'], ...rows] }]),
    );
    const layout = await inspectUserFile(src, MAX);
    for await (const row of readRows(src, layout)) {
      expect(row.row).toBe(2);
      break;
    }
    expect((await collectRows(src, layout)).length).toBe(500);
    await tick();
    expect(src.opened).toBeGreaterThan(3);
    expect(src.closed).toBe(src.opened);
  });

  it('streams a large sheet: reading its first rows reads only the start of the file', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => [`user${i}@acme.com`, `First${i}`, `Last${i}`, i]);
    const bytes = await workbook([
      { name: 'Users', rows: [['Email', 'First Name', 'Last Name', 'Id'], ...rows] },
    ]);
    const src = countingSource('big.xlsx', bytes);
    const layout = await inspectUserFile(src, MAX);
    const before = src.produced;
    let count = 0;
    let last = { row: 0, cells: [] as string[] };
    for await (const row of readRows(src, layout)) {
      last = row;
      if (++count === 10) break;
    }
    expect(last).toEqual({ row: 11, cells: ['user9@acme.com', 'First9', 'Last9', '9'] });
    // The shared strings come after the sheet in this archive: the pass that reads them is done once, by the
    // inspection, and the rows are read from the start of the archive.
    expect(src.produced - before).toBeLessThan(bytes.length / 4);
    const all = await collectRows(src, layout);
    expect(all).toHaveLength(30_000);
    expect(all[29_999]).toEqual({
      row: 30_001,
      cells: ['user29999@acme.com', 'First29999', 'Last29999', '29999'],
    });
  });

  it('surfaces a read error of the upload instead of calling the workbook damaged', async () => {
    const bytes = await workbook([users]);
    const layout = await inspectUserFile(source(bytes), MAX);
    const broken: FileSource = failingSource(
      'users.xlsx',
      bytes.subarray(0, 2000),
      new Error('disk on fire'),
    );
    await expect(collectRows(broken, layout as FileLayout)).rejects.toThrow('disk on fire');
    await expect(inspectUserFile(broken, MAX)).rejects.toThrow('disk on fire');
  });
});

describe('workbooks that cannot be read', () => {
  it('explains an Excel 97-2003 file (.xls), by content', async () => {
    for (const name of ['users.xls', 'users.csv']) {
      const err = await failure(
        inspectUserFile(source(Buffer.concat([ole2Header(), Buffer.alloc(4096)]), name), MAX),
      );
      expect(err.code).toBe('file-legacy-excel');
      expect(err.message).toBe(
        `"${name}" is an older Excel file (.xls). Open it in Excel and save it as .xlsx or CSV, then send it again.`,
      );
    }
  });

  it('explains a password-protected workbook by its EncryptionInfo or EncryptedPackage directory entry', async () => {
    for (const stream of ['EncryptionInfo', 'EncryptedPackage']) {
      const directory = Buffer.concat([
        ole2DirectoryEntry('Root Entry', 5),
        ole2DirectoryEntry('\u0006DataSpaces', 1),
        ole2DirectoryEntry(stream, 2),
        Buffer.alloc(128),
      ]);
      const bytes = Buffer.concat([ole2Header(), directory, Buffer.alloc(2048, 0x5a)]);
      const err = await failure(inspectUserFile(source(bytes, 'payroll.xlsx'), MAX));
      expect(err.code).toBe('file-password-protected');
      expect(err.message).toBe(
        '"payroll.xlsx" is password-protected. Remove the password (File › Info › Protect Workbook) or save it ' +
          'as CSV, and send it again.',
      );
    }
  });

  it('takes the name for an encryption stream only where a directory entry can be', async () => {
    const name = ole2DirectoryEntry('EncryptionInfo', 2);
    const asStorage = ole2DirectoryEntry('EncryptionInfo', 1);
    const cases = [
      // Inside the header, where no directory entry is.
      Buffer.concat([ole2Header().subarray(0, 256), name, ole2Header().subarray(384), Buffer.alloc(1024)]),
      // Off the 128-byte grid, as the same bytes inside a stream's data would be.
      Buffer.concat([ole2Header(), Buffer.alloc(64), name, Buffer.alloc(1024)]),
      // A storage of that name, not a stream.
      Buffer.concat([ole2Header(), asStorage, Buffer.alloc(1024)]),
      // The name as text without the entry's length field.
      Buffer.concat([ole2Header(), Buffer.from('EncryptionInfo\u0000', 'utf16le'), Buffer.alloc(1024)]),
    ];
    for (const bytes of cases) {
      expect((await failure(inspectUserFile(source(bytes, 'old.xls'), MAX))).code).toBe('file-legacy-excel');
    }
  });

  it('applies the size limit to the file as uploaded', async () => {
    const bytes = await workbook([users]);
    const err = await failure(inspectUserFile(source(bytes), { maxBytes: bytes.length - 1 }));
    expect(err.code).toBe('file-too-large');
    expect(err.message).toContain('"users.xlsx" is larger than the');
    // A source that claims a smaller size is caught while it is read.
    const understated: FileSource = { ...source(bytes), bytes: 100 };
    expect((await failure(inspectUserFile(understated, { maxBytes: 1000 }))).code).toBe('file-too-large');
    const xls = { ...source(Buffer.concat([ole2Header(), Buffer.alloc(8192)]), 'old.xls'), bytes: 100 };
    expect((await failure(inspectUserFile(xls, { maxBytes: 1000 }))).code).toBe('file-too-large');
  });

  it('refuses a ZIP archive that is not a workbook, and a damaged workbook', async () => {
    const archive = await zipOf([{ name: 'users.csv', data: Buffer.from('Email\na@x.io\n') }]);
    const notBook = await failure(inspectUserFile(source(archive, 'users.zip'), MAX));
    expect(notBook.code).toBe('file-binary');
    expect(notBook.message).toContain('"users.zip" is a ZIP archive but not an Excel workbook (.xlsx)');
    const bytes = await workbook([users, staff]);
    const damaged = await failure(inspectUserFile(source(bytes.subarray(0, bytes.length / 2)), MAX));
    expect(damaged.code).toBe('file-unreadable');
    expect(damaged.message).toContain(
      '"users.xlsx" looks like an Excel workbook (.xlsx) but could not be read',
    );
  });

  it.each(['xl/worksheets/sheet1.xml', 'xl/sharedStrings.xml'])(
    'stops reading a part that unzips to far more than a workbook holds (%s)',
    async (part) => {
      const entries = await unzipEntries(await workbook([users]));
      const xml = part.includes('shared')
        ? ['<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">', '</sst>']
        : [
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
            '</sheetData></worksheet>',
          ];
      const padding = () =>
        Readable.from(
          (function* () {
            yield Buffer.from(xml[0] as string);
            for (let i = 0; i < 68; i++) yield Buffer.alloc(1024 * 1024, 0x20);
            yield Buffer.from(xml[1] as string);
          })(),
        );
      const bomb = await zipOf(entries.map((e) => (e.name === part ? { name: e.name, data: padding } : e)));
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const err = await failure(inspectUserFile(source(bomb), MAX));
      expect(err.code).toBe('file-too-large');
      expect(err.message).toContain('expands to far more data than a workbook of its size holds');
    },
  );
});
