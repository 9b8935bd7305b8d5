import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { PassThrough } from 'node:stream';
import { runEnrollCli } from '../../cli/enrollCli';
import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../../services/db/indexes';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

export const HEADER = 'Email ID,First Name,Last Name,Alternate ID,Work Phone,Title,Department,User Status';

/** What one in-process run of the CLI produced. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** A stream that keeps everything written to it as text. */
function captureStream(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const parts: string[] = [];
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => parts.push(chunk));
  return { stream, text: () => parts.join('') };
}

/** Parses stdout as the single JSON document a --json run prints; fails the test with the output otherwise. */
export function json<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`,
    );
  }
}

/**
 * One test file's world: a fresh database on the run's server, a temp DATA_DIR for the .eml outbox, and a
 * temp folder for user files. {@link CliWorld.run} calls the CLI in-process with that environment.
 */
export class CliWorld {
  private fileNo = 0;

  private constructor(
    readonly t: TestDatabase,
    readonly dir: string,
    readonly dataDir: string,
  ) {}

  static async open(): Promise<CliWorld> {
    const t = await openTestDatabase();
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enroll-cli-test-'));
    const dataDir = path.join(dir, 'data');
    await fs.mkdir(dataDir);
    return new CliWorld(t, dir, dataDir);
  }

  async close(): Promise<void> {
    await this.t.close();
    await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** Empties the database and the outbox folder. */
  async reset(): Promise<void> {
    for (const name of [USERS_COLLECTION, IMPORTS_COLLECTION, IMPORT_ROWS_COLLECTION]) {
      await this.t.db.collection(name).deleteMany({});
    }
    await fs.rm(this.outboxDir, { recursive: true, force: true });
  }

  /** The environment a run sees: only what is given here, never the test process's own variables. */
  env(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const uri = process.env.TEST_MONGODB_URI;
    if (!uri) throw new Error('TEST_MONGODB_URI is not set: run the tests through jest');
    return { MONGODB_URI: uri, MONGODB_DB: this.t.db.databaseName, DATA_DIR: this.dataDir, ...overrides };
  }

  async run(args: string[], envOverrides: NodeJS.ProcessEnv = {}): Promise<CliRun> {
    const stdout = captureStream();
    const stderr = captureStream();
    const code = await runEnrollCli(args, {
      stdout: stdout.stream,
      stderr: stderr.stream,
      env: this.env(envOverrides),
    });
    // 'data' events are delivered on a later tick than the write that caused them.
    await new Promise((resolve) => setImmediate(resolve));
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** Writes a user file into the temp folder and returns its path. */
  async file(content: string | Buffer, name = `users-${++this.fileNo}.csv`): Promise<string> {
    const file = path.join(this.dir, name);
    await fs.writeFile(file, content);
    return file;
  }

  /** A CSV file with the standard header and these data rows (CRLF line ends, like Excel). */
  async csv(rows: string[], header = HEADER): Promise<string> {
    return this.file([header, ...rows].join('\r\n') + '\r\n');
  }

  get outboxDir(): string {
    return path.join(this.dataDir, 'outbox');
  }

  /** The .eml files in DATA_DIR/outbox (none when the folder does not exist). */
  async outboxFiles(): Promise<string[]> {
    const names = await fs.readdir(this.outboxDir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith('.eml')).map((n) => path.join(this.outboxDir, n));
  }

  /** Documents in the users, imports and per-row results collections. */
  async counts(): Promise<{ users: number; imports: number; importRows: number }> {
    const [users, imports, importRows] = await Promise.all(
      [USERS_COLLECTION, IMPORTS_COLLECTION, IMPORT_ROWS_COLLECTION].map((name) =>
        this.t.db.collection(name).countDocuments(),
      ),
    );
    return { users: users ?? 0, imports: imports ?? 0, importRows: importRows ?? 0 };
  }

  /** Asserts, through the database and through the CLI itself, that the account has no users and imports. */
  async expectNothingWritten(account: string): Promise<void> {
    expect(await this.counts()).toEqual({ users: 0, imports: 0, importRows: 0 });
    expect(await this.outboxFiles()).toEqual([]);
    const users = await this.run(['users', '--account', account, '--json']);
    expect(users.code).toBe(0);
    expect(json(users)).toEqual({ users: [] });
    const history = await this.run(['history', '--account', account, '--json']);
    expect(history.code).toBe(0);
    expect(json(history)).toEqual({ imports: [] });
  }
}
