import { MongoClient } from 'mongodb';
import { SETTINGS_COLLECTION } from '../../services/db/indexes';
import { loadOrCreateSecret } from '../../services/settings/sharedSecret';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(SETTINGS_COLLECTION).deleteMany({});
});

describe('loadOrCreateSecret', () => {
  it('makes a 32-byte secret on first use and stores it as base64', async () => {
    const secret = await loadOrCreateSecret(t.db, 'reportLinkKey');
    expect(secret).toBeInstanceOf(Buffer);
    expect(secret).toHaveLength(32);
    const stored = await t.db.collection<{ _id: string; value: string }>(SETTINGS_COLLECTION).findOne({
      _id: 'reportLinkKey',
    });
    expect(stored?.value).toBe(secret.toString('base64'));
  });

  it('gives the same secret on every later call', async () => {
    const first = await loadOrCreateSecret(t.db, 'reportLinkKey');
    const second = await loadOrCreateSecret(t.db, 'reportLinkKey');
    expect(second.equals(first)).toBe(true);
  });

  it('gives another instance, on its own connection, the same secret', async () => {
    const first = await loadOrCreateSecret(t.db, 'reportLinkKey');
    const other = await MongoClient.connect(process.env.TEST_MONGODB_URI ?? '');
    try {
      const fromOther = await loadOrCreateSecret(other.db(t.db.databaseName), 'reportLinkKey');
      expect(fromOther.equals(first)).toBe(true);
    } finally {
      await other.close();
    }
  });

  it('keeps secrets of different names apart', async () => {
    const a = await loadOrCreateSecret(t.db, 'a');
    const b = await loadOrCreateSecret(t.db, 'b');
    expect(a.equals(b)).toBe(false);
    expect((await loadOrCreateSecret(t.db, 'a')).equals(a)).toBe(true);
  });

  it('gives instances that start together one and the same secret', async () => {
    const others = await Promise.all(
      [1, 2, 3].map(() => MongoClient.connect(process.env.TEST_MONGODB_URI ?? '')),
    );
    try {
      const dbs = [t.db, ...others.map((c) => c.db(t.db.databaseName))];
      const secrets = await Promise.all(
        dbs.flatMap((db) => [db, db]).map((db) => loadOrCreateSecret(db, 'race')),
      );
      for (const secret of secrets) expect(secret.equals(secrets[0] as Buffer)).toBe(true);
      expect(await t.db.collection(SETTINGS_COLLECTION).countDocuments({ _id: 'race' } as object)).toBe(1);
    } finally {
      await Promise.all(others.map((c) => c.close()));
    }
  });

  it('reports a damaged stored value instead of replacing it', async () => {
    await t.db
      .collection<{ _id: string; value: string }>(SETTINGS_COLLECTION)
      .insertOne({ _id: 'broken', value: 'c2hvcnQ=' });
    await expect(loadOrCreateSecret(t.db, 'broken')).rejects.toThrow(/damaged/);
  });
});
