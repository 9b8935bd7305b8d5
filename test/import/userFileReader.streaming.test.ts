import { inspectUserFile, readRows } from '../../services/import/userFileReader';
import { generatedSource } from './sources';

const ROWS = 200_000;

function* userLines(rows: number): Generator<string> {
  yield 'Email ID,First Name,Last Name,Department';
  for (let i = 1; i <= rows; i++) {
    // Blank lines and quoted multi-line cells every so often keep the numbering honest at scale.
    if (i % 50_000 === 0) yield '';
    yield i % 1000 === 0
      ? `user${i}@example.com,"Name, ${i}","Multi\nLine",Dept ${i % 7}`
      : `user${i}@example.com,First${i},Last${i},Dept ${i % 7}`;
  }
}

function tick(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('readRows on large files', () => {
  it(`streams ${ROWS} generated rows with the right count and numbering`, async () => {
    const source = generatedSource('big.csv', () => userLines(ROWS), { lineEnd: '\r\n' });
    const layout = await inspectUserFile(source, { maxBytes: 100 * 1024 * 1024 });
    expect(layout.headers).toEqual(['Email ID', 'First Name', 'Last Name', 'Department']);

    let count = 0;
    let last = { row: 0, cells: [] as string[] };
    let previousRow = 1;
    let ordered = true;
    for await (const row of readRows(source, layout)) {
      count++;
      if (row.row <= previousRow) ordered = false;
      previousRow = row.row;
      last = row;
    }
    expect(ordered).toBe(true);
    expect(count).toBe(ROWS);
    // Header (1) + 200,000 data lines + 4 blank lines; the 200 multi-line cells are one row each.
    expect(last.row).toBe(1 + ROWS + 4);
    expect(last.cells).toEqual([
      `user${ROWS}@example.com`,
      `Name, ${ROWS}`,
      'Multi\nLine',
      `Dept ${ROWS % 7}`,
    ]);
  });

  it('reads ahead only a bounded amount while the consumer is slow', async () => {
    const source = generatedSource('big.csv', () => userLines(ROWS), { lineEnd: '\n' });
    const layout = await inspectUserFile(source, { maxBytes: 100 * 1024 * 1024 });
    const iterator = readRows(source, layout)[Symbol.asyncIterator]();
    const before = source.producedBytes;

    const first = await iterator.next();
    expect(first.value).toEqual({ row: 2, cells: ['user1@example.com', 'First1', 'Last1', 'Dept 1'] });
    // Give the pipeline every chance to run ahead of a consumer that has stopped pulling.
    await tick(200);
    const readAhead = source.producedBytes - before;
    expect(source.bytes).toBeGreaterThan(8 * 1024 * 1024);
    expect(readAhead).toBeLessThan(2 * 1024 * 1024);

    for (let i = 0; i < 10_000; i++) await iterator.next();
    await tick(50);
    expect(source.producedBytes - before).toBeLessThan(4 * 1024 * 1024);

    // Stopping early closes the file.
    const closedBefore = source.closed;
    await iterator.return?.();
    await tick(20);
    expect(source.closed).toBe(closedBefore + 1);
  });
});
