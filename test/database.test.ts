import { ensureIndexes } from '../services/db/indexes';
import { openTestDatabase, type TestDatabase } from './support/testDatabase';

describe('the embedded database', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => t.close());

  it('rejects a second user with the same email in one account', async () => {
    const users = t.db.collection('users');
    await users.insertOne({ accountId: 'a1', email: 'x@y.com' });
    await users.insertOne({ accountId: 'a2', email: 'x@y.com' });
    await expect(users.insertOne({ accountId: 'a1', email: 'x@y.com' })).rejects.toMatchObject({
      code: 11000,
    });
    expect(await users.countDocuments({ email: 'x@y.com' })).toBe(2);
  });
});

describe('the indexes', () => {
  it('can be ensured again on a database that already has them', async () => {
    const t = await openTestDatabase();
    try {
      await ensureIndexes(t.db);
      await ensureIndexes(t.db);
      const names = (await t.db.collection('users').indexes()).map((i) => i.name);
      expect(names).toEqual(expect.arrayContaining(['account_email_unique', 'mail_due']));
    } finally {
      await t.close();
    }
  });
});
