import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs, openSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { ensureFerretDbBinary } from './ferretdbBinary';
import { isAlive, withFileLock } from './fileLock';

/** Which server answers on the embedded URI. */
export type EmbeddedEngine = 'mongodb' | 'ferretdb';

/** A running embedded server, started by this process or shared with another one. */
export interface EmbeddedServer {
  uri: string;
  engine: EmbeddedEngine;
  /** True when this process started the server and stops it on {@link EmbeddedServer.stop}. */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedServerOptions {
  dataDir: string;
  cacheDir: string;
  prefer: 'auto' | EmbeddedEngine;
  log: Logger;
}

interface ServerRecord {
  uri: string;
  engine: EmbeddedEngine;
  pid: number;
}

/** How long a failed attempt to obtain a real mongod is remembered, so offline machines skip it. */
const MONGOD_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Starts the embedded MongoDB-compatible server whose data lives under `dataDir`, or attaches to the one
 * another process already runs on the same folder. Real mongod (through mongodb-memory-server) is preferred;
 * FerretDB on SQLite is the fallback where mongod cannot be downloaded.
 */
export async function startEmbeddedServer(options: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const dbDir = path.join(options.dataDir, 'db');
  await fs.mkdir(dbDir, { recursive: true });
  const recordFile = path.join(dbDir, 'server.json');

  const shared = await attachToRunning(recordFile);
  if (shared) return shared;

  return withFileLock(path.join(dbDir, 'start.lock'), async () => {
    const again = await attachToRunning(recordFile);
    if (again) return again;
    const started = await startOwned(options, dbDir);
    await fs.writeFile(
      recordFile,
      JSON.stringify({ uri: started.uri, engine: started.engine, pid: started.pid } satisfies ServerRecord),
    );
    let stopped = false;
    return {
      uri: started.uri,
      engine: started.engine,
      owned: true,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await fs.rm(recordFile, { force: true });
        await started.stop();
      },
    };
  });
}

async function attachToRunning(recordFile: string): Promise<EmbeddedServer | undefined> {
  let record: ServerRecord;
  try {
    record = JSON.parse(await fs.readFile(recordFile, 'utf8')) as ServerRecord;
  } catch {
    return undefined;
  }
  if (!isAlive(record.pid) || !(await answersPing(record.uri))) {
    await fs.rm(recordFile, { force: true });
    return undefined;
  }
  return { uri: record.uri, engine: record.engine, owned: false, stop: async () => undefined };
}

async function answersPing(uri: string): Promise<boolean> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return true;
  } catch {
    return false;
  } finally {
    await client.close().catch(() => undefined);
  }
}

interface StartedServer {
  uri: string;
  engine: EmbeddedEngine;
  pid: number;
  stop(): Promise<void>;
}

async function startOwned(options: EmbeddedServerOptions, dbDir: string): Promise<StartedServer> {
  const { prefer, log } = options;
  if (prefer !== 'ferretdb') {
    try {
      return await startMongod(options, dbDir);
    } catch (err) {
      if (prefer === 'mongodb') throw err;
      log.warn('A real mongod is not available here; using FerretDB instead', {
        reason: (err as Error).message,
      });
    }
  }
  return startFerretDb(options, dbDir);
}

async function startMongod(options: EmbeddedServerOptions, dbDir: string): Promise<StartedServer> {
  const marker = path.join(options.cacheDir, 'mongod-unavailable.json');
  const previous = await fs.readFile(marker, 'utf8').then(
    (text) => JSON.parse(text) as { at: number; reason: string },
    () => undefined,
  );
  if (options.prefer === 'auto' && previous && Date.now() - previous.at < MONGOD_RETRY_AFTER_MS) {
    throw new Error(`${previous.reason} (remembered from an earlier attempt)`);
  }
  const dbPath = path.join(dbDir, 'mongod');
  await fs.mkdir(dbPath, { recursive: true });
  try {
    // Loaded lazily: the package is only needed where a real mongod can be had.
    const { MongoMemoryServer } = await import('mongodb-memory-server-core');
    const server = await MongoMemoryServer.create({
      instance: { dbPath, storageEngine: 'wiredTiger', ip: '127.0.0.1' },
      binary: { downloadDir: path.join(options.cacheDir, 'mongodb-binaries') },
    });
    const pid = server.instanceInfo?.instance.mongodProcess?.pid ?? process.pid;
    const uri = server.getUri();
    options.log.info('Embedded database started', { engine: 'mongodb', uri, dataDir: dbPath });
    return { uri, engine: 'mongodb', pid, stop: async () => void (await server.stop({ doCleanup: false })) };
  } catch (err) {
    await fs.mkdir(options.cacheDir, { recursive: true });
    await fs.writeFile(marker, JSON.stringify({ at: Date.now(), reason: (err as Error).message }));
    throw err;
  }
}

async function startFerretDb(options: EmbeddedServerOptions, dbDir: string): Promise<StartedServer> {
  const binary = await ensureFerretDbBinary(options.cacheDir, options.log);
  const storage = path.join(dbDir, 'ferretdb');
  await fs.mkdir(storage, { recursive: true });
  const port = await freePort();
  const logFd = openSync(path.join(dbDir, 'ferretdb.log'), 'a');
  let child: ChildProcess;
  try {
    child = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${storage}/`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${storage}`,
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=warn',
      ],
      { stdio: ['ignore', logFd, logFd] },
    );
  } finally {
    closeSync(logFd);
  }
  const killChild = () => child.kill('SIGTERM');
  process.once('exit', killChild);
  const uri = `mongodb://127.0.0.1:${port}/`;
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) =>
      reject(
        new AppError(
          'embedded-db-failed',
          `FerretDB exited at start (code ${code}); see ${dbDir}/ferretdb.log`,
        ),
      ),
    ),
  );
  await Promise.race([waitForPing(uri, 30_000), exited]);
  options.log.info('Embedded database started', { engine: 'ferretdb', uri, dataDir: storage });
  return {
    uri,
    engine: 'ferretdb',
    pid: child.pid ?? process.pid,
    stop: async () => {
      process.removeListener('exit', killChild);
      if (child.exitCode !== null) return;
      let timer: NodeJS.Timeout | undefined;
      const gone = new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 5000);
      });
      child.kill('SIGTERM');
      await gone;
      clearTimeout(timer);
    },
  };
}

async function waitForPing(uri: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await answersPing(uri)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new AppError(
    'embedded-db-failed',
    `The embedded database did not answer on ${uri} within ${timeoutMs} ms.`,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
