import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { startEmbeddedServer, type EmbeddedServer } from '../../services/db/embeddedServer';
import { createLogger } from '../../services/logger';

declare global {
  var __embeddedServer: EmbeddedServer | undefined;
}

/** Starts the same embedded server the product uses (unless MONGODB_URI is set) once for the whole run. */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) {
    process.env.TEST_MONGODB_URI = process.env.MONGODB_URI;
    return;
  }
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'enrollment-test-'));
  const server = await startEmbeddedServer({
    dataDir,
    cacheDir: path.resolve(process.env.CACHE_DIR ?? '.cache'),
    prefer: (process.env.EMBEDDED_DB as 'auto' | 'mongodb' | 'ferretdb' | undefined) ?? 'auto',
    log: createLogger('warn'),
  });
  globalThis.__embeddedServer = server;
  process.env.TEST_MONGODB_URI = server.uri;
  process.env.TEST_DATA_DIR = dataDir;
  process.stderr.write(`\nTests use the embedded ${server.engine} server at ${server.uri}\n`);
}
