import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import { isAppError } from '../../services/errors';
import { countResults } from '../../services/history/importHistory';
import { OUTCOMES, type ImportRecord, type RowResultChunk } from '../../services/history/importRecord';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const HEADER = 'Email ID,First Name,Last Name,User Status';
const ACCOUNT = 'acme';
const BATCH = 5;

let t: TestDatabase;
let service: ImportService;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: BATCH });
});
afterAll(async () => t.close());
beforeEach(async () => {
  for (const name of [USERS_COLLECTION, IMPORTS_COLLECTION, IMPORT_ROWS_COLLECTION]) {
    await t.db.collection(name).deleteMany({});
  }
});

const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);
const imports = () => t.db.collection<ImportRecord>(IMPORTS_COLLECTION);
const chunks = () => t.db.collection<RowResultChunk>(IMPORT_ROWS_COLLECTION);

function csv(name: string, rows: string[]): FileSource {
  return fileSourceFromBuffer(name, Buffer.from([HEADER, ...rows].join('\r\n') + '\r\n'));
}

/**
 * 23 data rows (5 batches of 5): 18 new users, 2 existing users updated, one activated, one bad email and
 * one duplicate whose later row wins.
 */
function mixedFile(): FileSource {
  const rows: string[] = [];
  for (let i = 0; i < 18; i++) rows.push(`new${i}@acme.com,New,User${i},New`);
  rows.splice(3, 0, 'old0@acme.com,Renamed,Zero,Update');
  rows.splice(8, 0, 'not-an-email,Bad,Row,New');
  rows.splice(12, 0, 'old1@acme.com,Renamed,One,Update');
  rows.splice(15, 0, 'old2@acme.com,,,Activate');
  rows.push('new0@acme.com,Later,Wins,New');
  return csv('mixed.csv', rows);
}

async function seed(): Promise<void> {
  await service.commit(
    csv('seed.csv', ['old0@acme.com,Old,Zero,New', 'old1@acme.com,Old,One,New', 'old2@acme.com,Old,Two,New']),
    ACCOUNT,
    {},
    { by: 'admin' },
  );
}

/** Commits until `batches` batches are recorded, then dies the way a crashed process leaves things. */
async function crashAfter(source: FileSource, importId: string, batches: number): Promise<void> {
  const crash = new Error('simulated crash');
  await expect(
    service.commit(
      source,
      ACCOUNT,
      {},
      {
        by: 'admin',
        importId,
        onProgress: ({ rowsDone }) => {
          if (rowsDone >= batches * BATCH) throw crash;
        },
      },
    ),
  ).rejects.toBe(crash);
  // A dead process never gets to mark its import failed: it stays running with an old heartbeat.
  await imports().updateOne(
    { _id: importId },
    { $set: { status: 'running' }, $unset: { finishedAt: '', error: '' } },
  );
}

/** Undoes the counters of the import's last recorded batch, as if the process died right before them. */
async function uncountLastBatch(importId: string): Promise<RowResultChunk> {
  const record = await service.history.get(importId);
  const seq = record.progress.batchesDone - 1;
  const chunk = await chunks().findOne({ _id: `${importId}:${seq}` });
  if (!chunk) throw new Error('no such chunk');
  const counts = countResults(chunk.rows);
  const inc: Record<string, number> = {
    'progress.rowsDone': -chunk.rows.length,
    'progress.batchesDone': -1,
    invitations: -counts.invitations,
    activationNotices: -counts.activationNotices,
  };
  for (const [outcome, n] of Object.entries(counts.outcomes)) if (n) inc[`outcomes.${outcome}`] = -n;
  for (const [code, n] of Object.entries(counts.problems)) if (n) inc[`problemCounts.${code}`] = -n;
  await imports().updateOne({ _id: importId }, { $inc: inc });
  return chunk;
}

async function rowResults(importId: string) {
  const rows = [];
  for await (const row of service.history.rowResults(importId)) rows.push(row);
  return rows;
}

/** What must hold after any interrupted-then-resumed import of {@link mixedFile}. */
async function expectCompleteMixedImport(record: ImportRecord): Promise<void> {
  expect(record.status).toBe('completed');
  expect(record.error).toBeUndefined();
  expect(record.finishedAt).toBeInstanceOf(Date);
  expect(record.progress).toMatchObject({ rowsDone: 23, batchesDone: 5 });

  // Every row has exactly one result, in order, and the counters are exactly those of the stored results.
  const rows = await rowResults(record._id);
  expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 23 }, (_, i) => i + 2));
  const counted = countResults(rows);
  expect(record.outcomes).toEqual(counted.outcomes);
  expect(record.invitations).toBe(counted.invitations);
  expect(record.activationNotices).toBe(counted.activationNotices);
  expect(record.problemCounts).toEqual(counted.problems);
  expect(OUTCOMES.reduce((sum, o) => sum + record.outcomes[o], 0)).toBe(23);

  // The account is as if the file had been imported in one go.
  expect(await users().countDocuments({ accountId: ACCOUNT })).toBe(21);
  expect(await users().findOne({ email: 'new0@acme.com' })).toMatchObject({ firstName: 'Later' });
  expect(await users().findOne({ email: 'old0@acme.com' })).toMatchObject({ firstName: 'Renamed' });
  expect(await users().findOne({ email: 'old1@acme.com' })).toMatchObject({ firstName: 'Renamed' });
  expect(await users().findOne({ email: 'old2@acme.com' })).toMatchObject({ status: 'active' });
  // One invitation per new user, all from this import, and one activation notice.
  expect(await users().countDocuments({ 'invitation.importId': record._id })).toBe(18);
  expect(await users().countDocuments({ 'activationNotice.importId': record._id })).toBe(1);
}

describe('resuming an interrupted commit', () => {
  it('continues after the batches already recorded, applying and recording every row once', async () => {
    await seed();
    const id = 'imp_resume1';
    await crashAfter(mixedFile(), id, 2);
    expect(await users().countDocuments()).toBe(3 + 7); // two batches: 7 new users, an update, 2 ignored
    const before = await users()
      .find({ email: { $regex: /^new/ } })
      .toArray();
    expect(await service.history.get(id)).toMatchObject({ status: 'running', progress: { batchesDone: 2 } });

    const progress: number[] = [];
    const record = await service.commit(
      mixedFile(),
      ACCOUNT,
      {},
      { by: 'admin', importId: id, resume: true, onProgress: (p) => void progress.push(p.rowsDone) },
    );
    // The first report says where it resumed.
    expect(progress).toEqual([10, 15, 20, 23]);
    await expectCompleteMixedImport(record);
    expect(record.outcomes).toMatchObject({
      created: 18,
      updated: 2,
      activated: 1,
      ignored: 2,
      unchanged: 0,
    });
    expect(record.invitations).toBe(18);

    // Users created before the crash were not touched again: their queued invitation is the original one.
    for (const user of before) {
      const now = await users().findOne({ _id: user._id });
      expect(now?.invitation?.queuedAt).toEqual(user.invitation?.queuedAt);
      expect(now?.updatedAt).toEqual(user.updatedAt);
    }
  });

  it('counts a batch stored but not counted, and re-decides one applied but not stored', async () => {
    await seed();
    const id = 'imp_resume2';
    await crashAfter(mixedFile(), id, 3);
    // Batch 2 (rows 12–16) was applied but its results never stored; batch 1 was stored but not counted.
    const lost = await uncountLastBatch(id);
    await chunks().deleteOne({ _id: lost._id });
    await uncountLastBatch(id);
    expect(await service.history.get(id)).toMatchObject({ progress: { batchesDone: 1, rowsDone: 5 } });

    const progress: number[] = [];
    const record = await service.commit(
      mixedFile(),
      ACCOUNT,
      {},
      { by: 'admin', importId: id, resume: true, onProgress: (p) => void progress.push(p.rowsDone) },
    );
    // Batch 1's stored results were counted on reopening, so the resume starts after them.
    expect(progress[0]).toBe(10);
    await expectCompleteMixedImport(record);
    // The re-decided rows found their changes already made: reported unchanged, nothing queued twice.
    const rows = await rowResults(id);
    const redone = rows.filter((r) => r.row >= 12 && r.row <= 16);
    expect(redone.filter((r) => r.outcome !== 'ignored').every((r) => r.outcome === 'unchanged')).toBe(true);
    expect(redone.every((r) => r.notified === undefined)).toBe(true);
    expect(record.outcomes.created + record.outcomes.unchanged).toBe(18 + 1); // old1 renamed in batch 2 too
  });

  it('lines up with the rows already done under another batch size', async () => {
    await seed();
    const id = 'imp_resume3';
    await crashAfter(mixedFile(), id, 2);
    const other = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 4 });
    const record = await other.commit(mixedFile(), ACCOUNT, {}, { by: 'admin', importId: id, resume: true });
    expect(record.status).toBe('completed');
    const rows = await rowResults(id);
    expect(rows.map((r) => r.row)).toEqual(Array.from({ length: 23 }, (_, i) => i + 2));
    expect(record.outcomes).toMatchObject({ created: 18, updated: 2, activated: 1, ignored: 2 });
  });

  it('resumes an import that history already marked interrupted, and clears that', async () => {
    await seed();
    const id = 'imp_resume4';
    await crashAfter(mixedFile(), id, 1);
    await imports().updateOne(
      { _id: id },
      { $set: { 'progress.heartbeatAt': new Date(Date.now() - 2 * 60 * 60 * 1000) } },
    );
    expect((await service.history.list(ACCOUNT)).find((r) => r._id === id)).toMatchObject({
      status: 'failed',
      error: { code: 'interrupted' },
    });
    const record = await service.commit(
      mixedFile(),
      ACCOUNT,
      {},
      { by: 'admin', importId: id, resume: true },
    );
    await expectCompleteMixedImport(record);
  });

  it('stops between batches when aborted, leaving the import running for a later resume', async () => {
    await seed();
    const id = 'imp_resume5';
    const abort = new AbortController();
    const error = await service
      .commit(
        mixedFile(),
        ACCOUNT,
        {},
        {
          by: 'admin',
          importId: id,
          signal: abort.signal,
          onProgress: ({ rowsDone }) => {
            if (rowsDone >= 2 * BATCH) abort.abort();
          },
        },
      )
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isAppError(error, 'import-stopped')).toBe(true);
    expect(await service.history.get(id)).toMatchObject({ status: 'running', progress: { batchesDone: 2 } });
    expect((await service.history.get(id)).error).toBeUndefined();

    const record = await service.commit(
      mixedFile(),
      ACCOUNT,
      {},
      { by: 'admin', importId: id, resume: true },
    );
    await expectCompleteMixedImport(record);
    expect(record.outcomes).toMatchObject({ created: 18, unchanged: 0 });
  });

  it('returns a completed import as it is, and refuses another file or a repeat without resume', async () => {
    const first = await service.commit(mixedFile(), ACCOUNT, {}, { by: 'admin', importId: 'imp_done' });
    const again = await service.commit(
      mixedFile(),
      ACCOUNT,
      {},
      { by: 'someone-else', importId: 'imp_done', resume: true },
    );
    expect(again).toEqual(first);
    expect(await chunks().countDocuments({ importId: 'imp_done' })).toBe(5);

    const duplicate = await service
      .commit(mixedFile(), ACCOUNT, {}, { by: 'admin', importId: 'imp_done' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect((duplicate as { code?: unknown }).code).toBe(11000);

    await crashAfter(mixedFile(), 'imp_partial', 1);
    const otherFile = await service
      .commit(
        csv('other.csv', ['x@acme.com,X,Y,New']),
        ACCOUNT,
        {},
        {
          by: 'admin',
          importId: 'imp_partial',
          resume: true,
        },
      )
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isAppError(otherFile, 'import-not-committable')).toBe(true);
    expect(await service.history.get('imp_partial')).toMatchObject({ status: 'running' });
  });

  it('starts normally when asked to resume an import that never began', async () => {
    const record = await service.commit(
      mixedFile(),
      ACCOUNT,
      {},
      { by: 'admin', importId: 'imp_new', resume: true },
    );
    expect(record).toMatchObject({ _id: 'imp_new', status: 'completed', progress: { rowsDone: 23 } });
  });
});
