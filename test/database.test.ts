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
