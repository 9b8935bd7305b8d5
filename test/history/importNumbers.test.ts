import { ensureIndexes, IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import { ImportHistory, newImportId } from '../../services/history/importHistory';
import { numberUnnumberedImports } from '../../services/history/importNumbers';
import { emptyOutcomes, type ImportRecord } from '../../services/history/importRecord';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const HEADER = 'Email ID,First Name,Last Name,User Status';

let t: TestDatabase;
let service: ImportService;
let history: ImportHistory;

beforeAll(async () => {
  t = await openTestDatabase();
  service = new ImportService(t.db, { maxFileBytes: 5_000_000, batchSize: 2 });
  history = new ImportHistory(t.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  for (const name of [USERS_COLLECTION, IMPORTS_COLLECTION, IMPORT_ROWS_COLLECTION]) {
    await t.db.collection(name).deleteMany({});
  }
});

/** Imports a small file of new users into the account and returns the finished record. */
async function importUsers(accountId: string, emails: string[]): Promise<ImportRecord> {
  const csv = [HEADER, ...emails.map((e) => `${e},Ada,Lovelace,New`)].join('\r\n') + '\r\n';
  return service.commit(
    fileSourceFromBuffer('users.csv', Buffer.from(csv)),
    accountId,
    {},
    { by: 'Ann Admin' },
  );
}

type LegacyRecord = Omit<ImportRecord, 'number'> & { number?: number };

/** An import as it was recorded before imports had numbers. */
function legacyRecord(id: string, accountId: string, createdAt: Date): Omit<ImportRecord, 'number'> {
  return {
    _id: id,
    accountId,
    by: 'admin',
    createdAt,
    status: 'completed',
    file: { name: 'old.csv', bytes: 10, sha256: 'a'.repeat(64), encoding: 'utf-8', delimiter: ',', rows: 1 },
    columns: { email: 'Email ID' },
    ignoredColumns: [],
    options: { defaultStatus: null, createMissingOnUpdate: false, mapping: {} },
    outcomes: emptyOutcomes(),
    problemCounts: {},
    invitations: 0,
    activationNotices: 0,
    progress: { rowsDone: 0, batchesDone: 0, heartbeatAt: createdAt },
  };
}

async function numbersOf(accountId: string, db = t.db): Promise<Record<string, number | undefined>> {
  const docs = await db
    .collection<{ _id: string; accountId: string; number?: number }>(IMPORTS_COLLECTION)
    .find({ accountId })
    .toArray();
  return Object.fromEntries(docs.map((d) => [d._id, d.number]));
}

describe('import numbers', () => {
  it('numbers each account’s imports 1, 2, 3… in creation order, independently of other accounts', async () => {
    const a1 = await importUsers('acme', ['a1@acme.com']);
    const b1 = await importUsers('globex', ['b1@globex.com']);
    const a2 = await importUsers('acme', ['a2@acme.com']);
    const a3 = await importUsers('acme', ['a3@acme.com', 'a4@acme.com', 'a5@acme.com']);
    const b2 = await importUsers('globex', ['b2@globex.com']);

    expect([a1, a2, a3].map((r) => r.number)).toEqual([1, 2, 3]);
    expect([b1, b2].map((r) => r.number)).toEqual([1, 2]);
    // What commit returned is what is stored.
    expect(await numbersOf('acme')).toEqual({ [a1._id]: 1, [a2._id]: 2, [a3._id]: 3 });
    expect(await numbersOf('globex')).toEqual({ [b1._id]: 1, [b2._id]: 2 });
  });

  it('gives imports committed at the same moment distinct consecutive numbers', async () => {
    const records = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        importUsers('acme', [`c${i}a@acme.com`, `c${i}b@acme.com`, `c${i}c@acme.com`]),
      ),
    );
    expect(records.map((r) => r.number).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5]);
    expect(records.every((r) => r.status === 'completed')).toBe(true);
    expect(
      Object.values(await numbersOf('acme'))
        .map(Number)
        .sort((a, b) => a - b),
    ).toEqual([1, 2, 3, 4, 5]);
  });

  it('gives many records created at once distinct consecutive numbers and returns each one’s number', async () => {
    const created = await Promise.all(
      Array.from({ length: 12 }, (_, i) => history.create(legacyRecord(`imp_many${i}`, 'acme', new Date()))),
    );
    expect(created.map((r) => r.number).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    const stored = await numbersOf('acme');
    for (const record of created) expect(stored[record._id]).toBe(record.number);
  });

  it('refuses a second record with the same id, with the duplicate key error and without numbering it', async () => {
    const id = newImportId();
    const first = await history.create(legacyRecord(id, 'acme', new Date()));
    expect(first.number).toBe(1);
    await expect(history.create(legacyRecord(id, 'acme', new Date()))).rejects.toMatchObject({ code: 11000 });
    expect(await numbersOf('acme')).toEqual({ [id]: 1 });
    // The account carries on numbering from where it was.
    expect((await history.create(legacyRecord(newImportId(), 'acme', new Date()))).number).toBe(2);
  });

  it('numbers imports recorded before numbers existed, per account in createdAt order, before indexing', async () => {
    const legacy = await openTestDatabase();
    try {
      const imports = legacy.db.collection<LegacyRecord>(IMPORTS_COLLECTION);
      // A database from before numbers: no unique index, several unnumbered imports per account.
      await imports.dropIndex('account_number_unique');
      const day = (d: number) => new Date(Date.UTC(2029, 0, d));
      await imports.insertMany([
        legacyRecord('imp_a_third', 'acme', day(3)),
        legacyRecord('imp_a_first', 'acme', day(1)),
        legacyRecord('imp_b_only', 'globex', day(2)),
        legacyRecord('imp_a_second', 'acme', day(2)),
      ]);
      // One import of acme already has a number: the backfill continues after it.
      await imports.insertOne({ ...legacyRecord('imp_a_numbered', 'acme', day(9)), number: 4 });

      expect(await numberUnnumberedImports(legacy.db)).toBe(4);
      expect(await numbersOf('acme', legacy.db)).toEqual({
        imp_a_first: 5,
        imp_a_second: 6,
        imp_a_third: 7,
        imp_a_numbered: 4,
      });
      expect(await numbersOf('globex', legacy.db)).toEqual({ imp_b_only: 1 });
      // Nothing left to number; running again changes nothing.
      expect(await numberUnnumberedImports(legacy.db)).toBe(0);

      await ensureIndexes(legacy.db);
      const index = (await imports.indexes()).find((i) => i.name === 'account_number_unique');
      expect(index).toMatchObject({ key: { accountId: 1, number: 1 }, unique: true });
      const next = await new ImportHistory(legacy.db).create(legacyRecord('imp_a_new', 'acme', new Date()));
      expect(next.number).toBe(8);
    } finally {
      await legacy.close();
    }
  });

  it('lets ensureIndexes number old imports itself, so the unique index can be built', async () => {
    const legacy = await openTestDatabase();
    try {
      const imports = legacy.db.collection<LegacyRecord>(IMPORTS_COLLECTION);
      await imports.dropIndex('account_number_unique');
      await imports.insertMany([
        legacyRecord('imp_late', 'acme', new Date(Date.UTC(2029, 5, 2))),
        legacyRecord('imp_early', 'acme', new Date(Date.UTC(2029, 5, 1))),
      ]);

      await ensureIndexes(legacy.db);
      expect(await numbersOf('acme', legacy.db)).toEqual({ imp_early: 1, imp_late: 2 });
      expect((await imports.indexes()).map((i) => i.name)).toContain('account_number_unique');
      // The index is there and unique: a second import numbered 2 in acme is refused.
      await expect(
        imports.insertOne({ ...legacyRecord('imp_clash', 'acme', new Date()), number: 2 }),
      ).rejects.toMatchObject({ code: 11000 });
    } finally {
      await legacy.close();
    }
  });
});
