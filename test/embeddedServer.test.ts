import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { startEmbeddedServer } from '../services/db/embeddedServer';
import { silentLogger } from '../services/logger';

const cacheDir = path.resolve(process.env.CACHE_DIR ?? '.cache');

describe('the embedded server', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'embedded-'));
  });
  afterEach(async () => fs.rm(dataDir, { recursive: true, force: true }));

  it('is shared by a second starter on the same DATA_DIR and keeps its data across restarts', async () => {
    if (process.env.MONGODB_URI) return; // an external server is in use; nothing embedded to test
    const first = await startEmbeddedServer({ dataDir, cacheDir, prefer: 'auto', log: silentLogger });
    const second = await startEmbeddedServer({ dataDir, cacheDir, prefer: 'auto', log: silentLogger });
    try {
      expect(first.owned).toBe(true);
      expect(second).toMatchObject({ owned: false, uri: first.uri, engine: first.engine });
      const client = await MongoClient.connect(second.uri);
      await client.db('keep').collection('notes').insertOne({ text: 'still here' });
      await client.close();
    } finally {
      await second.stop();
      await first.stop();
    }
    await expect(fs.access(path.join(dataDir, 'db', 'server.json'))).rejects.toThrow();

    const restarted = await startEmbeddedServer({ dataDir, cacheDir, prefer: 'auto', log: silentLogger });
    try {
      expect(restarted.owned).toBe(true);
      const client = await MongoClient.connect(restarted.uri);
      expect(
        await client
          .db('keep')
          .collection('notes')
          .findOne({}, { projection: { _id: 0 } }),
      ).toEqual({
        text: 'still here',
      });
      await client.close();
    } finally {
      await restarted.stop();
    }
  });

  it('replaces a record left behind by a server that is gone', async () => {
    if (process.env.MONGODB_URI) return;
    await fs.mkdir(path.join(dataDir, 'db'), { recursive: true });
    await fs.writeFile(
      path.join(dataDir, 'db', 'server.json'),
      JSON.stringify({ uri: 'mongodb://127.0.0.1:1/', engine: 'ferretdb', pid: 2 ** 22 + 12345 }),
    );
    const server = await startEmbeddedServer({ dataDir, cacheDir, prefer: 'auto', log: silentLogger });
    try {
      expect(server.owned).toBe(true);
      expect(server.uri).not.toBe('mongodb://127.0.0.1:1/');
    } finally {
      await server.stop();
    }
  });
});
