import { MongoClient, type Db } from 'mongodb';
import type { Config } from '../config';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { startEmbeddedServer, type EmbeddedServer } from './embeddedServer';
import { ensureIndexes } from './indexes';

/** An open connection to the product's database and how it was obtained. */
export interface Database {
  client: MongoClient;
  db: Db;
  engine: 'external' | 'mongodb' | 'ferretdb';
  uri: string;
  close(): Promise<void>;
}

/**
 * Connects to `MONGODB_URI` or, when it is unset, to the embedded server under `DATA_DIR`; creates the
 * indexes the product relies on; and logs which engine and URI are in use.
 */
export async function openDatabase(
  config: Pick<Config, 'mongodbUri' | 'mongodbDb' | 'dataDir' | 'cacheDir' | 'embeddedDb'>,
  log: Logger,
  dbName: string = config.mongodbDb,
): Promise<Database> {
  let embedded: EmbeddedServer | undefined;
  let uri = config.mongodbUri;
  if (!uri) {
    embedded = await startEmbeddedServer({
      dataDir: config.dataDir,
      cacheDir: config.cacheDir,
      prefer: config.embeddedDb,
      log,
    });
    uri = embedded.uri;
  }
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 10_000, appName: 'enrollment-assistant' });
  try {
    await client.connect();
    await client.db(dbName).command({ ping: 1 });
  } catch (err) {
    await client.close().catch(() => undefined);
    await embedded?.stop();
    throw new AppError('db-unavailable', `Cannot reach the database: ${(err as Error).message}`);
  }
  const engine = embedded ? embedded.engine : 'external';
  log.info('Database connected', {
    engine,
    uri,
    database: dbName,
    sharedEmbedded: embedded?.owned === false,
  });
  const db = client.db(dbName);
  await ensureIndexes(db);
  return {
    client,
    db,
    engine,
    uri,
    close: async () => {
      await client.close();
      await embedded?.stop();
    },
  };
}
