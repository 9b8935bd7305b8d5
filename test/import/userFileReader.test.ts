import { createHash } from 'node:crypto';
import { isAppError, type AppError } from '../../services/errors';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import { inspectUserFile, readRows } from '../../services/import/userFileReader';
import { chunkedSource, collectRows, failingSource, utf16 } from './sources';

const MAX = { maxBytes: 20 * 1024 * 1024 };

function source(content: string | Buffer, name = 'users.csv'): FileSource {
  return fileSourceFromBuffer(name, typeof content === 'string' ? Buffer.from(content) : content);
}

async function readAll(src: FileSource) {
  const layout = await inspectUserFile(src, MAX);
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

describe('inspectUserFile', () => {
  it('describes a plain UTF-8 CSV', async () => {
    const bytes = Buffer.from('Email ID,First Name,Last Name\r\nana@example.com,Ana,Silva\r\n');
    const layout = await inspectUserFile(fileSourceFromBuffer('C:\\Users\\me\\users.csv', bytes), MAX);
    expect(layout).toEqual({
      name: 'users.csv',
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      encoding: 'utf-8',
      bom: false,
      delimiter: ',',
      headers: ['Email ID', 'First Name', 'Last Name'],
    });
  });

  it('never leaves the BOM on the first header', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('Email;Name\na@x.io;Ana\n')]);
    const layout = await inspectUserFile(source(bytes), MAX);
    expect(layout).toMatchObject({ bom: true, delimiter: ';', headers: ['Email', 'Name'] });
  });

  it('strips a BOM remnant: a doubled BOM, or a UTF-8 BOM in front of Windows-1252 text', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const doubled = await inspectUserFile(
      source(Buffer.concat([bom, bom, Buffer.from('Email,Name\n')])),
      MAX,
    );
    expect(doubled.headers).toEqual(['Email', 'Name']);
    const mixed = Buffer.concat([bom, Buffer.from('Email,Name\nm@x.io,M'), Buffer.from([0xfc, 0x0a])]);
    const layout = await inspectUserFile(source(mixed), MAX);
    expect(layout).toMatchObject({ encoding: 'windows-1252', headers: ['Email', 'Name'] });
  });

  it('trims header cells and keeps empty ones in place', async () => {
    const layout = await inspectUserFile(source(' Email ID ,"  First Name",,Dept \na@x.io,Ana,,IT\n'), MAX);
    expect(layout.headers).toEqual(['Email ID', 'First Name', '', 'Dept']);
  });

  it('reads a quoted header containing the delimiter and a line break', async () => {
    const layout = await inspectUserFile(source('Email,"Name, full","Notes\nmore"\na@x.io,"A, B",x\n'), MAX);
    expect(layout.headers).toEqual(['Email', 'Name, full', 'Notes\nmore']);
  });

  it('skips blank lines before the header', async () => {
    const layout = await inspectUserFile(source('\n  \n||\nEmail|Name\na@x.io|Ana\n'), MAX);
    expect(layout).toMatchObject({ delimiter: '|', headers: ['Email', 'Name'] });
  });

  it.each([
    ['a single line of delimiters', ',,,\n'],
    ['lines of delimiters', ';;\n;;\n ; \n'],
    ['a first line of punctuation only', '--- ; ---\na@x.io;Ana\n'],
  ])('rejects a file with %s as having no header', async (_label, content) => {
    const err = await failure(inspectUserFile(source(content), MAX));
    expect(err.code).toBe('file-no-header');
    expect(err.message).toContain('"users.csv" has no header row');
  });

  it('rejects a file whose first line is a user instead of column names', async () => {
    const err = await failure(
      inspectUserFile(source('ana@example.com,Ana,Silva\nbo@example.com,Bo,Berg\n'), MAX),
    );
    expect(err.code).toBe('file-no-header');
    expect(err.message).toContain('("ana@example.com")');
    expect(err.message).toMatch(/Email ID,First Name,Last Name/);
  });

  it('accepts header names that merely contain an @', async () => {
    const layout = await inspectUserFile(source('Email@Work,Phone @ desk,Note.@x\na@x.io,1,2\n'), MAX);
    expect(layout.headers).toEqual(['Email@Work', 'Phone @ desk', 'Note.@x']);
  });

  it('passes on the errors of encoding detection', async () => {
    expect((await failure(inspectUserFile(source(''), MAX))).code).toBe('file-empty');
    expect((await failure(inspectUserFile(source('\ufeff'), MAX))).code).toBe('file-empty');
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    expect((await failure(inspectUserFile(source(png), MAX))).code).toBe('file-binary');
    const err = await failure(inspectUserFile(source('Email\n'.repeat(1000)), { maxBytes: 1000 }));
    expect(err.code).toBe('file-too-large');
  });

  it('finds the header of a file whose first 64 KB end inside a quoted field', async () => {
    const note = `"${'x;'.repeat(40000)}"`;
    const text = 'Email;Name;Note\n' + `a@x.io;Ana;${note}\n`.repeat(3);
    const layout = await inspectUserFile(source(text), MAX);
    expect(layout).toMatchObject({ delimiter: ';', headers: ['Email', 'Name', 'Note'] });
  });

  it('reports a read error from the file', async () => {
    const src = failingSource('users.csv', Buffer.from('Email\na@x.io\n'), new Error('disk on fire'));
    await expect(inspectUserFile(src, MAX)).rejects.toThrow('disk on fire');
  });
});

describe('readRows', () => {
  it('returns data rows with spreadsheet row numbers, cells untrimmed', async () => {
    const { rows } = await readAll(source('Email,Name\na@x.io, Ana \nb@x.io,Bo\n'));
    expect(rows).toEqual([
      { row: 2, cells: ['a@x.io', ' Ana '] },
      { row: 3, cells: ['b@x.io', 'Bo'] },
    ]);
  });

  it('reads the last row without a trailing line end', async () => {
    const { rows } = await readAll(source('Email,Name\na@x.io,Ana'));
    expect(rows).toEqual([{ row: 2, cells: ['a@x.io', 'Ana'] }]);
  });

  it('returns nothing for a header-only file', async () => {
    expect((await readAll(source('Email,Name\r\n'))).rows).toEqual([]);
  });

  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('handles %s line ends', async (_label, eol) => {
    const text = ['Email;Name', 'a@x.io;Ana', 'b@x.io;Bo', 'c@x.io;Cy'].join(eol) + eol;
    for (const src of [source(text), chunkedSource('users.csv', Buffer.from(text), 1)]) {
      const { layout, rows } = await readAll(src);
      expect(layout.headers).toEqual(['Email', 'Name']);
      expect(rows).toEqual([
        { row: 2, cells: ['a@x.io', 'Ana'] },
        { row: 3, cells: ['b@x.io', 'Bo'] },
        { row: 4, cells: ['c@x.io', 'Cy'] },
      ]);
    }
  });

  it('handles a file mixing line ends', async () => {
    const { rows } = await readAll(source('Email\r\na@x.io\nb@x.io\rc@x.io\r\n'));
    expect(rows.map((r) => [r.row, r.cells[0]])).toEqual([
      [2, 'a@x.io'],
      [3, 'b@x.io'],
      [4, 'c@x.io'],
    ]);
  });

  it('counts blank lines toward row numbers without returning them', async () => {
    const text = 'Email,Name\n\na@x.io,Ana\n   \n,\n\r\nb@x.io,Bo\n\n\n';
    const { rows } = await readAll(source(text.replace(/\n/g, '\r\n')));
    expect(rows).toEqual([
      { row: 3, cells: ['a@x.io', 'Ana'] },
      { row: 8, cells: ['b@x.io', 'Bo'] },
    ]);
  });

  it('numbers rows from the real header line when blank lines come first', async () => {
    const { rows } = await readAll(source('\n\nEmail\na@x.io\n'));
    expect(rows).toEqual([{ row: 4, cells: ['a@x.io'] }]);
  });

  it('reads quoted cells with delimiters, escaped quotes and line breaks as one row', async () => {
    const text =
      'Email,Name,Notes\r\n' +
      'a@x.io,"Smith, Jr.","first line\r\nsecond, line\nthird ""quoted"" line"\r\n' +
      'b@x.io,"",plain\r\n';
    const { rows } = await readAll(source(text));
    expect(rows).toEqual([
      { row: 2, cells: ['a@x.io', 'Smith, Jr.', 'first line\nsecond, line\nthird "quoted" line'] },
      { row: 3, cells: ['b@x.io', '', 'plain'] },
    ]);
  });

  it('reads a semicolon file whose names contain commas', async () => {
    const { layout, rows } = await readAll(source('Email;Name;Title\nj@x.io;Smith, Jr.;VP, Sales\n'));
    expect(layout.delimiter).toBe(';');
    expect(rows[0]?.cells).toEqual(['j@x.io', 'Smith, Jr.', 'VP, Sales']);
  });

  it.each([
    ['le', 'utf-16le'],
    ['be', 'utf-16be'],
  ] as const)('reads a tab-delimited UTF-16%s "Unicode Text" export', async (endian, encoding) => {
    const text = 'Email ID\tFirst Name\tLast Name\r\nzoë@x.io\tZoë\tÅström\r\nli@x.io\t李\t小龙\r\n';
    for (const src of [source(utf16(text, endian)), chunkedSource('users.txt', utf16(text, endian), 1)]) {
      const { layout, rows } = await readAll(src);
      expect(layout).toMatchObject({ encoding, bom: true, delimiter: '\t' });
      expect(layout.headers).toEqual(['Email ID', 'First Name', 'Last Name']);
      expect(rows).toEqual([
        { row: 2, cells: ['zoë@x.io', 'Zoë', 'Åström'] },
        { row: 3, cells: ['li@x.io', '李', '小龙'] },
      ]);
    }
  });

  it('reads Windows-1252 text', async () => {
    const bytes = Buffer.concat([
      Buffer.from('Email,Last Name,First Name\r\nm@x.io,M'),
      Buffer.from([0xfc]),
      Buffer.from('ller,Jos'),
      Buffer.from([0xe9]),
      Buffer.from('\r\n'),
    ]);
    const { layout, rows } = await readAll(source(bytes));
    expect(layout.encoding).toBe('windows-1252');
    expect(rows).toEqual([{ row: 2, cells: ['m@x.io', 'Müller', 'José'] }]);
  });

  it('reads UTF-8 with multi-byte characters split across 1-byte chunks', async () => {
    const text = '\ufeffEmail,Name\r\nzoë@x.io,"Zoë, 山田 🎉"\r\nbo@x.io,Bö\r\n';
    const src = chunkedSource('users.csv', Buffer.from(text), 1);
    const { layout, rows } = await readAll(src);
    expect(layout.headers).toEqual(['Email', 'Name']);
    expect(rows).toEqual([
      { row: 2, cells: ['zoë@x.io', 'Zoë, 山田 🎉'] },
      { row: 3, cells: ['bo@x.io', 'Bö'] },
    ]);
  });

  it('gives the same rows however the bytes are chunked', async () => {
    const lines = ['Email|Name|Notes'];
    for (let i = 0; i < 300; i++) lines.push(`u${i}@x.io|Ünïcode ${i}|"multi\r\nline | ${i}"`);
    const bytes = Buffer.from(lines.join('\r\n'));
    const whole = (await readAll(source(bytes))).rows;
    expect(whole).toHaveLength(300);
    expect(whole[299]).toEqual({ row: 301, cells: ['u299@x.io', 'Ünïcode 299', 'multi\nline | 299'] });
    for (const size of [1, 2, 3, 5, 4096]) {
      expect((await readAll(chunkedSource('users.csv', bytes, size))).rows).toEqual(whole);
    }
  });

  it('returns rows with a different number of cells than the header as they are', async () => {
    const { rows } = await readAll(source('Email,First,Last\na@x.io\nb@x.io,Bo,Berg,extra\n'));
    expect(rows.map((r) => r.cells)).toEqual([['a@x.io'], ['b@x.io', 'Bo', 'Berg', 'extra']]);
  });

  it('reads the file afresh on every iteration', async () => {
    let opened = 0;
    const inner = source('Email\na@x.io\nb@x.io\n');
    const src: FileSource = { ...inner, open: () => (opened++, inner.open()) };
    const layout = await inspectUserFile(src, MAX);
    const afterInspect = opened;
    const rows = readRows(src, layout);
    const first: number[] = [];
    for await (const r of rows) first.push(r.row);
    const second: number[] = [];
    for await (const r of rows) second.push(r.row);
    expect(first).toEqual([2, 3]);
    expect(second).toEqual([2, 3]);
    expect(opened - afterInspect).toBe(2);
  });

  it('rejects a quoted value that is never closed, after the rows before it', async () => {
    const text = 'Email,Name\na@x.io,Ana\n\nb@x.io,"Bo\nc@x.io,Cy\nd@x.io,Di\n';
    const layout = await inspectUserFile(source(text), MAX);
    const seen: number[] = [];
    const err = await failure(
      (async () => {
        for await (const r of readRows(source(text), layout)) seen.push(r.row);
      })(),
    );
    expect(seen).toEqual([2]);
    expect(err.code).toBe('file-unreadable');
    expect(err.message).toMatch(/^Row 4 of "users\.csv" opens a quoted value/);
    expect(err.details).toEqual({ file: 'users.csv', row: 4 });
  });

  it('accepts a quoted value closed at the very end of the file', async () => {
    const { rows } = await readAll(chunkedSource('users.csv', Buffer.from('Email,Note\na@x.io,"x\ny"'), 1));
    expect(rows).toEqual([{ row: 2, cells: ['a@x.io', 'x\ny'] }]);
  });

  it('closes every stream it opens, even when the consumer stops early', async () => {
    let opened = 0;
    let closed = 0;
    const inner = source('Email\n' + 'a@x.io\n'.repeat(50000));
    const src: FileSource = {
      ...inner,
      open: () => {
        opened++;
        return inner.open().on('close', () => closed++) as NodeJS.ReadableStream;
      },
    };
    const layout = await inspectUserFile(src, MAX);
    for await (const r of readRows(src, layout)) {
      expect(r.row).toBe(2);
      break;
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(opened).toBe(3);
    expect(closed).toBe(3);
  });

  it('surfaces a read error to the consumer', async () => {
    const layout = await inspectUserFile(source('Email\na@x.io\n'), MAX);
    const src = failingSource(
      'users.csv',
      Buffer.from('Email\na@x.io\nb@x.io\n'),
      new Error('connection reset'),
    );
    await expect(collectRows(src, layout)).rejects.toThrow('connection reset');
  });
});
