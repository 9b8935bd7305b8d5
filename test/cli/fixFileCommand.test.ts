import { promises as fs } from 'node:fs';
import path from 'node:path';
import { CliWorld, json, HEADER } from './cliHarness';

const ACCOUNT = 'acme';
const FIX_HEADER = `${HEADER},Problem`;

let w: CliWorld;

beforeAll(async () => {
  w = await CliWorld.open();
});
afterAll(async () => w.close());
beforeEach(async () => w.reset());

async function importFile(file: string): Promise<{ importId: string; outcomes: Record<string, number> }> {
  const run = await w.run(['import', file, '--account', ACCOUNT, '--json']);
  expect(run.code).toBe(0);
  return json(run);
}

describe('report --fix', () => {
  const rows = [
    'jane@acme.com,Jane,Doe,,,,,New',
    'Bad.Address,Bob,Ray,,+1 555 0100,,,New',
    'sam@acme.com,Sam,,,,,,New',
  ];

  it('prints the rows not imported as a CSV with a BOM, the Problem column last', async () => {
    const record = await importFile(await w.csv(rows));
    expect(record.outcomes).toMatchObject({ created: 1, ignored: 2 });
    const run = await w.run(['report', record.importId, '--fix']);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\r\n')).toEqual([
      `\uFEFF${FIX_HEADER}`,
      `Bad.Address,Bob,Ray,,'+1 555 0100,,,New,"Row 3: ""Bad.Address"" is not a valid email address."`,
      'sam@acme.com,Sam,,,,,,New,Row 4: Last Name is required to create a user.',
      '',
    ]);
  });

  it('writes the file with --out, and that file corrected imports just those rows', async () => {
    const record = await importFile(await w.csv(rows));
    const out = path.join(w.dir, 'users-fix-rows.csv');
    const run = await w.run(['report', record.importId, '--fix', '--out', out, '--json']);
    expect(run.code).toBe(0);
    expect(json(run)).toEqual({ importId: record.importId, out, rows: 2 });
    const text = await fs.readFile(out, 'utf8');
    expect(text.startsWith(`\uFEFF${FIX_HEADER}\r\n`)).toBe(true);

    await fs.writeFile(out, text.replace('Bad.Address,', 'bob@acme.com,'));
    const plan = await w.run(['import', out, '--account', ACCOUNT, '--dry-run', '--json']);
    expect(json<{ ignoredColumns: string[]; needs: string[] }>(plan)).toMatchObject({
      ignoredColumns: [],
      needs: [],
    });
    const again = await importFile(out);
    expect(again.outcomes).toMatchObject({ created: 1, ignored: 1, updated: 0, unchanged: 0 });
    const users = json<{ users: Array<{ email: string; workPhone?: string }> }>(
      await w.run(['users', '--account', ACCOUNT, '--json']),
    );
    expect(users.users.map((u) => u.email).sort()).toEqual(['bob@acme.com', 'jane@acme.com']);
    // The apostrophe that kept "+1 555 0100" from running as a formula is not imported.
    expect(users.users.find((u) => u.email === 'bob@acme.com')?.workPhone).toBe('+1 555 0100');

    const text2 = await w.run(['report', again.importId, '--fix', '--out', out]);
    expect(text2.stdout).toBe(`Wrote 1 row not imported to ${out}.\n`);
    expect((await fs.readFile(out, 'utf8')).split('\r\n')[1]).toBe(
      'sam@acme.com,Sam,,,,,,New,Row 3: Last Name is required to create a user.',
    );
  });

  it('refuses --fix with --format, an unwritable --out, and an unknown import', async () => {
    const record = await importFile(await w.csv(rows));
    const both = await w.run(['report', record.importId, '--fix', '--format', 'csv']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^Error \(usage\): report takes --fix or --format, not both\./);

    const nowhere = path.join(w.dir, 'no-such-folder', 'fix.csv');
    const unwritable = await w.run(['report', record.importId, '--fix', '--out', nowhere, '--json']);
    expect(unwritable.code).toBe(1);
    expect(json<{ error: { code: string; message: string } }>(unwritable).error).toEqual({
      code: 'option-invalid',
      message: `--out: cannot write "${nowhere}" (ENOENT).`,
    });

    const missing = await w.run(['report', 'imp_nope', '--fix']);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toBe('Error (import-not-found): There is no import with id imp_nope.\n');
  });
});
