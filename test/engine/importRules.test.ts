import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import type { ImportOptions } from '../../services/import/importOptions';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const HEADER = 'Email ID,First Name,Last Name,Alternate ID,Work Phone,Title,Department,User Status';
const ACCOUNT = 'acme';

let t: TestDatabase;
let service: ImportService;
let fileNo = 0;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 4 });
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(USERS_COLLECTION).deleteMany({});
  await t.db.collection('imports').deleteMany({});
  await t.db.collection('importRows').deleteMany({});
});

function csv(...rows: string[]) {
  return fileSourceFromBuffer(`users-${++fileNo}.csv`, Buffer.from([HEADER, ...rows].join('\r\n') + '\r\n'));
}

async function importRows(rows: string[], options: ImportOptions = {}, account = ACCOUNT) {
  return service.commit(csv(...rows), account, options, { by: 'admin@acme.com' });
}

const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);
const user = (email: string) => users().findOne({ accountId: ACCOUNT, email });

describe('a plan', () => {
  it('reports what would happen and writes nothing', async () => {
    const plan = await service.plan(
      csv(
        'jane@acme.com,Jane,Doe,E1,800-555-1212,President,Executive,New',
        'not-an-email,Bob,Ray,,,,,New',
        'sam@acme.com,Sam,Lee,,,,,Update',
      ),
      ACCOUNT,
    );
    expect(plan.file).toMatchObject({ encoding: 'utf-8', delimiter: ',', rows: 3 });
    expect(plan.columns).toMatchObject({ email: 'Email ID', status: 'User Status', workPhone: 'Work Phone' });
    expect(plan.actions).toEqual({ new: 1, update: 0, delete: 0, activate: 0 });
    expect(plan.problems).toEqual([
      expect.objectContaining({ row: 3, code: 'invalid-email' }),
      expect.objectContaining({ row: 4, email: 'sam@acme.com', code: 'not-found' }),
    ]);
    expect(plan.preview[0]).toMatchObject({
      row: 2,
      action: 'new',
      email: 'jane@acme.com',
      title: 'President',
    });
    expect(plan.needs).toContain('create-missing-on-update');
    expect(await users().countDocuments()).toBe(0);
    expect(await t.db.collection('imports').countDocuments()).toBe(0);
  });
});

describe('User Status New', () => {
  it('creates an invited user with one queued invitation, email trimmed and lower-cased', async () => {
    const record = await importRows(['  Jane@ACME.com ,Jane,Doe,E1,800-555-1212,President,Executive, new ']);
    expect(record.outcomes.created).toBe(1);
    expect(record.invitations).toBe(1);
    const jane = await user('jane@acme.com');
    expect(jane).toMatchObject({ status: 'invited', firstName: 'Jane', alternateId: 'E1', mailDue: true });
    expect(jane?.invitation).toMatchObject({ kind: 'invitation', state: 'pending', importId: record._id });
  });

  it('updates an existing user with the non-empty fields and sends no second invitation', async () => {
    const first = await importRows(['jane@acme.com,Jane,Doe,,,Engineer,R&D,New']);
    const second = await importRows(['JANE@acme.com,Janet,,,,,,New']);
    expect(second.outcomes).toMatchObject({ updated: 1, created: 0 });
    expect(second.invitations).toBe(0);
    const jane = await user('jane@acme.com');
    expect(jane).toMatchObject({ firstName: 'Janet', lastName: 'Doe', title: 'Engineer', department: 'R&D' });
    expect(jane?.invitation?.importId).toBe(first._id);
    expect(await users().countDocuments()).toBe(1);
  });

  it('needs a first and last name to create a user', async () => {
    const record = await importRows(['jane@acme.com,Jane,,,,,,New']);
    expect(record.outcomes).toMatchObject({ created: 0, ignored: 1 });
    const rows = await collect(service.history.rowResults(record._id));
    expect(rows[0]).toMatchObject({ row: 2, outcome: 'ignored', code: 'missing-field' });
    expect(rows[0]?.reason).toMatch(/Last Name/);
  });

  it('brings a deleted user back instead of adding a second one', async () => {
    await importRows(['jane@acme.com,Jane,Doe,,,,,New']);
    await importRows(['jane@acme.com,,,,,,,Delete']);
    const record = await importRows(['jane@acme.com,Jane,Smith,,,,,New']);
    expect(record.outcomes.created).toBe(1);
    expect(record.invitations).toBe(1);
    expect(await users().countDocuments()).toBe(1);
    expect(await user('jane@acme.com')).toMatchObject({ status: 'invited', lastName: 'Smith' });
  });
});

describe('User Status Update', () => {
  it('skips unknown emails as not-found and updates known ones without erasing blanks', async () => {
    await importRows(['jane@acme.com,Jane,Doe,E1,555,Engineer,R&D,New']);
    const record = await importRows([
      'jane@acme.com,,,,,Manager,,Update',
      'ghost@acme.com,Gh,Ost,,,,,Update',
    ]);
    expect(record.outcomes).toMatchObject({ updated: 1, ignored: 1 });
    expect(record.problemCounts).toEqual({ 'not-found': 1 });
    expect(await user('jane@acme.com')).toMatchObject({
      title: 'Manager',
      department: 'R&D',
      alternateId: 'E1',
    });
    expect(await user('ghost@acme.com')).toBeNull();
    const rows = await collect(service.history.rowResults(record._id));
    expect(rows[0]?.changes).toEqual({ title: { old: 'Engineer', new: 'Manager' } });
  });

  it('creates unknown emails as New when the admin chooses so', async () => {
    const record = await importRows(['ghost@acme.com,Gh,Ost,,,,,Update'], { createMissingOnUpdate: true });
    expect(record.outcomes.created).toBe(1);
    expect(await user('ghost@acme.com')).toMatchObject({ status: 'invited' });
  });

  it('reports a row that changes nothing as unchanged', async () => {
    await importRows(['jane@acme.com,Jane,Doe,,,,,New']);
    const record = await importRows(['jane@acme.com,Jane,Doe,,,,,Update']);
    expect(record.outcomes).toMatchObject({ unchanged: 1, updated: 0 });
  });
});

describe('User Status Delete', () => {
  it('soft-deletes a known user and skips unknown ones', async () => {
    await importRows(['jane@acme.com,Jane,Doe,,,,,New']);
    const record = await importRows(['jane@acme.com,,,,,,,Delete', 'ghost@acme.com,,,,,,,Delete']);
    expect(record.outcomes).toMatchObject({ deleted: 1, ignored: 1 });
    const jane = await user('jane@acme.com');
    expect(jane).toMatchObject({ status: 'deleted', firstName: 'Jane' });
    expect(jane?.deletedAt).toBeInstanceOf(Date);
    const again = await importRows(['jane@acme.com,,,,,,,Delete']);
    expect(again.problemCounts).toEqual({ 'not-found': 1 });
  });
});

describe('User Status Activate', () => {
  it('creates an unknown user as active with an activation notice', async () => {
    const record = await importRows(['ann@acme.com,Ann,Lee,,,,,Activate']);
    expect(record).toMatchObject({ invitations: 0, activationNotices: 1 });
    const ann = await user('ann@acme.com');
    expect(ann).toMatchObject({
      status: 'active',
      activationNotice: { kind: 'activation', state: 'pending' },
    });
    expect(ann?.invitation).toBeUndefined();
  });

  it('activates an invited user once; an active user is left unchanged with no notice', async () => {
    await importRows(['ann@acme.com,Ann,Lee,,,,,New']);
    const first = await importRows(['ann@acme.com,,,,,,,Activate']);
    expect(first.outcomes.activated).toBe(1);
    expect(first.activationNotices).toBe(1);
    const second = await importRows(['ann@acme.com,,,,,,,Activate']);
    expect(second.outcomes).toMatchObject({ unchanged: 1, activated: 0 });
    expect(second.activationNotices).toBe(0);
    expect((await user('ann@acme.com'))?.activationNotice?.importId).toBe(first._id);
  });
});

describe('row problems', () => {
  it('names each problem with the row number a spreadsheet shows', async () => {
    const record = await importRows([
      'ok@acme.com,Ok,User,,,,,New',
      ',No,Email,,,,,New',
      'bad@@acme,Bad,Email,,,,,New',
      'st@acme.com,St,Atus,,,,,Promote',
      'nost@acme.com,No,Status,,,,,',
    ]);
    expect(record.outcomes).toMatchObject({ created: 1, ignored: 4 });
    const rows = await collect(service.history.rowResults(record._id));
    expect(rows.map((r) => [r.row, r.code ?? r.outcome])).toEqual([
      [2, 'created'],
      [3, 'missing-field'],
      [4, 'invalid-email'],
      [5, 'unknown-status'],
      [6, 'missing-field'],
    ]);
  });

  it('uses the default status for rows without one', async () => {
    const record = await importRows(['nost@acme.com,No,Status,,,,,'], { defaultAction: 'activate' });
    expect(record.outcomes.created).toBe(1);
    expect(await user('nost@acme.com')).toMatchObject({ status: 'active' });
  });

  it('lets the last occurrence of an email win and reports the earlier ones, across batches', async () => {
    const record = await importRows([
      'dup@acme.com,First,Try,,,,,New',
      'a@acme.com,A,A,,,,,New',
      'b@acme.com,B,B,,,,,New',
      'c@acme.com,C,C,,,,,New',
      'DUP@acme.com,Second,Try,,,,,New',
      'd@acme.com,D,D,,,,,New',
      'dup@acme.com,Third,Try,,,,,New',
    ]);
    expect(record.outcomes).toMatchObject({ created: 5, ignored: 2 });
    expect(record.problemCounts).toEqual({ 'duplicate-email': 2 });
    expect(await user('dup@acme.com')).toMatchObject({ firstName: 'Third' });
    const rows = await collect(service.history.rowResults(record._id));
    expect(rows.filter((r) => r.code === 'duplicate-email').map((r) => r.row)).toEqual([2, 6]);
    expect(rows.find((r) => r.row === 2)?.reason).toMatch(/row 8/);
  });
});

describe('history of an import', () => {
  it('flags a file whose exact bytes were imported before', async () => {
    const source = csv('jane@acme.com,Jane,Doe,,,,,New');
    const first = await service.commit(source, ACCOUNT, {}, { by: 'admin' });
    const plan = await service.plan(source, ACCOUNT);
    expect(plan.alreadyImported).toMatchObject({ importId: first._id, by: 'admin' });
    expect(plan.needs).toContain('confirm-reimport');
    expect(plan.effects.unchanged).toBe(1);
    const other = await service.plan(source, 'another-account');
    expect(other.alreadyImported).toBeNull();
  });

  it('records who, what and the per-row results, newest first', async () => {
    const a = await importRows(['a@acme.com,A,A,,,,,New']);
    const b = await importRows(['b@acme.com,B,B,,,,,New', 'bad,x,y,,,,,New']);
    const list = await service.history.list(ACCOUNT);
    expect(list.map((r) => r._id)).toEqual([b._id, a._id]);
    expect(b).toMatchObject({
      status: 'completed',
      by: 'admin@acme.com',
      file: { rows: 2, encoding: 'utf-8', delimiter: ',' },
      columns: { email: 'Email ID' },
      outcomes: { created: 1, ignored: 1 },
      progress: { rowsDone: 2 },
    });
    expect(b.file.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('applies more updates than one database command carries', async () => {
    const emails = Array.from({ length: 130 }, (_, i) => `u${i}@acme.com`);
    const big = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 1000 });
    await big.commit(csv(...emails.map((e) => `${e},U,Ser,,,,,New`)), ACCOUNT, {}, { by: 'admin' });
    const record = await big.commit(
      csv(...emails.map((e) => `${e},,,,,Agent,,Update`)),
      ACCOUNT,
      {},
      { by: 'admin' },
    );
    expect(record.outcomes.updated).toBe(130);
    expect(await users().countDocuments({ title: 'Agent' })).toBe(130);
  });
});

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('an interrupted import', () => {
  it('is shown as failed once its heartbeat stops, and importing the file again completes the rest', async () => {
    const source = csv('a@acme.com,A,A,,,,,New', 'b@acme.com,B,B,,,,,New');
    const record = await service.commit(source, ACCOUNT, {}, { by: 'admin' });
    // Simulate a process that died mid-import: still "running", last heartbeat an hour ago, one user missing.
    await t.db
      .collection('imports')
      .updateOne(
        { _id: record._id as never },
        { $set: { status: 'running', 'progress.heartbeatAt': new Date(Date.now() - 60 * 60 * 1000) } },
      );
    await users().deleteOne({ email: 'b@acme.com' });
    const fresh = await importRows(['c@acme.com,C,C,,,,,New']);
    await t.db
      .collection('imports')
      .updateOne(
        { _id: fresh._id as never },
        { $set: { status: 'running', 'progress.heartbeatAt': new Date() } },
      );

    const list = await service.history.list(ACCOUNT);
    expect(list.find((r) => r._id === record._id)).toMatchObject({
      status: 'failed',
      error: { code: 'interrupted' },
    });
    expect(list.find((r) => r._id === fresh._id)?.status).toBe('running');

    const again = await service.commit(source, ACCOUNT, {}, { by: 'admin' });
    expect(again.outcomes).toMatchObject({ created: 1, unchanged: 1 });
    expect(again.invitations).toBe(1);
  });
});
