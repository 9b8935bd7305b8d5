import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import Papa from 'papaparse';
import { CliWorld, json, type CliRun } from './cliHarness';

const ACCOUNT = 'acme';

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => w.reset());

interface ImportSummary {
  importId: string;
  fileName: string;
  createdAt: string;
  finishedAt: string | null;
  by: string;
  status: string;
  outcomes: Record<string, number>;
  invitations: number;
  activationNotices: number;
}

async function importRows(rows: string[], account = ACCOUNT): Promise<ImportSummary> {
  const run = await w.run(['import', await w.csv(rows), '--account', account, '--json']);
  expect(run.code).toBe(0);
  return json<ImportSummary>(run);
}

function expectError(run: CliRun, exitCode: number, code: string): string {
  expect(run.code).toBe(exitCode);
  const out = json<{ error: { code: string; message: string } }>(run);
  expect(Object.keys(out)).toEqual(['error']);
  expect(out.error.code).toBe(code);
  return out.error.message;
}

describe('history', () => {
  it('lists the account’s imports newest first, completed, and honours --limit', async () => {
    const first = await importRows(['jane@acme.com,Jane,Doe,,,,,New']);
    const second = await importRows(['bob@acme.com,Bob,Ray,,,,,Activate', 'bad,,,,,,,New']);
    await importRows(['zed@globex.com,Zed,Zee,,,,,New'], 'globex');

    const run = await w.run(['history', '--account', ACCOUNT, '--json']);
    expect(run.code).toBe(0);
    const { imports } = json<{ imports: ImportSummary[] }>(run);
    expect(imports.map((i) => i.importId)).toEqual([second.importId, first.importId]);
    for (const record of imports) {
      expect(record.status).toBe('completed');
      expect(record.finishedAt).not.toBeNull();
      expect(Date.parse(record.finishedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(record.createdAt));
    }
    expect(Date.parse(imports[0]?.createdAt ?? '')).toBeGreaterThanOrEqual(
      Date.parse(imports[1]?.createdAt ?? ''),
    );
    expect(imports[0]).toMatchObject({
      outcomes: { created: 1, ignored: 1 },
      activationNotices: 1,
      invitations: 0,
      by: 'cli',
    });
    expect(imports[1]).toMatchObject({ outcomes: { created: 1 }, invitations: 1 });

    const limited = json<{ imports: ImportSummary[] }>(
      await w.run(['history', '--account', ACCOUNT, '--limit', '1', '--json']),
    );
    expect(limited.imports.map((i) => i.importId)).toEqual([second.importId]);
  });

  it('prints text without --json and says when there are no imports', async () => {
    expect((await w.run(['history', '--account', ACCOUNT])).stdout).toBe('No imports yet.\n');
    const record = await importRows(['jane@acme.com,Jane,Doe,,,,,New']);
    const run = await w.run(['history', '--account', ACCOUNT]);
    expect(run.stdout).toContain(`Import ${record.importId} completed: ${record.fileName}`);
    expect(run.stdout).toContain('1 invitation and 0 activation notices queued');
  });

  it.each(['0', '-3', '2.5', 'lots'])('rejects --limit=%s as a usage error', async (limit) => {
    const message = expectError(
      await w.run(['history', '--account', ACCOUNT, `--limit=${limit}`, '--json']),
      2,
      'usage',
    );
    expect(message).toMatch(/^--limit must be a positive whole number\./);
  });
});

describe('show', () => {
  it('prints one import with its file, columns, options and problem counts', async () => {
    const file = await w.csv([
      'jane@acme.com,Jane,Doe,,,,,New',
      'not-an-email,A,B,,,,,New',
      'x@acme.com,,,,,,,Update',
    ]);
    const bytes = await fs.readFile(file);
    const record = json<ImportSummary>(
      await w.run(['import', file, '--account', ACCOUNT, '--as', 'ops', '--json']),
    );
    const run = await w.run(['show', record.importId, '--json']);
    expect(run.code).toBe(0);
    const shown = json(run);
    expect(shown).toMatchObject({
      importId: record.importId,
      fileName: record.fileName,
      by: 'ops',
      status: 'completed',
      outcomes: { created: 1, updated: 0, unchanged: 0, deleted: 0, activated: 0, ignored: 2, failed: 0 },
      invitations: 1,
      activationNotices: 0,
      file: {
        name: record.fileName,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        encoding: 'utf-8',
        delimiter: ',',
        rows: 3,
      },
      columns: { email: 'Email ID', status: 'User Status' },
      ignoredColumns: [],
      options: { defaultStatus: null, createMissingOnUpdate: false, mapping: {} },
      problemCounts: { 'invalid-email': 1, 'not-found': 1 },
      error: null,
    });
    expect(shown.createdAt).toBe(record.createdAt);

    const text = await w.run(['show', record.importId]);
    expect(text.stdout).toContain(`Import ${record.importId} completed: ${record.fileName}`);
  });

  it('reports an unknown import id as import-not-found (exit 1) and a missing one as usage (exit 2)', async () => {
    expect(expectError(await w.run(['show', 'imp_nope', '--json']), 1, 'import-not-found')).toBe(
      'There is no import with id imp_nope.',
    );
    expect(expectError(await w.run(['show', '--json']), 2, 'usage')).toMatch(/^show needs an import id\./);
  });
});

describe('report', () => {
  // Cells a spreadsheet would run as formulas: a valid email starting with "=", one starting with "+", an
  // invalid "email" that is a formula, and a first name that is one.
  const rows = [
    'jane@acme.com,"=HYPERLINK(""http://evil.example/x"")",Doe,,,,,New',
    '=1+2@acme.com,Eq,Ual,,,,,New',
    '"=HYPERLINK(""x"")",Al,Bo,,,,,New',
    '+cmd@acme.com,Plus,Sign,,,,,New',
    'ghost@acme.com,,,,,,,Delete',
  ];

  it('--format csv has the header line, one line per row, and no cell a spreadsheet would run', async () => {
    const record = await importRows(rows);
    const run = await w.run(['report', record.importId, '--format', 'csv']);
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\r\n');
    expect(lines[0]).toBe('Row,Email,Requested Action,Outcome,Reason,Changes');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(rows.length + 2);

    // A created user's values live in the user document; the report lists changes only for existing users.
    expect(lines[1]).toBe('2,jane@acme.com,new,created,,');
    expect(lines[2]).toBe("3,'=1+2@acme.com,new,created,,");
    expect(lines[3]).toBe(
      // An ignored row still records the User Status it asked for.
      `4,"'=hyperlink(""x"")",new,ignored,"""=HYPERLINK(""x"")"" is not a valid email address.",`,
    );
    expect(lines[4]).toMatch(/^5,'\+cmd@acme\.com,new,created,,/);
    expect(lines[5]).toBe(
      '6,ghost@acme.com,delete,ignored,Delete skipped: no user with this email in the account.,',
    );

    const parsed = Papa.parse<string[]>(run.stdout.trimEnd(), { header: false });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data).toHaveLength(rows.length + 1);
    for (const cells of parsed.data) {
      expect(cells).toHaveLength(6);
      for (const cell of cells) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
  });

  it('--format json parses and has one entry per data row', async () => {
    const record = await importRows(rows);
    const run = await w.run(['report', record.importId, '--format', 'json']);
    expect(run.code).toBe(0);
    const report = json<{ importId: string; rows: Array<Record<string, unknown>> }>(run);
    expect(report.importId).toBe(record.importId);
    expect(report.rows.map((r) => r.row)).toEqual([2, 3, 4, 5, 6]);
    expect(report.rows[0]).toEqual({
      row: 2,
      email: 'jane@acme.com',
      action: 'new',
      outcome: 'created',
      notified: 'invitation',
      status: { old: null, new: 'invited' },
    });
    expect(report.rows[2]).toMatchObject({
      email: '=hyperlink("x")',
      outcome: 'ignored',
      code: 'invalid-email',
    });
    expect(report.rows[4]).toMatchObject({ email: 'ghost@acme.com', action: 'delete', code: 'not-found' });
  });

  it('needs --format csv or json (usage), and an existing import (nothing printed to stdout)', async () => {
    const record = await importRows(['jane@acme.com,Jane,Doe,,,,,New']);
    expect(expectError(await w.run(['report', record.importId, '--json']), 2, 'usage')).toMatch(
      /^report needs --format csv or --format json\./,
    );
    const xml = await w.run(['report', record.importId, '--format', 'xml']);
    expect(xml.code).toBe(2);
    expect(xml.stdout).toBe('');
    expect(xml.stderr).toMatch(/^Error \(usage\): report needs --format csv or --format json\./);

    const missing = await w.run(['report', 'imp_nope', '--format', 'csv']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('Error (import-not-found): There is no import with id imp_nope.\n');
  });
});

describe('users', () => {
  interface UserOut {
    email: string;
    status: string;
    firstName: string | null;
    workPhone: string | null;
    invitation: null | { state: string; importId: string; attempts: number; sentAt?: string };
    activationNotice: null | { state: string };
  }

  it('lists the account’s users by email with their status and invitation state', async () => {
    const record = await importRows([
      'jane@acme.com,Jane,Doe,,555-1,,,New',
      'bob@acme.com,Bob,Ray,,,,,Activate',
      'amy@acme.com,Amy,Ash,,,,,New',
    ]);
    await importRows(['other@globex.com,Oth,Er,,,,,New'], 'globex');
    const run = await w.run(['users', '--account', ACCOUNT, '--json']);
    expect(run.code).toBe(0);
    const { users } = json<{ users: UserOut[] }>(run);
    expect(users.map((u) => u.email)).toEqual(['amy@acme.com', 'bob@acme.com', 'jane@acme.com']);
    const jane = users[2];
    expect(jane).toMatchObject({
      email: 'jane@acme.com',
      firstName: 'Jane',
      lastName: 'Doe',
      alternateId: null,
      workPhone: '555-1',
      status: 'invited',
      invitation: { state: 'sent', importId: record.importId, attempts: 1 },
      activationNotice: null,
    });
    expect(jane?.invitation?.sentAt).toEqual(expect.any(String));
    expect(users[1]).toMatchObject({
      status: 'active',
      invitation: null,
      activationNotice: { state: 'sent' },
    });
    // Nothing internal leaks: no ids, token hashes or leases.
    expect(Object.keys(jane ?? {}).sort()).toEqual(
      [
        'email',
        'firstName',
        'lastName',
        'alternateId',
        'workPhone',
        'title',
        'department',
        'status',
        'invitation',
        'activationNotice',
      ].sort(),
    );
    expect(JSON.stringify(users)).not.toMatch(/tokenHash|leaseUntil|_id|accountId/);
  });

  it('leaves deleted users out unless --include-deleted', async () => {
    await importRows(['jane@acme.com,Jane,Doe,,,,,New', 'bob@acme.com,Bob,Ray,,,,,New']);
    await importRows(['jane@acme.com,,,,,,,Delete']);
    const live = json<{ users: UserOut[] }>(await w.run(['users', '--account', ACCOUNT, '--json']));
    expect(live.users.map((u) => u.email)).toEqual(['bob@acme.com']);
    const all = json<{ users: UserOut[] }>(
      await w.run(['users', '--account', ACCOUNT, '--include-deleted', '--json']),
    );
    expect(all.users.map((u) => [u.email, u.status])).toEqual([
      ['bob@acme.com', 'invited'],
      ['jane@acme.com', 'deleted'],
    ]);
  });

  it('prints one tab-separated line per user without --json', async () => {
    expect((await w.run(['users', '--account', ACCOUNT])).stdout).toBe('No users.\n');
    await importRows(['jane@acme.com,Jane,Doe,,,,,New', 'bob@acme.com,Bob,Ray,,,,,Activate']);
    expect((await w.run(['users', '--account', ACCOUNT])).stdout).toBe(
      'bob@acme.com\tactive\t-\njane@acme.com\tinvited\tsent\n',
    );
  });
});
