import { Collection } from 'mongodb';
import {
  IMPORT_JOBS_COLLECTION,
  IMPORT_ROWS_COLLECTION,
  IMPORT_UNDO_LOCKS_COLLECTION,
  IMPORTS_COLLECTION,
} from '../../services/db/collectionNames';
import { isAppError } from '../../services/errors';
import { HistoryQueries } from '../../services/history/historyQueries';
import type { ImportRecord, RowResult, RowResultChunk } from '../../services/history/importRecord';
import { emptyOutcomes } from '../../services/history/importRecord';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { CHANGED_SINCE, ImportUndo } from '../../services/import/importUndo';
import { ImportJobQueue } from '../../services/jobs/importJobQueue';
import { invitationStatus } from '../../services/notifications/invitationStatus';
import { mailSummary } from '../../services/notifications/mailSummary';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const HEADER = 'Email ID,First Name,Last Name,Title,Department,User Status';
const DAY = 24 * 60 * 60 * 1000;

let t: TestDatabase;
let service: ImportService;
let undo: ImportUndo;
let queries: HistoryQueries;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 5_000_000, batchSize: 2 });
  undo = service.undo;
  queries = new HistoryQueries(t.db, service.history);
});
afterAll(async () => t.close());

beforeEach(async () => {
  for (const name of [
    USERS_COLLECTION,
    IMPORTS_COLLECTION,
    IMPORT_ROWS_COLLECTION,
    IMPORT_JOBS_COLLECTION,
    IMPORT_UNDO_LOCKS_COLLECTION,
  ]) {
    await t.db.collection(name).deleteMany({});
  }
});

const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);
const imports = () => t.db.collection<ImportRecord>(IMPORTS_COLLECTION);

async function importCsv(rows: string[], accountId = 'acme', name = 'users.csv'): Promise<ImportRecord> {
  const csv = [HEADER, ...rows].join('\r\n') + '\r\n';
  return service.commit(fileSourceFromBuffer(name, Buffer.from(csv)), accountId, {}, { by: 'Ann Admin' });
}

async function user(email: string, accountId = 'acme'): Promise<UserDocument> {
  const found = await users().findOne({ accountId, email });
  if (!found) throw new Error(`no user ${email}`);
  return found;
}

async function rowsOf(importId: string): Promise<RowResult[]> {
  const rows: RowResult[] = [];
  for await (const row of service.history.rowResults(importId)) rows.push(row);
  return rows;
}

/** The code of the AppError `promise` rejects with, and its message. */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    if (isAppError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('ImportUndo: what an import did is reversed', () => {
  it('soft-deletes the users an import created and cancels their waiting messages, leaving sent ones', async () => {
    const first = await importCsv([
      'ann@acme.com,Ann,A,,,New',
      'bob@acme.com,Bob,B,,,Activate',
      'cy@acme.com,Cy,C,,,New',
    ]);
    expect(first.outcomes.created).toBe(3);
    // Cy's invitation went out already.
    await users().updateOne(
      { email: 'cy@acme.com' },
      { $set: { 'invitation.state': 'sent', 'invitation.sentAt': new Date(), mailDue: false } },
    );

    const plan = await undo.plan('acme', '#1');
    expect(plan.import).toMatchObject({
      importId: first._id,
      number: 1,
      fileName: 'users.csv',
      by: 'Ann Admin',
    });
    expect(plan.counts).toMatchObject({
      deleteCreated: 3,
      restoreFields: 0,
      cancelInvitations: 1,
      cancelActivationNotices: 1,
    });
    expect(plan.rows).toBe(3);
    expect(plan.conflicts).toEqual([]);
    // A plan writes nothing.
    expect((await user('ann@acme.com')).status).toBe('invited');
    expect(await imports().countDocuments()).toBe(1);

    const result = await undo.apply('acme', first._id, 'Ann Admin');
    expect(result.record).toMatchObject({
      number: 2,
      status: 'completed',
      by: 'Ann Admin',
      undoOf: { importId: first._id, number: 1 },
      file: { name: 'Undo of #1 users.csv', rows: 3 },
    });
    expect(result.record.outcomes).toEqual({ ...emptyOutcomes(), deleted: 3 });

    for (const email of ['ann@acme.com', 'bob@acme.com', 'cy@acme.com']) {
      const u = await user(email);
      expect(u.status).toBe('deleted');
      expect(u.deletedAt).toBeInstanceOf(Date);
    }
    const ann = await user('ann@acme.com');
    expect(ann.invitation?.state).toBe('cancelled');
    expect(ann.mailDue).toBe(false);
    expect((await user('bob@acme.com')).activationNotice?.state).toBe('cancelled');
    expect((await user('cy@acme.com')).invitation?.state).toBe('sent');

    // Cancelled messages are counted nowhere as waiting.
    expect(await mailSummary(t.db, 'acme', first._id)).toEqual({
      invitations: { pending: 0, sent: 1, failed: 0 },
      activationNotices: { pending: 0, sent: 0, failed: 0 },
    });
    const status = await invitationStatus(t.db, 'acme', { importId: first._id }, { skip: 0, limit: 10 });
    expect(status.counts).toMatchObject({ pending: 0, sent: 1, failed: 0, total: 1 });
    expect(status.people.map((p) => p.email)).toEqual(['cy@acme.com']);
    expect(await users().countDocuments({ mailDue: true })).toBe(0);

    const original = await service.history.get(first._id);
    expect(original.undoneBy).toMatchObject({ importId: result.record._id, number: 2 });
    expect((await rowsOf(result.record._id)).find((r) => r.email === 'ann@acme.com')).toEqual({
      row: 2,
      email: 'ann@acme.com',
      action: null,
      outcome: 'deleted',
      status: { old: 'invited', new: 'deleted' },
      cancelled: 'invitation',
    });
  });

  it('restores changed fields to their old values, removing those that were empty before', async () => {
    await importCsv(['ann@acme.com,Ann,A,,Sales,New', 'bob@acme.com,Bob,B,Clerk,,New']);
    const second = await importCsv([
      'ann@acme.com,Annie,,Lead,Ops,Update',
      'bob@acme.com,,,Manager,,Update',
      'cy@acme.com,Cy,C,,,New',
    ]);
    expect(second.outcomes).toMatchObject({ updated: 2, created: 1 });

    const plan = await undo.plan('acme', '2');
    expect(plan.counts).toMatchObject({ restoreFields: 2, deleteCreated: 1, cancelInvitations: 1 });
    const result = await undo.apply('acme', '#2', 'Ann Admin');
    expect(result.record.outcomes).toEqual({ ...emptyOutcomes(), updated: 2, deleted: 1 });

    const ann = await user('ann@acme.com');
    expect(ann).toMatchObject({ firstName: 'Ann', lastName: 'A', department: 'Sales', status: 'invited' });
    expect(ann).not.toHaveProperty('title');
    expect(await user('bob@acme.com')).toMatchObject({ title: 'Clerk', status: 'invited' });
    expect((await user('cy@acme.com')).status).toBe('deleted');
    // The invitations of the first import are not the second's to cancel.
    expect(ann.invitation?.state).toBe('pending');

    const annRow = (await rowsOf(result.record._id)).find((r) => r.email === 'ann@acme.com');
    expect(annRow).toMatchObject({
      outcome: 'updated',
      changes: {
        firstName: { old: 'Annie', new: 'Ann' },
        title: { old: 'Lead', new: null },
        department: { old: 'Ops', new: 'Sales' },
      },
    });
    expect(annRow).not.toHaveProperty('status');
  });

  it('restores deleted users to the status they had, and reverts activations', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New', 'bob@acme.com,Bob,B,,,Activate', 'cy@acme.com,Cy,C,,,New']);
    const deletes = await importCsv(['ann@acme.com,,,,,Delete', 'bob@acme.com,,,,,Delete']);
    expect(deletes.outcomes.deleted).toBe(2);
    const activation = await importCsv(['cy@acme.com,,,Boss,,Activate']);
    expect(activation.outcomes.activated).toBe(1);

    expect((await undo.plan('acme', '#2')).counts).toMatchObject({ restoreDeleted: 2 });
    await undo.apply('acme', '#2', 'Ann Admin');
    const ann = await user('ann@acme.com');
    expect(ann.status).toBe('invited');
    expect(ann).not.toHaveProperty('deletedAt');
    expect((await user('bob@acme.com')).status).toBe('active');

    const plan = await undo.plan('acme', '#3');
    expect(plan.counts).toMatchObject({ revertActivations: 1, restoreFields: 1, cancelActivationNotices: 1 });
    const result = await undo.apply('acme', '#3', 'Ann Admin');
    expect(result.record.number).toBe(5);
    const cy = await user('cy@acme.com');
    expect(cy.status).toBe('invited');
    expect(cy).not.toHaveProperty('activatedAt');
    expect(cy).not.toHaveProperty('title');
    expect(cy.activationNotice?.state).toBe('cancelled');
    // Cy's invitation from the first import is untouched.
    expect(cy.invitation?.state).toBe('pending');
    expect(cy.mailDue).toBe(true);
  });

  it('leaves alone, and lists, what changed again since; restores the rest', async () => {
    await importCsv(['ann@acme.com,Ann,A,Clerk,Sales,New', 'bob@acme.com,Bob,B,Clerk,,New']);
    await importCsv(['ann@acme.com,,,Lead,Ops,Update', 'bob@acme.com,,,Manager,,Update']);
    await importCsv(['ann@acme.com,,,,Finance,Update']);

    const plan = await undo.plan('acme', '#2');
    expect(plan.conflicts).toEqual([
      { row: 2, email: 'ann@acme.com', field: 'department', recorded: 'Ops', current: 'Finance' },
    ]);
    expect(plan.conflictsTotal).toBe(1);
    expect(plan.counts.restoreFields).toBe(2);

    const result = await undo.apply('acme', '#2', 'Ann Admin');
    expect(result.conflicts).toEqual(plan.conflicts);
    expect(await user('ann@acme.com')).toMatchObject({ title: 'Clerk', department: 'Finance' });
    expect((await user('bob@acme.com')).title).toBe('Clerk');
    const annRow = (await rowsOf(result.record._id)).find((r) => r.email === 'ann@acme.com');
    expect(annRow?.changes).toEqual({ title: { old: 'Lead', new: 'Clerk' } });
    expect(annRow?.reason).toMatch(/department is now "Finance" \(#2 set "Ops"\)/);
  });

  it('skips a created user whose status changed since, recording the row as changed since', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New', 'bob@acme.com,Bob,B,,,New']);
    await importCsv(['bob@acme.com,,,,,Activate']);

    const plan = await undo.plan('acme', '#1');
    expect(plan.counts.deleteCreated).toBe(1);
    expect(plan.conflicts).toEqual([
      { row: 3, email: 'bob@acme.com', field: 'status', recorded: 'invited', current: 'active' },
    ]);
    const result = await undo.apply('acme', '#1', 'Ann Admin');
    expect(result.record.outcomes).toEqual({ ...emptyOutcomes(), deleted: 1, ignored: 1 });
    expect(result.record.problemCounts).toEqual({ [CHANGED_SINCE]: 1 });
    expect((await user('bob@acme.com')).status).toBe('active');
    expect((await user('ann@acme.com')).status).toBe('deleted');
    const problems = await queries.problemRows(result.record, 0, 10);
    expect(problems.rows).toEqual([
      expect.objectContaining({ email: 'bob@acme.com', outcome: 'ignored', code: CHANGED_SINCE }),
    ]);
  });

  it('does not overwrite an edit made between its read and its write, and lists it', async () => {
    await importCsv(['ann@acme.com,Ann,A,Clerk,,New', 'bob@acme.com,Bob,B,Clerk,,New']);
    await importCsv(['ann@acme.com,,,Lead,,Update', 'bob@acme.com,,,Lead,,Update']);
    const realBulkWrite = Collection.prototype.bulkWrite;
    let edited = false;
    const spy = jest.spyOn(Collection.prototype, 'bulkWrite').mockImplementation(async function (
      this: Collection,
      ...args: Parameters<Collection['bulkWrite']>
    ) {
      if (!edited && this.collectionName === USERS_COLLECTION) {
        edited = true;
        // Someone edits Ann after the undo read her and before its write.
        await users().updateOne({ email: 'ann@acme.com' }, { $set: { title: 'Director' } });
      }
      return realBulkWrite.apply(this, args);
    });
    let result;
    try {
      result = await undo.apply('acme', '#2', 'Ann Admin');
    } finally {
      spy.mockRestore();
    }
    expect(edited).toBe(true);
    expect((await user('ann@acme.com')).title).toBe('Director');
    expect((await user('bob@acme.com')).title).toBe('Clerk');
    expect(result.conflicts).toEqual([
      { row: 2, email: 'ann@acme.com', field: 'title', recorded: 'Lead', current: 'Director' },
    ]);
    expect(result.record.outcomes).toEqual({ ...emptyOutcomes(), updated: 1, ignored: 1 });
    const annRow = (await rowsOf(result.record._id)).find((r) => r.email === 'ann@acme.com');
    expect(annRow).toMatchObject({ outcome: 'ignored', code: CHANGED_SINCE });
  });

  it('reads the status change of rows recorded before statuses were kept', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,Activate', 'bob@acme.com,Bob,B,,,New']);
    const deletes = await importCsv(['ann@acme.com,,,,,Delete', 'bob@acme.com,,,,,Delete']);
    // As an older version recorded them: no status on the rows.
    const chunks = t.db.collection<RowResultChunk>(IMPORT_ROWS_COLLECTION);
    for (const chunk of await chunks.find({ importId: deletes._id }).toArray()) {
      const rows = chunk.rows.map(({ status: _status, ...rest }) => rest);
      await chunks.updateOne({ _id: chunk._id }, { $set: { rows } });
    }
    expect((await rowsOf(deletes._id)).every((r) => r.status === undefined)).toBe(true);

    await undo.apply('acme', '#2', 'Ann Admin');
    expect((await user('ann@acme.com')).status).toBe('active');
    expect((await user('bob@acme.com')).status).toBe('invited');
  });
});

describe('ImportUndo: undoing an undo', () => {
  it('applies the original effects again, queues the cancelled messages again, and frees the import', async () => {
    const first = await importCsv(['ann@acme.com,Ann,A,,,New', 'bob@acme.com,Bob,B,,,New']);
    await importCsv(['bob@acme.com,,,Lead,,Update']);
    const firstUndo = await undo.apply('acme', '#1', 'Ann Admin');
    expect(firstUndo.record.number).toBe(3);
    expect((await user('ann@acme.com')).invitation?.state).toBe('cancelled');

    const plan = await undo.plan('acme', '#3');
    expect(plan.import.undoOf).toEqual({ importId: first._id, number: 1 });
    expect(plan.counts).toMatchObject({ restoreDeleted: 2, requeueMessages: 2 });
    const redo = await undo.apply('acme', '#3', 'Bob Boss');
    expect(redo.record).toMatchObject({
      number: 4,
      by: 'Bob Boss',
      file: { name: 'Undo of #3 Undo of #1 users.csv' },
      invitations: 2,
    });
    expect(redo.record.outcomes).toEqual({ ...emptyOutcomes(), created: 2 });

    const ann = await user('ann@acme.com');
    expect(ann.status).toBe('invited');
    expect(ann).not.toHaveProperty('deletedAt');
    expect(ann.invitation).toMatchObject({ state: 'pending', importId: redo.record._id });
    expect(ann.mailDue).toBe(true);
    expect(await user('bob@acme.com')).toMatchObject({ status: 'invited', title: 'Lead' });

    // #1 stands again and may be undone once more; #3 is undone by #4.
    expect((await service.history.get(first._id)).undoneBy).toBeUndefined();
    expect((await service.history.get(firstUndo.record._id)).undoneBy).toMatchObject({
      importId: redo.record._id,
      number: 4,
    });
    await expect(undo.apply('acme', '#3', 'Ann Admin')).rejects.toMatchObject({
      code: 'undo-already-undone',
    });
    const again = await undo.apply('acme', '#1', 'Ann Admin');
    expect(again.record.number).toBe(5);
    expect((await user('ann@acme.com')).status).toBe('deleted');
    // The invitation #4 queued is cancelled with the user it was for.
    expect((await user('ann@acme.com')).invitation?.state).toBe('cancelled');
  });

  it('restores the fields an undo removed when that undo is undone', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New']);
    await importCsv(['ann@acme.com,,,Lead,,Update']);
    await undo.apply('acme', '#2', 'Ann Admin');
    expect(await user('ann@acme.com')).not.toHaveProperty('title');
    await undo.apply('acme', '#3', 'Ann Admin');
    expect((await user('ann@acme.com')).title).toBe('Lead');
  });
});

describe('ImportUndo: refusals write nothing', () => {
  async function snapshot() {
    return {
      users: await users()
        .find({}, { sort: { email: 1 } })
        .toArray(),
      imports: await imports()
        .find({}, { sort: { number: 1 } })
        .toArray(),
    };
  }

  it('refuses an import outside the window, naming when it ran, the window and the setting', async () => {
    const first = await importCsv(['ann@acme.com,Ann,A,,,New']);
    const before = await snapshot();
    const late = new Date(first.createdAt.getTime() + 15 * DAY);
    const refused = await refusal(undo.apply('acme', '#1', 'Ann Admin', late));
    expect(refused.code).toBe('undo-window-passed');
    expect(refused.message).toContain(first.createdAt.toISOString());
    expect(refused.message).toMatch(/15 days ago; imports can be undone for 14 days .*UNDO_WINDOW_DAYS/);
    expect(await snapshot()).toEqual(before);

    // Within the window (and with a longer one) it is allowed.
    const wider = new ImportUndo(t.db, service.history, { windowDays: 30 });
    expect((await wider.plan('acme', '#1', late)).counts.deleteCreated).toBe(1);
    expect((await undo.plan('acme', '#1', new Date(first.createdAt.getTime() + 13 * DAY))).rows).toBe(1);
  });

  it('refuses a second undo of the same import, naming the first', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New']);
    await undo.apply('acme', '#1', 'Ann Admin');
    const before = await snapshot();
    const refused = await refusal(undo.plan('acme', '#1'));
    expect(refused.code).toBe('undo-already-undone');
    expect(refused.message).toMatch(/already undone by #2/);
    await expect(undo.apply('acme', '#1', 'Ann Admin')).rejects.toMatchObject({
      code: 'undo-already-undone',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('lets only one of two undos started at once apply', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New', 'bob@acme.com,Bob,B,,,New']);
    const outcomes = await Promise.allSettled([
      undo.apply('acme', '#1', 'Ann Admin'),
      undo.apply('acme', '#1', 'Bob Boss'),
    ]);
    const done = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as { code?: string }] : []));
    expect(done).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(['undo-already-undone', 'import-busy']).toContain(refused[0]?.code);
    expect(await imports().countDocuments({ undoOf: { $exists: true } })).toBe(1);
    expect(await users().countDocuments({ status: 'deleted' })).toBe(2);
  });

  it('records a failed undo as failed and lets the import be undone again', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New', 'bob@acme.com,Bob,B,,,New']);
    // The first write to the users collection fails, as if the server went away in the middle of the undo.
    const original = Collection.prototype.updateMany;
    let failed = false;
    const spy = jest.spyOn(Collection.prototype, 'updateMany').mockImplementation(function (
      this: Collection,
      ...args: Parameters<Collection['updateMany']>
    ) {
      if (this.collectionName === 'users' && !failed) {
        failed = true;
        return Promise.reject(new Error('the server went away'));
      }
      return original.apply(this, args);
    });
    try {
      await expect(undo.apply('acme', '#1', 'Ann Admin')).rejects.toThrow('the server went away');
    } finally {
      spy.mockRestore();
    }
    expect(failed).toBe(true);
    const failedUndo = await imports().findOne({ number: 2 });
    expect(failedUndo).toMatchObject({ status: 'failed', error: { message: 'the server went away' } });
    expect((await imports().findOne({ number: 1 }))?.undoneBy).toBeUndefined();
    expect((await user('ann@acme.com')).status).toBe('invited');

    const retried = await undo.apply('acme', '#1', 'Ann Admin');
    expect(retried.record).toMatchObject({ number: 3, status: 'completed' });
    expect(await users().countDocuments({ status: 'deleted' })).toBe(2);
  });

  it('takes over the lock of an undo that crashed', async () => {
    const first = await importCsv(['ann@acme.com,Ann,A,,,New']);
    // A crashed undo: it took the lock and marked the import, and was later marked failed (interrupted).
    await t.db
      .collection(IMPORT_UNDO_LOCKS_COLLECTION)
      .insertOne({ _id: first._id as never, accountId: 'acme', undoId: 'imp_crashed', at: new Date() });
    await imports().insertOne({
      ...(await service.history.get(first._id)),
      _id: 'imp_crashed',
      number: 2,
      status: 'failed',
      undoOf: { importId: first._id, number: 1 },
    });
    await imports().updateOne(
      { _id: first._id },
      { $set: { undoneBy: { importId: 'imp_crashed', number: 2, at: new Date() } } },
    );
    const result = await undo.apply('acme', '#1', 'Ann Admin');
    expect(result.record.number).toBe(3);
    expect((await service.history.get(first._id)).undoneBy?.importId).toBe(result.record._id);
    expect((await user('ann@acme.com')).status).toBe('deleted');
  });

  it('refuses another account’s import and references that name nothing', async () => {
    const acme = await importCsv(['ann@acme.com,Ann,A,,,New']);
    await importCsv(['gil@globex.com,Gil,G,,,New'], 'globex');
    const before = await snapshot();
    expect((await refusal(undo.plan('globex', acme._id))).code).toBe('import-not-found');
    expect((await refusal(undo.apply('globex', acme._id, 'Gil Admin'))).code).toBe('import-not-found');
    expect((await refusal(undo.apply('acme', '#7', 'Ann Admin'))).message).toMatch(
      /no import #7 in account acme/,
    );
    expect((await refusal(undo.plan('acme', 'users.csv'))).code).toBe('import-not-found');
    expect(await snapshot()).toEqual(before);
    // Globex's own #1 is its own import.
    expect((await undo.plan('globex', '#1')).import.fileName).toBe('users.csv');
  });

  it('refuses a running import, and any undo while another import of the account runs', async () => {
    const first = await importCsv(['ann@acme.com,Ann,A,,,New']);
    const second = await importCsv(['bob@acme.com,Bob,B,,,New']);
    await imports().updateOne(
      { _id: second._id },
      { $set: { status: 'running', 'progress.heartbeatAt': new Date() }, $unset: { finishedAt: '' } },
    );
    const before = await snapshot();
    const running = await refusal(undo.apply('acme', '#2', 'Ann Admin'));
    expect(running.code).toBe('undo-import-running');
    const busy = await refusal(undo.apply('acme', '#1', 'Ann Admin'));
    expect(busy.code).toBe('import-busy');
    expect(busy.message).toMatch(/#2, users\.csv\) is running/);
    expect(await snapshot()).toEqual(before);

    await service.history.finish(second._id, 'completed');
    const queue = new ImportJobQueue(t.db);
    await queue.enqueue({
      accountId: 'acme',
      uploadId: 'upl_x',
      fileName: 'next.csv',
      options: {},
      by: 'Ann Admin',
      replyTo: '{}',
    });
    const queued = await refusal(undo.apply('acme', first._id, 'Ann Admin'));
    expect(queued.code).toBe('import-busy');
    expect(queued.message).toMatch(/"next\.csv" is waiting to start/);
    expect((await user('ann@acme.com')).status).toBe('invited');
  });

  it('refuses to apply an undo that would change nothing', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New']);
    await importCsv(['ann@acme.com,Ann,A,,,New']);
    const plan = await undo.plan('acme', '#2');
    expect(plan.rows).toBe(0);
    const refused = await refusal(undo.apply('acme', '#2', 'Ann Admin'));
    expect(refused.code).toBe('undo-nothing-to-do');
    expect(refused.message).toMatch(/import #2 changed no users/);
    expect(await imports().countDocuments()).toBe(2);
  });
});

describe('ImportUndo in history', () => {
  it('is listed with its own number and counts, can be named, and shows in a user’s history', async () => {
    await importCsv(['ann@acme.com,Ann,A,,,New', 'bob@acme.com,Bob,B,,,New']);
    const result = await undo.apply('acme', '#1', 'Ann Admin');

    const page = await queries.listImports('acme', {}, 0, 10);
    expect(page.imports.map((r) => [r.number, r.file.name])).toEqual([
      [2, 'Undo of #1 users.csv'],
      [1, 'users.csv'],
    ]);
    expect(page.totals).toEqual({ ...emptyOutcomes(), created: 2, deleted: 2 });
    const found = await queries.resolveImport('acme', { importRef: '#2' });
    expect(found.kind === 'found' && found.record._id).toBe(result.record._id);

    const history = await queries.userHistory('acme', 'ann@acme.com');
    expect(history.user?.status).toBe('deleted');
    expect(history.entries.map((e) => [e.number, e.row.outcome])).toEqual([
      [2, 'deleted'],
      [1, 'created'],
    ]);
  });
});
