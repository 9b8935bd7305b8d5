import { Readable } from 'node:stream';
import { isAppError, type AppError } from '../../services/errors';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import { inspectUserFile, readRows } from '../../services/import/userFileReader';
import { chunkedSource, collectRows } from './sources';

const MAX = { maxBytes: 100 * 1024 * 1024 };
const HEADER = 'Email ID,First Name,Last Name,User Status';

function source(content: string, name = 'list.txt'): FileSource {
  return fileSourceFromBuffer(name, Buffer.from(content));
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

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('email lists', () => {
  it('reads one address per line without a header, numbered by line like table rows', async () => {
    const { layout, rows } = await readAll(source('ana@x.com\r\nbo@x.com\r\n\r\ncy@x.com\r\n'));
    expect(layout).toMatchObject({ shape: 'email-list', headers: ['Email'], emailList: { header: null } });
    expect(rows).toEqual([
      { row: 1, cells: ['ana@x.com'] },
      { row: 2, cells: ['bo@x.com'] },
      { row: 4, cells: ['cy@x.com'] },
    ]);
  });

  it.each([
    ['Email', 'Email'],
    ['E-mail', 'E-mail'],
    ['"Email Address"', 'Email Address'],
    ['EMAIL ID', 'EMAIL ID'],
  ])('skips a single %s header', async (header, written) => {
    const { layout, rows } = await readAll(source(`${header}\nana@x.com\nbo@x.com\n`));
    expect(layout).toMatchObject({ shape: 'email-list', emailList: { header: written } });
    expect(rows).toEqual([
      { row: 2, cells: ['ana@x.com'] },
      { row: 3, cells: ['bo@x.com'] },
    ]);
  });

  it('splits one line at commas, semicolons and whitespace alike, naming each item by its place', async () => {
    const { layout, rows } = await readAll(
      source('a@x.com, b@x.com; c@x.com d@x.com\tbob@ ,,e@x.com\n"f@x.com";<g@x.com>\n'),
    );
    expect(layout.shape).toBe('email-list');
    expect(rows.map((r) => [r.row, r.cells[0], r.where])).toEqual([
      [1, 'a@x.com', 'item 1 on line 1'],
      [2, 'b@x.com', 'item 2 on line 1'],
      [3, 'c@x.com', 'item 3 on line 1'],
      [4, 'd@x.com', 'item 4 on line 1'],
      [5, 'bob@', 'item 5 on line 1'],
      [6, 'e@x.com', 'item 6 on line 1'],
      [7, 'f@x.com', 'item 1 on line 2'],
      [8, 'g@x.com', 'item 2 on line 2'],
    ]);
  });

  it('reads the same tokens whatever the chunk boundaries', async () => {
    const text = 'Email\r\na@x.com;b@x.com\r\nc@x.com  d@x.com\re@x.com\n';
    const whole = await readAll(source(text));
    for (const size of [1, 2, 3, 7]) {
      const chunked = await readAll(chunkedSource('list.txt', Buffer.from(text), size));
      expect(chunked.rows).toEqual(whole.rows);
    }
    // Further addresses on a line take the next numbers; an address alone on its line below them says
    // which line it is on.
    expect(whole.rows.map((r) => [r.row, r.where])).toEqual([
      [2, 'item 1 on line 2'],
      [3, 'item 2 on line 2'],
      [4, 'item 1 on line 3'],
      [5, 'item 2 on line 3'],
      [6, 'line 4'],
    ]);
  });

  it.each([
    ['a table whose rows start with an email', 'jane@acme.com,Jane,Doe,New\nbob@acme.com,Bob,Ray,New\n'],
    ['a table with an email column and another header', `Email,Notes\n${'a@x.com,\n'.repeat(60)}`],
    ['a list naming another column', 'a@x.com\nb@x.com\nc@x.com\nd@x.com\nStatus\n'],
    ['a file where few tokens have an @', 'a@x.com\nbob\ncy\ndee\n'],
  ])('does not take %s for an email list', async (_what, content) => {
    const layout = await inspectUserFile(source(content), MAX).catch((e: unknown) => e);
    expect((layout as { shape?: string }).shape).not.toBe('email-list');
  });

  it('streams a list of 300,000 addresses on a single line with bounded memory', async () => {
    const count = 300_000;
    let produced = 0;
    const src: FileSource = {
      name: 'one-line.txt',
      bytes: 0,
      open: () =>
        Readable.from(
          (function* () {
            for (let i = 0; i < count; i += 1000) {
              const part: string[] = [];
              for (let j = i; j < i + 1000; j++) part.push(`user${j}@example.com${j % 3 === 0 ? ';' : ', '}`);
              const chunk = Buffer.from(part.join(''));
              produced += chunk.length;
              yield chunk;
            }
          })(),
          { objectMode: false, highWaterMark: 16 * 1024 },
        ),
    };
    const layout = await inspectUserFile(src, MAX);
    expect(layout.shape).toBe('email-list');
    const iterator = readRows(src, layout)[Symbol.asyncIterator]();
    const before = produced;
    expect((await iterator.next()).value).toEqual({
      row: 1,
      cells: ['user0@example.com'],
      where: 'item 1 on line 1',
    });
    await tick(100);
    expect(produced - before).toBeLessThan(2 * 1024 * 1024);
    let last: unknown;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) last = r.value;
    expect(last).toEqual({
      row: count,
      cells: [`user${count - 1}@example.com`],
      where: `item ${count} on line 1`,
    });
  });
});

describe('rows run together on one line', () => {
  it('re-flows a header and its rows on one line, keeping a quoted value with the delimiter whole', async () => {
    const { layout, rows } = await readAll(
      source(`${HEADER},ana@x.com,Ana,"Silva, Jr.",New,bo@x.com,Bo,Berg,New,cy@x.com,Cy,Chu,Update\n`),
    );
    expect(layout).toMatchObject({
      shape: 'run-together',
      headers: ['Email ID', 'First Name', 'Last Name', 'User Status'],
      runTogether: {
        columns: 4,
        values: 12,
        rows: 3,
        headerOnOwnLine: false,
        sample: [
          ['ana@x.com', 'Ana', 'Silva, Jr.', 'New'],
          ['bo@x.com', 'Bo', 'Berg', 'New'],
          ['cy@x.com', 'Cy', 'Chu', 'Update'],
        ],
      },
    });
    expect(rows).toEqual([
      { row: 2, cells: ['ana@x.com', 'Ana', 'Silva, Jr.', 'New'] },
      { row: 3, cells: ['bo@x.com', 'Bo', 'Berg', 'New'] },
      { row: 4, cells: ['cy@x.com', 'Cy', 'Chu', 'Update'] },
    ]);
  });

  it('re-flows a header line followed by every row on the next line, whatever the chunk size', async () => {
    const text = `Email ID;First Name;Last Name\r\nana@x.com;Ana;Silva;bo@x.com;"Bo\r\n""B""";Berg\r\n\r\n`;
    const whole = await readAll(source(text));
    expect(whole.layout).toMatchObject({
      shape: 'run-together',
      delimiter: ';',
      runTogether: { columns: 3, values: 6, rows: 2, headerOnOwnLine: true },
    });
    expect(whole.rows).toEqual([
      { row: 2, cells: ['ana@x.com', 'Ana', 'Silva'] },
      { row: 3, cells: ['bo@x.com', 'Bo\n"B"', 'Berg'] },
    ]);
    for (const size of [1, 5, 13]) {
      expect((await readAll(chunkedSource('x.csv', Buffer.from(text), size))).rows).toEqual(whole.rows);
    }
  });

  it('finds the header when the email is not its first column', async () => {
    const { layout, rows } = await readAll(
      source('First Name,Last Name,Email,Ana,Silva,ana@x.com,Bo,Berg,bo@x.com'),
    );
    expect(layout).toMatchObject({ headers: ['First Name', 'Last Name', 'Email'], runTogether: { rows: 2 } });
    expect(rows.map((r) => r.cells)).toEqual([
      ['Ana', 'Silva', 'ana@x.com'],
      ['Bo', 'Berg', 'bo@x.com'],
    ]);
  });

  it('ignores the empty values a delimiter after the last value leaves', async () => {
    const { layout, rows } = await readAll(source(`${HEADER},ana@x.com,Ana,Silva,,bo@x.com,Bo,Berg,New,\n`));
    expect(layout.runTogether).toMatchObject({ values: 8, rows: 2 });
    expect(rows).toEqual([
      { row: 2, cells: ['ana@x.com', 'Ana', 'Silva', ''] },
      { row: 3, cells: ['bo@x.com', 'Bo', 'Berg', 'New'] },
    ]);
  });

  it('explains exactly why values that do not fill whole rows cannot be re-flowed', async () => {
    const header = 'Email ID,First Name,Last Name,Alternate ID,Work Phone,Title,Department,User Status';
    const values = [
      ...['ana@x.com', 'Ana', 'Silva', 'E1', '555', 'CTO', 'R&D', 'New'],
      ...['bo@x.com', 'Bo', 'Berg', 'E2', '556', 'Dev', 'R&D', 'New'],
      ...['cy@x.com', 'Cy', 'Chu', 'E3', '557', 'QA', 'New'],
    ];
    const err = await failure(inspectUserFile(source(`${header},${values.join(',')}\n`, 'run.csv'), MAX));
    expect(err.code).toBe('file-run-together');
    expect(err.message).toContain(
      'the line has 23 values after the 8-column header; 23 is not a multiple of 8 ' +
        '(2 rows would need 16, 3 rows 24), so I cannot tell where rows end',
    );
    expect(err.details).toEqual({ file: 'run.csv', values: 23, columns: 8 });
    // The header on a line of its own, the rows on the next: the same explanation.
    const own = await failure(inspectUserFile(source(`${header}\n${values.join(',')}\n`), MAX));
    expect(own.message).toContain('the line has 23 values after the 8-column header');
  });

  it('streams 100,000 re-flowed rows from one line with bounded memory', async () => {
    const count = 100_000;
    let produced = 0;
    const src: FileSource = {
      name: 'one-line.csv',
      bytes: 0,
      open: () =>
        Readable.from(
          (function* () {
            yield Buffer.from(HEADER);
            for (let i = 0; i < count; i += 1000) {
              const part: string[] = [];
              for (let j = i; j < i + 1000; j++) part.push(`,u${j}@x.com,"F${j}, x",L${j},New`);
              const chunk = Buffer.from(part.join(''));
              produced += chunk.length;
              yield chunk;
            }
          })(),
          { objectMode: false, highWaterMark: 16 * 1024 },
        ),
    };
    const layout = await inspectUserFile(src, MAX);
    expect(layout.runTogether).toMatchObject({ columns: 4, values: 4 * count, rows: count });
    const iterator = readRows(src, layout)[Symbol.asyncIterator]();
    const before = produced;
    expect((await iterator.next()).value).toEqual({ row: 2, cells: ['u0@x.com', 'F0, x', 'L0', 'New'] });
    await tick(100);
    expect(produced - before).toBeLessThan(2 * 1024 * 1024);
    let rows = 1;
    let last: unknown;
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      rows++;
      last = r.value;
    }
    expect(rows).toBe(count);
    expect(last).toEqual({
      row: count + 1,
      cells: [`u${count - 1}@x.com`, `F${count - 1}, x`, `L${count - 1}`, 'New'],
    });
  });

  it.each([
    ['a header and one row', `${HEADER}\nana@x.com,Ana,Silva,New\n`],
    ['a header and one row ending in a stray delimiter', `${HEADER}\nana@x.com,Ana,Silva,New,\n`],
    ['a header alone', `${HEADER}\n`],
    ['three lines', `${HEADER}\nana@x.com,Ana,Silva,New,bo@x.com,Bo,Berg,New\nc@x.com,C,D,New\n`],
  ])('leaves %s to be read as a table', async (_what, content) => {
    const layout = await inspectUserFile(source(content), MAX);
    expect(layout.shape).toBeUndefined();
  });
});
