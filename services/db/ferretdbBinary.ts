import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppError } from '../errors';
import type { Logger } from '../logger';
import { withFileLock } from './fileLock';

const run = promisify(execFile);

export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const FERRETDB_VERSION = 'v1.24.2';

/**
 * Returns the path of a FerretDB binary built from the Go module proxy with this machine's Go, building it
 * into `cacheDir` the first time. Concurrent callers share one build through a file lock.
 *
 * A plain `go install …/cmd/ferretdb@v1.24.2` produces a binary that panics at start, because the module as
 * published lacks `build/version/version.txt`. So the module is downloaded, copied out of the read-only
 * module cache, given that file, and built there.
 */
export async function ensureFerretDbBinary(cacheDir: string, log: Logger): Promise<string> {
  const home = path.join(cacheDir, `ferretdb-${FERRETDB_VERSION}`);
  const binary = path.join(home, 'ferretdb');
  if (await isExecutable(binary)) return binary;
  await fs.mkdir(home, { recursive: true });
  return withFileLock(path.join(home, 'build.lock'), async () => {
    if (await isExecutable(binary)) return binary;
    const go = await findGo();
    log.info('Building FerretDB for the embedded database (first run only)', { version: FERRETDB_VERSION });
    const started = Date.now();
    const { stdout } = await run(go, ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], {
      cwd: os.tmpdir(),
      maxBuffer: 4 * 1024 * 1024,
      env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' },
    }).catch((err: Error) => {
      throw new AppError('embedded-db-failed', `Could not download FerretDB with Go: ${err.message}`);
    });
    const moduleDir = (JSON.parse(stdout) as { Dir?: string }).Dir;
    if (!moduleDir)
      throw new AppError('embedded-db-failed', 'Go did not report where it put the FerretDB module.');
    const source = path.join(home, 'src');
    await fs.rm(source, { recursive: true, force: true });
    await fs.cp(moduleDir, source, { recursive: true });
    await makeWritable(source);
    await fs.writeFile(path.join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    const partial = `${binary}.partial`;
    await run(go, ['build', '-trimpath', '-o', partial, './cmd/ferretdb'], {
      cwd: source,
      maxBuffer: 16 * 1024 * 1024,
      env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=mod' },
    }).catch((err: Error) => {
      throw new AppError('embedded-db-failed', `Could not build FerretDB: ${err.message}`);
    });
    await fs.rename(partial, binary);
    await fs.rm(source, { recursive: true, force: true });
    log.info('FerretDB built', { seconds: Math.round((Date.now() - started) / 1000), binary });
    return binary;
  });
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function findGo(): Promise<string> {
  const candidates = [process.env.GO_BINARY, 'go', '/usr/local/go/bin/go'].filter(
    (c): c is string => typeof c === 'string' && c !== '',
  );
  for (const candidate of candidates) {
    try {
      await run(candidate, ['version']);
      return candidate;
    } catch {
      // try the next place Go is commonly installed
    }
  }
  throw new AppError(
    'embedded-db-failed',
    'No embedded database is available: MongoDB could not be downloaded and Go, needed to build FerretDB, ' +
      'was not found. Install Go 1.24+ or set MONGODB_URI to a MongoDB server.',
  );
}

async function makeWritable(dir: string): Promise<void> {
  await fs.chmod(dir, 0o755);
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await makeWritable(full);
    else await fs.chmod(full, 0o644);
  }
}
