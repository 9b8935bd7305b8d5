import path from 'node:path';
import { CliWorld, json, type CliRun } from './cliHarness';

const ACCOUNT = 'acme';

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => w.reset());

/** Asserts the exit code and that stdout is exactly `{ "error": { code, message } }`; returns the message. */
function expectError(run: CliRun, exitCode: number, code: string): string {
  expect(run.code).toBe(exitCode);
  const out = json<{ error: { code: string; message: string } }>(run);
  expect(out).toEqual({ error: { code, message: expect.any(String) } });
  expect(run.stdout).toBe(JSON.stringify(out, null, 2) + '\n');
  return out.error.message;
}

describe('usage errors (exit 2)', () => {
  it.each([
    ['import without --account', ['import', 'users.csv']],
    ['import with a blank --account', ['import', 'users.csv', '--account', '  ']],
    ['history without --account', ['history']],
    ['users without --account', ['users']],
  ])('%s', async (_case, args) => {
    const file = await w.csv(['jane@acme.com,Jane,Doe,,,,,New']);
    const run = await w.run([...args.map((a) => (a === 'users.csv' ? file : a)), '--json']);
    const message = expectError(run, 2, 'usage');
    expect(message).toMatch(/^--account <id> is required\.\n\nUsage: npm run -s enroll -- <command>/);
    await w.expectNothingWritten(ACCOUNT);
  });

  it('import without a file', async () => {
    expect(expectError(await w.run(['import', '--account', ACCOUNT, '--json']), 2, 'usage')).toMatch(
      /^import needs a file\./,
    );
    await w.expectNothingWritten(ACCOUNT);
  });

  it('an unknown command, checked before the database is contacted', async () => {
    const run = await w.run(['frobnicate', '--json'], { MONGODB_URI: 'mongodb://127.0.0.1:1/' });
    expect(expectError(run, 2, 'usage')).toMatch(/^Unknown command "frobnicate"\.\n\nUsage:/);
    await w.expectNothingWritten(ACCOUNT);
  });

  it.each([
    ['an unknown option', ['users', '--account', ACCOUNT, '--frobnicate'], /Unknown option '--frobnicate'/],
    ['an option without its value', ['users', '--account'], /--account <value>' argument missing/],
    ['a value that looks like an option', ['history', '--account', ACCOUNT, '--limit', '-3'], /ambiguous/],
  ])('%s', async (_case, args, message) => {
    expect(expectError(await w.run(['--json', ...args]), 2, 'usage')).toMatch(message);
  });

  it('no command prints the usage on stdout with exit 2; --help and -h with exit 0', async () => {
    const none = await w.run([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(
      /^Usage: npm run -s enroll -- <command> \[options\]\n\nCommands:\n {2}import <file>/,
    );
    for (const args of [['--help'], ['-h'], ['import', '--help']]) {
      const help = await w.run(args);
      expect(help.code).toBe(0);
      expect(help.stdout).toBe(none.stdout);
      expect(help.stderr).toBe('');
    }
  });

  it('without --json, writes the error to stderr and nothing to stdout', async () => {
    const run = await w.run(['users']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Error \(usage\): --account <id> is required\.\n\nUsage:/);
  });
});

describe('file errors (exit 1) write nothing', () => {
  /** Runs the import as a dry run and for real; both fail alike and nothing is written. */
  async function importFails(file: string, code: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
    const messages: string[] = [];
    for (const mode of [['--dry-run'], []]) {
      messages.push(
        expectError(await w.run(['import', file, '--account', ACCOUNT, ...mode, '--json'], env), 1, code),
      );
    }
    expect(messages[1]).toBe(messages[0]);
    await w.expectNothingWritten(ACCOUNT);
    return messages[0] ?? '';
  }

  it('a file that does not exist: file-unreadable', async () => {
    const message = await importFails(path.join(w.dir, 'missing.csv'), 'file-unreadable');
    expect(message).toBe('Cannot read "missing.csv": it does not exist. Check the path and try again.');
  });

  it('a directory: file-unreadable', async () => {
    expect(await importFails(w.dir, 'file-unreadable')).toMatch(/it is not a regular file/);
  });

  it('an empty file: file-empty', async () => {
    const message = await importFails(await w.file('', 'empty.csv'), 'file-empty');
    expect(message).toMatch(/^"empty\.csv" is empty \(0 bytes\)/);
  });

  it('a file of blank lines: file-empty', async () => {
    expect(await importFails(await w.file('\r\n  \r\n', 'blank.csv'), 'file-empty')).toMatch(
      /has no content/,
    );
  });

  it('a binary file: file-binary', async () => {
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      Buffer.alloc(64, 0),
      Buffer.from('IHDR'),
    ]);
    expect(await importFails(await w.file(png, 'photo.csv'), 'file-binary')).toMatch(/^"photo\.csv"/);
  });

  it('a file larger than MAX_FILE_SIZE: file-too-large', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => `user${i}@acme.com,First,Last,,,,,New`);
    const file = await w.csv(rows);
    const message = await importFails(file, 'file-too-large', { MAX_FILE_SIZE: '200' });
    expect(message).toMatch(/is larger than the .* MB limit/);
    // The same file is fine under the default limit.
    const run = await w.run(['import', file, '--account', ACCOUNT, '--dry-run', '--json']);
    expect(run.code).toBe(0);
  });

  it('a file without an email column: file-no-email-column', async () => {
    const file = await w.csv(['Jane,Doe,New'], 'First Name,Last Name,User Status');
    expect(await importFails(file, 'file-no-email-column')).toContain(
      'The file\'s columns are: "First Name", "Last Name", "User Status".',
    );
  });

  it('a file whose first line is data: file-no-header', async () => {
    const file = await w.file('jane@acme.com,Jane,Doe,New\r\nbob@acme.com,Bob,Ray,New\r\n');
    expect(await importFails(file, 'file-no-header')).toMatch(/has no header row/);
  });

  it('a quote that is never closed: file-unreadable, even though earlier rows are fine', async () => {
    const file = await w.csv(['jane@acme.com,Jane,Doe,,,,,New', 'bob@acme.com,"Bob,Ray,,,,,New']);
    expect(await importFails(file, 'file-unreadable')).toMatch(/^Row 3 of .* is never closed/);
  });

  it('without --json, the error goes to stderr', async () => {
    const run = await w.run(['import', await w.file('', 'empty.csv'), '--account', ACCOUNT]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Error \(file-empty\): "empty\.csv" is empty/);
  });
});

describe('invalid configuration (exit 1, config-invalid)', () => {
  it.each([
    ['MAX_FILE_SIZE', 'abc', /MAX_FILE_SIZE: must be a positive size/],
    ['MAX_FILE_SIZE', '0', /MAX_FILE_SIZE: must be a positive size/],
    ['MONGODB_URI', 'http://x', /MONGODB_URI: must start with mongodb:\/\/ or mongodb\+srv:\/\//],
    ['MONGODB_DB', '1bad-name', /MONGODB_DB: must be letters/],
    ['SMTP_URL', 'mail.example.com', /SMTP_URL: must start with smtp/],
    ['LOG_LEVEL', 'loud', /LOG_LEVEL: /],
  ])('%s=%s names the setting', async (setting, value, message) => {
    const file = await w.csv(['jane@acme.com,Jane,Doe,,,,,New']);
    const run = await w.run(['import', file, '--account', ACCOUNT, '--json'], { [setting]: value });
    expect(expectError(run, 1, 'config-invalid')).toMatch(message);
    expect(run.stderr).toBe('');
    await w.expectNothingWritten(ACCOUNT);
  });

  it('names every bad setting at once, on stderr without --json', async () => {
    const run = await w.run(['users', '--account', ACCOUNT], { MAX_FILE_SIZE: 'abc', PORT: '99999' });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Error \(config-invalid\): Invalid configuration:/);
    expect(run.stderr).toContain('MAX_FILE_SIZE: ');
    expect(run.stderr).toContain('PORT: ');
  });
});
