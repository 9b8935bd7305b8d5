import { randomBytes } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import { ensureIndexes } from '../../services/db/indexes';

export interface TestDatabase {
  client: MongoClient;
  db: Db;
  close(): Promise<void>;
}

/** A fresh database on the run's real server, dropped again by `close()`. */
export async function openTestDatabase(): Promise<TestDatabase> {
  const uri = process.env.TEST_MONGODB_URI;
  if (!uri)
    throw new Error(
      'TEST_MONGODB_URI is not set: run the tests through jest so globalSetup starts the server',
    );
  const client = await MongoClient.connect(uri);
  const name = `test${randomBytes(6)
    .toString('hex')
    .replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)] ?? 'x')}`;
  const db = client.db(name);
  await ensureIndexes(db);
  return {
    client,
    db,
    close: async () => {
      await db.dropDatabase().catch(() => undefined);
      await client.close();
    },
  };
}
