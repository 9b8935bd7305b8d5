import { IMPORT_UNDO_LOCKS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/collectionNames';
import type { ImportRecord } from '../../services/history/importRecord';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { CliWorld, HEADER, json, type CliRun } from './cliHarness';

const ACCOUNT = 'acme';
const DAY = 24 * 60 * 60 * 1000;

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => {
  await w.reset();
  await w.t.db.collection(IMPORT_UNDO_LOCKS_COLLECTION).deleteMany({});
});

interface UndoPlanOut {
  applied: boolean;
  import: { importId: string; number: number; fileName: string; undoOf: { number: number } | null };
  rows: number;
  counts: Record<string, number>;
  conflicts: Array<Record<string, unknown>>;
  conflictsTotal: number;
  windowDays: number;
}

interface UndoResultOut extends UndoPlanOut {
  undo: {
    importId: string;
    number: number;
    fileName: string;
    status: string;
    by: string;
    outcomes: Record<string, number>;
    undoOf: { importId: string; number: number } | null;
  };
}

/** Imports through the engine (not the CLI), so the invitations stay waiting rather than being delivered. */
async function importRows(rows: string[]): Promise<ImportRecord> {
  const service = new ImportService(w.t.db, { maxFileBytes: 5_000_000 });
  const csv = [HEADER, ...rows].join('\r\n') + '\r\n';
  return service.commit(fileSourceFromBuffer('users.csv', Buffer.from(csv)), ACCOUNT, {}, { by: 'ann' });
}

const users = () => w.t.db.collection<UserDocument>(USERS_COLLECTION);
const statuses = async () =>
  Object.fromEntries(
    (await users().find({ accountId: ACCOUNT }).toArray()).map((u) => [u.email, u.status] as const),
  );

function expectError(run: CliRun, exitCode: number, code: string): string {
  expect(run.code).toBe(exitCode);
  const out = json<{ error: { code: string; message: string } }>(run);
  expect(out).toEqual({ error: { code, message: expect.any(String) } });
  return out.error.message;
}

describe('undo', () => {
  it('without --yes prints the plan and changes nothing', async () => {
    await importRows(['ann@acme.com,Ann,A,,,,,New', 'bob@acme.com,Bob,B,,,,,Activate']);

    const text = await w.run(['undo', '#1', '--account', ACCOUNT]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Undo of import #1 users\.csv by ann on \S+ \[imp_[a-z0-9]+\]\n/);
    expect(text.stdout).toContain('Will change 2 users:\n  delete the users it created 2\n');
    expect(text.stdout).toContain(
      '  cancel waiting invitations: 1\n  cancel waiting activation notices: 1\n',
    );
    expect(text.stdout).toMatch(/Can be undone until \S+ \(UNDO_WINDOW_DAYS=14\)\./);
    expect(text.stdout).toContain(
      `Nothing was changed. To undo it: npm run -s enroll -- undo #1 --account acme --yes`,
    );

    const plan = json<UndoPlanOut>(await w.run(['undo', '1', '--account', ACCOUNT, '--json']));
    expect(plan).toMatchObject({
      applied: false,
      import: { number: 1, fileName: 'users.csv', undoOf: null },
      rows: 2,
      counts: { deleteCreated: 2, cancelInvitations: 1, cancelActivationNotices: 1, restoreFields: 0 },
      conflicts: [],
      conflictsTotal: 0,
      windowDays: 14,
    });
    expect(await statuses()).toEqual({ 'ann@acme.com': 'invited', 'bob@acme.com': 'active' });
    expect(await w.counts()).toMatchObject({ imports: 1 });
  });

  it('with --yes undoes the import, records the undo in history, and lists what it left alone', async () => {
    await importRows(['ann@acme.com,Ann,A,,,Clerk,Sales,New', 'bob@acme.com,Bob,B,,,Clerk,,New']);
    const second = await importRows(['ann@acme.com,,,,,Lead,Ops,Update', 'bob@acme.com,,,,,Lead,,Update']);
    await importRows(['ann@acme.com,,,,,,Finance,Update']);

    const run = await w.run(['undo', second._id, '--account', ACCOUNT, '--yes', '--as', 'boss', '--json']);
    expect(run.code).toBe(0);
    const out = json<UndoResultOut>(run);
    expect(out).toMatchObject({
      applied: true,
      import: { importId: second._id, number: 2 },
      undo: {
        number: 4,
        fileName: 'Undo of #2 users.csv',
        status: 'completed',
        by: 'boss',
        undoOf: { importId: second._id, number: 2 },
      },
      rows: 2,
      counts: { restoreFields: 2 },
      conflicts: [
        { row: 2, email: 'ann@acme.com', field: 'department', recorded: 'Ops', current: 'Finance' },
      ],
    });
    expect(out.undo.outcomes).toMatchObject({ updated: 2, ignored: 0 });
    const ann = await users().findOne({ email: 'ann@acme.com' });
    expect(ann).toMatchObject({ title: 'Clerk', department: 'Finance' });

    const history = json<{ imports: Array<{ importId: string; fileName: string }> }>(
      await w.run(['history', '--account', ACCOUNT, '--json']),
    );
    expect(history.imports.map((i) => i.fileName)).toEqual([
      'Undo of #2 users.csv',
      'users.csv',
      'users.csv',
      'users.csv',
    ]);
    expect(history.imports[0]?.importId).toBe(out.undo.importId);

    // Its per-row report is there like an import's.
    const report = json<{ rows: Array<Record<string, unknown>> }>(
      await w.run(['report', out.undo.importId, '--format', 'json']),
    );
    expect(report.rows).toHaveLength(2);
    expect(report.rows[1]).toMatchObject({
      email: 'bob@acme.com',
      outcome: 'updated',
      changes: { title: { old: 'Lead', new: 'Clerk' } },
    });
  });

  it('prints the applied undo as text, and undoing that undo re-applies the import', async () => {
    await importRows(['ann@acme.com,Ann,A,,,,,New']);
    const undone = await w.run(['undo', '#1', '--account', ACCOUNT, '--yes']);
    expect(undone.code).toBe(0);
    expect(undone.stdout).toMatch(/^Undid import #1 users\.csv by ann on \S+ \[imp_[a-z0-9]+\] as #2:\n/);
    expect(undone.stdout).toContain('  deleted the users it created 1\n  cancelled waiting invitations: 1\n');
    expect(undone.stdout).toMatch(/Import imp_[a-z0-9]+ completed: Undo of #1 users\.csv\n/);
    expect(await statuses()).toEqual({ 'ann@acme.com': 'deleted' });

    const plan = await w.run(['undo', '#2', '--account', ACCOUNT]);
    expect(plan.stdout).toMatch(/^Undo of undo #2 \(of #1\) Undo of #1 users\.csv/);
    const redo = await w.run(['undo', '#2', '--account', ACCOUNT, '--yes', '--json']);
    expect(redo.code).toBe(0);
    expect(json<UndoResultOut>(redo).counts).toMatchObject({ restoreDeleted: 1, requeueMessages: 1 });
    expect(await statuses()).toEqual({ 'ann@acme.com': 'invited' });
    // The invitation queued again went out at once, as after an import.
    expect(await w.outboxFiles()).toHaveLength(1);
  });

  it('refuses with exit 1 and an error code: not found, twice, outside the window', async () => {
    const first = await importRows(['ann@acme.com,Ann,A,,,,,New']);
    expect(
      expectError(await w.run(['undo', '#5', '--account', ACCOUNT, '--json']), 1, 'import-not-found'),
    ).toMatch(/no import #5 in account acme/);
    // Another account's import is not found from this one, and nothing is undone.
    expect(
      expectError(
        await w.run(['undo', first._id, '--account', 'globex', '--yes', '--json']),
        1,
        'import-not-found',
      ),
    ).toMatch(/no import imp_[a-z0-9]+ in account globex/);
    expect(await statuses()).toEqual({ 'ann@acme.com': 'invited' });

    expect((await w.run(['undo', '#1', '--account', ACCOUNT, '--yes', '--json'])).code).toBe(0);
    const twice = await w.run(['undo', '#1', '--account', ACCOUNT, '--yes']);
    expect(twice.code).toBe(1);
    expect(twice.stdout).toBe('');
    expect(twice.stderr).toMatch(
      /^Error \(undo-already-undone\): Import #1 \(users\.csv\) was already undone by #2/,
    );

    await w.t.db
      .collection<ImportRecord>(IMPORTS_COLLECTION)
      .updateOne({ number: 2 }, { $set: { createdAt: new Date(Date.now() - 20 * DAY) } });
    const late = expectError(
      await w.run(['undo', '#2', '--account', ACCOUNT, '--json']),
      1,
      'undo-window-passed',
    );
    expect(late).toMatch(/20 days ago; imports can be undone for 14 days .*UNDO_WINDOW_DAYS/);
    const wider = await w.run(['undo', '#2', '--account', ACCOUNT, '--json'], { UNDO_WINDOW_DAYS: '30' });
    expect(wider.code).toBe(0);
    expect(json<UndoPlanOut>(wider).windowDays).toBe(30);
    expect(
      expectError(
        await w.run(['undo', '#2', '--account', ACCOUNT, '--json'], { UNDO_WINDOW_DAYS: '0' }),
        1,
        'config-invalid',
      ),
    ).toMatch(/UNDO_WINDOW_DAYS: must be a whole number of days from 1 to 365/);
    expect(await statuses()).toEqual({ 'ann@acme.com': 'deleted' });
  });

  it('refuses an undo that would change nothing (exit 1) while its plan says so (exit 0)', async () => {
    await importRows(['ann@acme.com,Ann,A,,,,,New']);
    await importRows(['ann@acme.com,Ann,A,,,,,New']);
    const plan = await w.run(['undo', '#2', '--account', ACCOUNT]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('Nothing to undo');
    expect(plan.stdout).not.toContain('--yes');
    expectError(
      await w.run(['undo', '#2', '--account', ACCOUNT, '--yes', '--json']),
      1,
      'undo-nothing-to-do',
    );
    expect(await w.counts()).toMatchObject({ imports: 2 });
  });

  it('usage errors exit 2 before touching anything', async () => {
    expect(expectError(await w.run(['undo', '--account', ACCOUNT, '--json']), 2, 'usage')).toMatch(
      /^undo needs an import id or number/,
    );
    expect(expectError(await w.run(['undo', '#1', '--json']), 2, 'usage')).toMatch(
      /^--account <id> is required/,
    );
    expect(
      expectError(await w.run(['undo', '#1', '#2', '--account', ACCOUNT, '--json']), 2, 'usage'),
    ).toMatch(/^undo takes one import; also got "#2"/);
    const help = await w.run(['--help']);
    expect(help.stdout).toContain(
      'undo <importId or #number> --account <id> [--as <admin>] [--yes] [--json]',
    );
  });
});
