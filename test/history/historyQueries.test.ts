import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import { HistoryQueries, MAX_CANDIDATES, type ImportResolution } from '../../services/history/historyQueries';
import { ImportHistory } from '../../services/history/importHistory';
import {
  emptyOutcomes,
  type ImportRecord,
  type RowResult,
  type RowResultChunk,
} from '../../services/history/importRecord';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const HEADER = 'Email ID,First Name,Last Name,User Status';

let t: TestDatabase;
let service: ImportService;
let queries: HistoryQueries;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 5_000_000, batchSize: 2 });
  queries = new HistoryQueries(t.db, service.history);
});
afterAll(async () => t.close());

async function reset(): Promise<void> {
  for (const name of [USERS_COLLECTION, IMPORTS_COLLECTION, IMPORT_ROWS_COLLECTION]) {
    await t.db.collection(name).deleteMany({});
  }
}

const imports = () => t.db.collection<ImportRecord>(IMPORTS_COLLECTION);

/**
 * Imports `rows` (CSV lines after the header) as a real recorded import; `at` then moves its creation time,
 * so date filters can be tested on known dates.
 */
async function importCsv(
  accountId: string,
  rows: string[],
  { name = 'users.csv', by = 'Ann Admin', at }: { name?: string; by?: string; at?: Date } = {},
): Promise<ImportRecord> {
  const csv = [HEADER, ...rows].join('\r\n') + '\r\n';
  const record = await service.commit(fileSourceFromBuffer(name, Buffer.from(csv)), accountId, {}, { by });
  if (!at) return record;
  await imports().updateOne({ _id: record._id }, { $set: { createdAt: at } });
  return { ...record, createdAt: at };
}

const day = (month: number, d: number) => new Date(Date.UTC(2030, month - 1, d, 12));
const numbers = (records: ImportRecord[]) => records.map((r) => r.number);

function numbersOf(resolution: ImportResolution): number[] | string {
  if (resolution.kind === 'found') return [resolution.record.number];
  if (resolution.kind === 'ambiguous') return numbers(resolution.candidates);
  return resolution.reason;
}

describe('HistoryQueries.listImports and resolveImport', () => {
  let acme: ImportRecord[];
  let globexFirst: ImportRecord;

  beforeAll(async () => {
    await reset();
    acme = [
      // #1: 2 created
      await importCsv('acme', ['ann@acme.com,Ann,A,New', 'bob@acme.com,Bob,B,New'], { at: day(1, 10) }),
      // #2: 1 created, 1 ignored (invalid email)
      await importCsv('acme', ['cy@acme.com,Cy,C,New', 'not-an-email,Dee,D,New'], {
        name: 'Staff.CSV',
        by: 'Bob Boss',
        at: day(2, 10),
      }),
      // #3: 1 updated, 1 ignored (update of an unknown user)
      await importCsv('acme', ['ann@acme.com,Annie,A,Update', 'nobody@acme.com,No,Body,Update'], {
        name: 'staff.csv',
        at: day(3, 10),
      }),
      // #4: 1 deleted
      await importCsv('acme', ['bob@acme.com,,,Delete'], { name: 'other.csv', at: day(4, 10) }),
    ];
    globexFirst = await importCsv('globex', ['gil@globex.com,Gil,G,New'], {
      name: 'staff.csv',
      at: day(2, 15),
    });
  });

  it('lists the account’s imports newest first with the total and outcome totals of all of them', async () => {
    expect(numbers(acme)).toEqual([1, 2, 3, 4]);
    const page = await queries.listImports('acme', {}, 0, 10);
    expect(numbers(page.imports)).toEqual([4, 3, 2, 1]);
    expect(page.imports.every((r) => r.accountId === 'acme')).toBe(true);
    expect(page.total).toBe(4);
    expect(page.totals).toEqual({ ...emptyOutcomes(), created: 3, updated: 1, ignored: 2, deleted: 1 });
  });

  it('pages in the database while total and totals still cover every match', async () => {
    const page = await queries.listImports('acme', {}, 1, 2);
    expect(numbers(page.imports)).toEqual([3, 2]);
    expect(page.total).toBe(4);
    expect(page.totals).toEqual({ ...emptyOutcomes(), created: 3, updated: 1, ignored: 2, deleted: 1 });
    expect(numbers((await queries.listImports('acme', {}, 3, 2)).imports)).toEqual([1]);
    expect((await queries.listImports('acme', {}, 4, 2)).imports).toEqual([]);
  });

  it('filters by file name and by admin (leading whole words), ignoring case but not matching parts or patterns', async () => {
    const staff = await queries.listImports('acme', { fileName: 'STAFF.csv' }, 0, 10);
    expect(numbers(staff.imports)).toEqual([3, 2]);
    expect(staff.total).toBe(2);
    expect(staff.totals).toEqual({ ...emptyOutcomes(), created: 1, updated: 1, ignored: 2 });

    expect(numbers((await queries.listImports('acme', { by: ' ann admin ' }, 0, 10)).imports)).toEqual([
      4, 3, 1,
    ]);
    const both = await queries.listImports('acme', { by: 'ANN ADMIN', fileName: 'staff.csv' }, 0, 10);
    expect(numbers(both.imports)).toEqual([3]);

    // An admin is named as people say them: their first name finds them, part of a word does not.
    expect(numbers((await queries.listImports('acme', { by: 'ann' }, 0, 10)).imports)).toEqual([4, 3, 1]);

    for (const filter of [
      { by: 'An' },
      { by: 'Admin' },
      { by: 'Ann.*' },
      { fileName: 'staff' },
      { fileName: 'staff.cs.' },
      { fileName: '.*' },
    ]) {
      const none = await queries.listImports('acme', filter, 0, 10);
      expect(none).toEqual({ imports: [], total: 0, totals: emptyOutcomes() });
    }
  });

  it('filters by date range, both ends inclusive', async () => {
    const range = await queries.listImports('acme', { from: day(2, 10), to: day(3, 10) }, 0, 10);
    expect(numbers(range.imports)).toEqual([3, 2]);
    expect(range.totals.created).toBe(1);
    expect(numbers((await queries.listImports('acme', { from: day(3, 1) }, 0, 10)).imports)).toEqual([4, 3]);
    expect(numbers((await queries.listImports('acme', { to: day(1, 31) }, 0, 10)).imports)).toEqual([1]);
    expect((await queries.listImports('acme', { from: day(5, 1) }, 0, 10)).total).toBe(0);
  });

  it('never lists another account’s imports', async () => {
    const page = await queries.listImports('globex', { fileName: 'staff.csv' }, 0, 10);
    expect(page.imports.map((r) => r._id)).toEqual([globexFirst._id]);
    expect(page.totals).toEqual({ ...emptyOutcomes(), created: 1 });
    expect(await queries.listImports('initech', {}, 0, 10)).toEqual({
      imports: [],
      total: 0,
      totals: emptyOutcomes(),
    });
  });

  it('resolves an import number or id of the account, and nothing of another account', async () => {
    expect(numbersOf(await queries.resolveImport('acme', { importRef: '2' }))).toEqual([2]);
    expect(numbersOf(await queries.resolveImport('acme', { importRef: '#3' }))).toEqual([3]);
    expect(numbersOf(await queries.resolveImport('acme', { importRef: acme[0]?._id }))).toEqual([1]);
    expect(numbersOf(await queries.resolveImport('acme', { importRef: '99' }))).toBe('no-match');
    expect(numbersOf(await queries.resolveImport('acme', { importRef: 'imp_unknown1' }))).toBe('no-match');
    expect(numbersOf(await queries.resolveImport('acme', { importRef: 'yesterday' }))).toBe('no-match');
    // globex has only #1: acme's #3 and acme's ids are not found there.
    expect(numbersOf(await queries.resolveImport('globex', { importRef: '3' }))).toBe('no-match');
    expect(numbersOf(await queries.resolveImport('globex', { importRef: acme[2]?._id }))).toBe('no-match');
    expect(numbersOf(await queries.resolveImport('acme', { importRef: globexFirst._id }))).toBe('no-match');
    // The reference decides alone.
    expect(numbersOf(await queries.resolveImport('acme', { importRef: '1', fileName: 'other.csv' }))).toEqual(
      [1],
    );
  });

  it('resolves by file name or dates: one match is found, several are ambiguous, none is no-match', async () => {
    expect(numbersOf(await queries.resolveImport('acme', { fileName: 'OTHER.csv' }))).toEqual([4]);
    const staff = await queries.resolveImport('acme', { fileName: 'staff.csv' });
    expect(staff).toMatchObject({ kind: 'ambiguous', more: false });
    expect(numbersOf(staff)).toEqual([3, 2]);
    expect(
      numbersOf(await queries.resolveImport('acme', { fileName: 'staff.csv', from: day(3, 1) })),
    ).toEqual([3]);
    expect(numbersOf(await queries.resolveImport('acme', { from: day(1, 1), to: day(1, 31) }))).toEqual([1]);
    expect(numbersOf(await queries.resolveImport('acme', { from: day(2, 1), to: day(3, 31) }))).toEqual([
      3, 2,
    ]);
    expect(numbersOf(await queries.resolveImport('acme', { fileName: 'missing.csv' }))).toBe('no-match');
    expect(numbersOf(await queries.resolveImport('acme', { from: day(6, 1) }))).toBe('no-match');
  });

  it('resolves nothing given to the latest import, and says when the account has no imports at all', async () => {
    expect(numbersOf(await queries.resolveImport('acme', {}))).toEqual([4]);
    expect(numbersOf(await queries.resolveImport('acme', { importRef: ' ', fileName: '' }))).toEqual([4]);
    expect(numbersOf(await queries.resolveImport('globex', {}))).toEqual([1]);
    for (const ref of [{}, { importRef: '1' }, { importRef: acme[0]?._id }, { fileName: 'staff.csv' }]) {
      expect(await queries.resolveImport('initech', ref)).toEqual({
        kind: 'not-found',
        reason: 'no-imports',
      });
    }
  });

  it('offers the newest candidates and says when more match', async () => {
    const files: ImportRecord[] = [];
    for (let i = 1; i <= 5; i++) {
      files.push(
        await importCsv('umbrella', [`u${i}@umbrella.com,U,${i},New`], { name: 'list.csv', at: day(i, 1) }),
      );
    }
    const resolution = await queries.resolveImport('umbrella', { fileName: 'list.csv' });
    expect(resolution).toMatchObject({ kind: 'ambiguous', more: true });
    expect(numbersOf(resolution)).toEqual([5, 4, 3]);
    expect(MAX_CANDIDATES).toBe(3);
    // Exactly three matches: all offered, nothing more.
    const three = await queries.resolveImport('umbrella', { fileName: 'list.csv', from: day(3, 1) });
    expect(three).toMatchObject({ kind: 'ambiguous', more: false });
    expect(numbersOf(three)).toEqual([5, 4, 3]);
  });

  it('shows a running import whose heartbeat stopped long ago as failed, when listing and resolving', async () => {
    const stale = await importCsv('initrode', ['x@initrode.com,X,Y,New']);
    await imports().updateOne(
      { _id: stale._id },
      { $set: { status: 'running', 'progress.heartbeatAt': new Date(Date.now() - 24 * 3600_000) } },
    );
    const page = await queries.listImports('initrode', {}, 0, 10);
    expect(page.imports[0]).toMatchObject({
      _id: stale._id,
      status: 'failed',
      error: { code: 'interrupted' },
    });

    await imports().updateOne(
      { _id: stale._id },
      { $set: { status: 'running', 'progress.heartbeatAt': new Date(Date.now() - 24 * 3600_000) } },
    );
    const resolution = await queries.resolveImport('initrode', {});
    expect(resolution).toMatchObject({ kind: 'found', record: { status: 'failed' } });
  });
});

describe('HistoryQueries.problemRows', () => {
  beforeAll(reset);

  it('pages the ignored and failed rows in row order across chunk boundaries, with their reasons', async () => {
    // batchSize 2: chunks hold rows 2-3, 4-5, 6-7, 8.
    const record = await importCsv('acme', [
      'ok1@acme.com,Ok,One,New', // row 2
      'bad-address,Bad,Address,New', // row 3: invalid email
      'odd@acme.com,Odd,Status,Promote', // row 4: unknown status
      'ok2@acme.com,Ok,Two,New', // row 5
      'ghost@acme.com,Ghost,,Update', // row 6: update of an unknown user
      'ok3@acme.com,Ok,Three,New', // row 7
      'gone@acme.com,,,Delete', // row 8: delete of an unknown user
    ]);
    expect(record.outcomes).toMatchObject({ created: 3, ignored: 4 });
    expect(await t.db.collection(IMPORT_ROWS_COLLECTION).countDocuments({ importId: record._id })).toBe(4);

    const first = await queries.problemRows(record, 0, 2);
    expect(first.total).toBe(4);
    expect(first.rows).toEqual([
      expect.objectContaining({ row: 3, email: 'bad-address', outcome: 'ignored', code: 'invalid-email' }),
      expect.objectContaining({ row: 4, email: 'odd@acme.com', outcome: 'ignored', code: 'unknown-status' }),
    ]);
    expect(first.rows[0]?.reason).toBe('"bad-address" is not a valid email address.');
    expect(first.rows[1]?.reason).toMatch(/User Status "Promote"/);

    const second = await queries.problemRows(record, 2, 2);
    expect(second.rows.map((r) => [r.row, r.code, r.action])).toEqual([
      [6, 'not-found', 'update'],
      [8, 'not-found', 'delete'],
    ]);
    expect(second.rows[0]?.reason).toBe('Update skipped: no user with this email in the account.');

    // A page that straddles chunks, one past the end, and an empty one.
    expect((await queries.problemRows(record, 1, 2)).rows.map((r) => r.row)).toEqual([4, 6]);
    expect((await queries.problemRows(record, 3, 10)).rows.map((r) => r.row)).toEqual([8]);
    expect(await queries.problemRows(record, 4, 10)).toEqual({ rows: [], total: 4 });
    expect(await queries.problemRows(record, 0, 0)).toEqual({ rows: [], total: 4 });
  });

  it('orders rows by chunk sequence, not by the order chunks were stored', async () => {
    const history = new ImportHistory(t.db);
    const record = await history.create({
      _id: 'imp_outoforder1',
      accountId: 'acme',
      by: 'admin',
      createdAt: new Date(),
      status: 'completed',
      file: { name: 'x.csv', bytes: 1, sha256: 'b'.repeat(64), encoding: 'utf-8', delimiter: ',', rows: 6 },
      columns: { email: 'Email ID' },
      ignoredColumns: [],
      options: { defaultStatus: null, createMissingOnUpdate: false, mapping: {} },
      outcomes: { ...emptyOutcomes(), ignored: 3, failed: 1, created: 2 },
      problemCounts: {},
      invitations: 0,
      activationNotices: 0,
      progress: { rowsDone: 6, batchesDone: 3, heartbeatAt: new Date() },
    });
    const row = (n: number, outcome: RowResult['outcome']): RowResult => ({
      row: n,
      email: `r${n}@acme.com`,
      action: 'new',
      outcome,
      ...(outcome === 'failed' ? { reason: 'The database refused the write.' } : {}),
    });
    const chunks = t.db.collection<RowResultChunk>(IMPORT_ROWS_COLLECTION);
    for (const [seq, rows] of [
      [2, [row(6, 'ignored'), row(7, 'created')]],
      [0, [row(2, 'ignored'), row(3, 'created')]],
      [1, [row(4, 'failed'), row(5, 'ignored')]],
    ] as const) {
      await chunks.insertOne({ _id: `${record._id}:${seq}`, importId: record._id, seq, rows: [...rows] });
    }
    const page = await queries.problemRows(record, 0, 10);
    expect(page.total).toBe(4);
    expect(page.rows.map((r) => [r.row, r.outcome])).toEqual([
      [2, 'ignored'],
      [4, 'failed'],
      [5, 'ignored'],
      [6, 'ignored'],
    ]);
    expect(page.rows[1]?.reason).toBe('The database refused the write.');
  });
});

describe('HistoryQueries.userHistory', () => {
  let created: ImportRecord;
  let updated: ImportRecord;
  let ignored: ImportRecord;

  beforeAll(async () => {
    await reset();
    created = await importCsv('acme', ['pat@acme.com,Pat,Smith,New', 'sam@acme.com,Sam,Jones,New']);
    // Pat's row is in this import's second chunk (batchSize 2).
    updated = await importCsv(
      'acme',
      ['sam@acme.com,Samuel,,Update', 'x@acme.com,X,Y,New', 'PAT@acme.com,Patricia,,Update'],
      {
        name: 'changes.csv',
        by: 'Bob Boss',
      },
    );
    await importCsv('acme', ['sam@acme.com,Sammy,,Update']); // nothing about Pat
    ignored = await importCsv('acme', ['pat@acme.com,Pat,Smith,Promote']);
    // Another account with a user of the same address.
    await importCsv('globex', ['pat@acme.com,Other,Pat,New']);
  });

  it('lists what each of the account’s imports did with the user, newest first, and the user now', async () => {
    const history = await queries.userHistory('acme', '  PAT@Acme.com ');
    expect(history.email).toBe('pat@acme.com');
    expect(history.total).toBe(3);
    expect(history.entries.map((e) => [e.number, e.importId, e.row.outcome])).toEqual([
      [4, ignored._id, 'ignored'],
      [2, updated._id, 'updated'],
      [1, created._id, 'created'],
    ]);
    expect(history.entries[0]?.row).toMatchObject({ row: 2, code: 'unknown-status', email: 'pat@acme.com' });
    expect(history.entries[1]).toMatchObject({
      fileName: 'changes.csv',
      by: 'Bob Boss',
      createdAt: updated.createdAt,
      row: { row: 4, action: 'update', changes: { firstName: { old: 'Pat', new: 'Patricia' } } },
    });
    expect(history.entries[2]).toMatchObject({ fileName: 'users.csv', by: 'Ann Admin', row: { row: 2 } });
    expect(history.user).toMatchObject({
      accountId: 'acme',
      email: 'pat@acme.com',
      firstName: 'Patricia',
      lastName: 'Smith',
      status: 'invited',
    });
  });

  it('pages the entries, keeping the total', async () => {
    const firstTwo = await queries.userHistory('acme', 'pat@acme.com', 2);
    expect(firstTwo.entries.map((e) => e.number)).toEqual([4, 2]);
    expect(firstTwo.total).toBe(3);
    const rest = await queries.userHistory('acme', 'pat@acme.com', 2, 2);
    expect(rest.entries.map((e) => e.number)).toEqual([1]);
    expect(rest.total).toBe(3);
  });

  it('keeps to the account, and knows nothing of an address no import named', async () => {
    const globex = await queries.userHistory('globex', 'pat@acme.com');
    expect(globex.entries.map((e) => [e.number, e.row.outcome])).toEqual([[1, 'created']]);
    expect(globex.user).toMatchObject({ accountId: 'globex', firstName: 'Other' });

    expect(await queries.userHistory('acme', 'nobody@acme.com')).toEqual({
      email: 'nobody@acme.com',
      user: null,
      entries: [],
      total: 0,
    });
    expect(await queries.userHistory('initech', 'pat@acme.com')).toEqual({
      email: 'pat@acme.com',
      user: null,
      entries: [],
      total: 0,
    });
  });
});
