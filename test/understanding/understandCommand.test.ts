import { PassThrough } from 'node:stream';
import { runEnrollCli, USAGE } from '../../cli/enrollCli';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with only the given environment: no MONGODB_URI and no DATA_DIR, so a command
 * that tried to open the database would start (or fail to start) an embedded server instead of answering.
 */
async function enroll(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = new PassThrough().setEncoding('utf8');
  const stderr = new PassThrough().setEncoding('utf8');
  stdout.on('data', (chunk: string) => out.push(chunk));
  stderr.on('data', (chunk: string) => err.push(chunk));
  const code = await runEnrollCli(args, { stdout, stderr, env });
  await new Promise((resolve) => setImmediate(resolve));
  return { code, stdout: out.join(''), stderr: err.join('') };
}

const NOW = ['--now', '2026-11-25T10:00:00Z'];

it('prints { intent, score, entities } with --json', async () => {
  const run = await enroll(['understand', 'show imports by jane@acme.com since March 3', '--json', ...NOW]);
  expect(run).toEqual({ code: 0, stdout: expect.any(String), stderr: '' });
  const printed = JSON.parse(run.stdout) as Record<string, unknown>;
  expect(Object.keys(printed)).toEqual(['intent', 'score', 'entities']);
  expect(printed).toEqual({
    intent: 'history.list',
    score: expect.any(Number),
    entities: { email: 'jane@acme.com', from: '2026-03-03T00:00:00.000Z' },
  });
  expect(run.stdout).toBe(JSON.stringify(printed, null, 2) + '\n');
});

it.each<[string, Record<string, unknown>]>([
  ['how did the last import go', { intent: 'history.last', entities: {} }],
  [
    'details of import #12 from last week',
    {
      intent: 'import.details',
      entities: { importRef: '12', from: '2026-11-16T00:00:00.000Z', to: '2026-11-22T23:59:59.999Z' },
    },
  ],
  ['problems with "q3 staff.txt"', { intent: 'import.problems', entities: { fileName: 'q3 staff.txt' } }],
  ['asdf qwer', { intent: 'none', score: 1, entities: {} }],
])('understands "%s"', async (message, expected) => {
  const run = await enroll(['understand', message, '--json', ...NOW]);
  expect(run.code).toBe(0);
  const printed = JSON.parse(run.stdout) as { score: number };
  expect(printed).toMatchObject(expected);
  expect(printed.score).toBeGreaterThan(0);
  expect(printed.score).toBeLessThanOrEqual(1);
});

it('joins the words of an unquoted message', async () => {
  const run = await enroll(['understand', 'resend', 'the', 'failed', 'invitations', '--json']);
  expect(JSON.parse(run.stdout)).toMatchObject({ intent: 'invitations.resend' });
});

it('prints a readable line, and what it would ask when unsure', async () => {
  const sure = await enroll(['understand', 'what happened to Jane@Acme.com yesterday', ...NOW]);
  expect(sure).toEqual({
    code: 0,
    stdout: expect.stringMatching(
      /^user\.lookup \([\d.]+\) {2}email=jane@acme\.com {2}from=2026-11-24T00:00:00\.000Z {2}to=2026-11-24T23:59:59\.999Z\n$/,
    ),
    stderr: '',
  });
  const unsure = await enroll(['understand', 'qwertyuiop']);
  expect(unsure.stdout).toBe(
    'none (1)\nwould ask (not-understood), suggesting: history.last (0), history.list (0), help (0)\n',
  );
});

it('needs no database: it answers even when the configured one is unreachable', async () => {
  const run = await enroll(['understand', 'help', '--json'], {
    MONGODB_URI: 'mongodb://127.0.0.1:9/x',
    MAX_FILE_SIZE: 'abc',
  });
  expect(run.code).toBe(0);
  expect(JSON.parse(run.stdout)).toMatchObject({ intent: 'help' });
});

describe('errors', () => {
  it.each<[string[], RegExp]>([
    [['understand', '--json'], /^understand needs a message/],
    [['understand', '   ', '--json'], /^understand needs a message/],
    [['understand', 'help', '--now', 'yesterday', '--json'], /^--now must be an ISO date/],
    [['understand', 'help', '--now', '2026-13-45', '--json'], /^--now must be an ISO date/],
  ])('%j is a usage error (exit 2)', async (args, message) => {
    const run = await enroll(args);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'usage', message: expect.stringMatching(message) },
    });
  });

  it('reports an unknown NLU_ENGINE as a configuration error (exit 1)', async () => {
    const run = await enroll(['understand', 'help'], { NLU_ENGINE: 'llm' });
    expect(run).toEqual({
      code: 1,
      stdout: '',
      stderr: 'Error (config-invalid): Invalid configuration:\n  NLU_ENGINE: must be one of: local\n',
    });
  });
});

it('is in the usage text', () => {
  expect(USAGE).toContain('  understand "<message>" [--now <ISO date>] [--json]\n');
});
