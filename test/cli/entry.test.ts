import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openTestDatabase } from '../support/testDatabase';

const ROOT = path.resolve(__dirname, '../..');
const ENTRY = path.join(ROOT, 'dist', 'cli', 'enroll.js');

interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The built `enroll` entry, run as `npm run enroll` runs it, proves the thin wrapper binds the process. */
beforeAll(async () => {
  const tsc = await runNode([require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json']);
  if (tsc.code !== 0) throw new Error(`tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  await fs.access(ENTRY);
}, 120_000);

it('--help prints the usage on stdout and exits 0', async () => {
  const run = await runNode([ENTRY, '--help']);
  expect(run).toEqual({
    code: 0,
    stdout: expect.stringMatching(/^Usage: npm run -s enroll -- <command> \[options\]\n\nCommands:\n/),
    stderr: '',
  });
  expect(run.stdout).toContain('report <importId> --format csv|json');
});

it('sets the exit code and prints the error document for a usage error', async () => {
  const run = await runNode([ENTRY, 'frobnicate', '--json']);
  expect(run.code).toBe(2);
  expect(JSON.parse(run.stdout)).toEqual({
    error: { code: 'usage', message: expect.stringMatching(/^Unknown command "frobnicate"\./) },
  });
});

it('reads its settings from the process environment (exit 1 on a bad one)', async () => {
  const run = await runNode([ENTRY, 'users', '--account', 'acme'], { ...process.env, MAX_FILE_SIZE: 'abc' });
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^Error \(config-invalid\): Invalid configuration:\n {2}MAX_FILE_SIZE: /);
});

it('imports a file against the real server, prints JSON, delivers to DATA_DIR and exits by itself', async () => {
  const t = await openTestDatabase();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'enroll-entry-test-'));
  try {
    const file = path.join(dir, 'users.csv');
    await fs.writeFile(file, 'Email ID,First Name,Last Name,User Status\r\njane@acme.com,Jane,Doe,New\r\n');
    const env = {
      PATH: process.env.PATH,
      MONGODB_URI: process.env.TEST_MONGODB_URI,
      MONGODB_DB: t.db.databaseName,
      DATA_DIR: path.join(dir, 'data'),
    };
    const run = await runNode([ENTRY, 'import', file, '--account', 'acme', '--as', 'ops', '--json'], env);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      status: 'completed',
      by: 'ops',
      outcomes: { created: 1 },
      delivery: { sent: 1, failed: 0, retrying: 0 },
    });
    expect(await fs.readdir(path.join(dir, 'data', 'outbox'))).toEqual([expect.stringMatching(/\.eml$/)]);
    expect(await t.db.collection('users').countDocuments({ accountId: 'acme' })).toBe(1);
  } finally {
    await t.close();
    await fs.rm(dir, { recursive: true, force: true });
  }
});
