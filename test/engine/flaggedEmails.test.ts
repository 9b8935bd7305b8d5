import { AccountDirectory } from '../../services/accounts/accountDirectory';
import { ACCOUNT_DOMAINS_COLLECTION } from '../../services/db/indexes';
import type { RowResult } from '../../services/history/importRecord';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import type { ImportOptions } from '../../services/import/importOptions';
import { PLAN_FLAGGED_ROWS } from '../../services/import/importPlan';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const HEADER = 'Email ID,First Name,Last Name,User Status';
const ACCOUNT = 'acme';

let t: TestDatabase;
let service: ImportService;
let accounts: AccountDirectory;
let fileNo = 0;

beforeAll(async () => {
  t = await openTestDatabase();
  // Small batches, so the rules are applied across several batches in plan and commit alike.
  service = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 2 });
  accounts = new AccountDirectory(t.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  for (const name of [USERS_COLLECTION, 'imports', 'importRows', ACCOUNT_DOMAINS_COLLECTION])
    await t.db.collection(name).deleteMany({});
});

const csv = (...rows: string[]) =>
  fileSourceFromBuffer(`users-${++fileNo}.csv`, Buffer.from([HEADER, ...rows].join('\n') + '\n'));

const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);
const emails = async () =>
  (
    await users()
      .find({ accountId: ACCOUNT, status: { $ne: 'deleted' } })
      .toArray()
  )
    .map((u) => u.email)
    .sort();

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

const commit = (rows: string[], options: ImportOptions = {}) =>
  service.commit(csv(...rows), ACCOUNT, options, { by: 'admin@acme.com' });

/** Two typos among clean rows, an invalid row, and a typo that is no new user (an Update of an existing one). */
const MIXED = [
  'ann@gmail.com,Ann,Ash,New',
  'bob@gmial.com,Bob,Bo,New',
  'cy@acme.com,Cy,Cole,Activate',
  'not-an-email,Di,Do,New',
  'eve@outlok.com,Eve,Eng,Activate',
];

describe('flagged emails in the plan', () => {
  it('lists rows that would create users with likely typos and asks for a decision', async () => {
    const plan = await service.plan(csv(...MIXED), ACCOUNT);
    expect(plan.flagged).toEqual({
      count: 2,
      rows: [
        { row: 3, email: 'bob@gmial.com', kind: 'likely-typo', suggestion: 'gmail.com' },
        { row: 6, email: 'eve@outlok.com', kind: 'likely-typo', suggestion: 'outlook.com' },
      ],
    });
    expect(plan.needs).toEqual(['confirm-flagged-emails']);
    // Undecided, they are still counted as what they would do.
    expect(plan.effects.create).toBe(4);
    expect(plan.problemCounts).toEqual({ 'invalid-email': 1 });
    expect(await users().countDocuments()).toBe(0);
  });

  it('flags nothing and needs nothing for a clean file', async () => {
    const plan = await service.plan(csv('ann@gmail.com,Ann,Ash,New', 'cy@acme.com,Cy,Cole,New'), ACCOUNT);
    expect(plan.flagged).toEqual({ count: 0, rows: [] });
    expect(plan.needs).toEqual([]);
  });

  it('does not flag rows that change users the account already has, nor rows ignored anyway', async () => {
    await commit(['bob@gmial.com,Bob,Bo,New'], { flaggedEmails: 'import' });
    const plan = await service.plan(
      csv(
        'bob@gmial.com,Robert,Bo,Update', // the account has this address: no new typo
        'zed@gmial.com,,,New', // ignored anyway: no names to create a user
        'kim@gmial.com,Kim,Kay,Update', // not-found anyway
      ),
      ACCOUNT,
    );
    expect(plan.flagged.count).toBe(0);
    expect(plan.needs).not.toContain('confirm-flagged-emails');
    expect(plan.problemCounts).toEqual({ 'missing-field': 1, 'not-found': 1 });
  });

  it('still flags a deleted user that a New row would bring back', async () => {
    await commit(['bob@gmial.com,Bob,Bo,New'], { flaggedEmails: 'import' });
    await commit(['bob@gmial.com,,,Delete']);
    const plan = await service.plan(csv('bob@gmial.com,Bob,Bo,New'), ACCOUNT);
    expect(plan.flagged.rows).toEqual([expect.objectContaining({ row: 2, email: 'bob@gmial.com' })]);
  });

  it(`lists the first ${PLAN_FLAGGED_ROWS} flagged rows and counts them all`, async () => {
    const rows = Array.from({ length: PLAN_FLAGGED_ROWS + 5 }, (_, i) => `p${i}@yaho.com,P,Q,New`);
    const plan = await service.plan(csv(...rows), ACCOUNT);
    expect(plan.flagged.count).toBe(PLAN_FLAGGED_ROWS + 5);
    expect(plan.flagged.rows).toHaveLength(PLAN_FLAGGED_ROWS);
    expect(plan.flagged.rows[0]).toEqual({
      row: 2,
      email: 'p0@yaho.com',
      kind: 'likely-typo',
      suggestion: 'yahoo.com',
    });
  });
});

describe('the decision, honoured by plan and commit alike', () => {
  it('skip: the plan ignores them with flagged-email and the commit leaves them out', async () => {
    const plan = await service.plan(csv(...MIXED), ACCOUNT, { flaggedEmails: 'skip' });
    expect(plan.needs).toEqual([]);
    expect(plan.flagged.count).toBe(2);
    expect(plan.effects.create).toBe(2);
    expect(plan.problemCounts).toEqual({ 'invalid-email': 1, 'flagged-email': 2 });
    expect(plan.problems.filter((p) => p.code === 'flagged-email')).toEqual([
      expect.objectContaining({
        row: 3,
        email: 'bob@gmial.com',
        message: 'gmial.com looks like a typo of gmail.com; skipped as you chose.',
      }),
      expect.objectContaining({
        row: 6,
        email: 'eve@outlok.com',
        message: 'outlok.com looks like a typo of outlook.com; skipped as you chose.',
      }),
    ]);

    const record = await commit(MIXED, { flaggedEmails: 'skip' });
    expect(record.outcomes).toMatchObject({ created: 2, ignored: 3 });
    expect(record.problemCounts).toMatchObject({ 'flagged-email': 2 });
    expect(record.options.flaggedEmails).toBe('skip');
    expect(record.invitations).toBe(1);
    expect(await emails()).toEqual(['ann@gmail.com', 'cy@acme.com']);
    const rows = await collect(service.history.rowResults(record._id));
    expect(rows.filter((r: RowResult) => r.code === 'flagged-email')).toEqual([
      expect.objectContaining({
        row: 3,
        outcome: 'ignored',
        action: 'new',
        reason: expect.stringMatching(/typo of gmail\.com; skipped/),
      }),
      expect.objectContaining({ row: 6, outcome: 'ignored', action: 'activate' }),
    ]);
  });

  it('import: the plan needs nothing more and the commit creates them as usual', async () => {
    const plan = await service.plan(csv(...MIXED), ACCOUNT, { flaggedEmails: 'import' });
    expect(plan.needs).toEqual([]);
    expect(plan.flagged.count).toBe(2);
    expect(plan.effects.create).toBe(4);

    const record = await commit(MIXED, { flaggedEmails: 'import' });
    expect(record.outcomes).toMatchObject({ created: 4, ignored: 1 });
    expect(record.options.flaggedEmails).toBe('import');
    expect(await emails()).toEqual(['ann@gmail.com', 'bob@gmial.com', 'cy@acme.com', 'eve@outlok.com']);
    expect(await users().findOne({ email: 'eve@outlok.com' })).toMatchObject({ status: 'active' });
  });

  it('undecided, the engine imports them (the CLI and the chat ask before they commit)', async () => {
    const record = await commit(MIXED);
    expect(record.outcomes).toMatchObject({ created: 4, ignored: 1 });
    expect(record.options).not.toHaveProperty('flaggedEmails');
  });
});

describe("the account's allowed domains", () => {
  it('flags rows creating users outside them, accepting subdomains, and the commit honours a skip', async () => {
    await accounts.setAllowedDomains(ACCOUNT, ['acme.com', 'Acme.co.uk'], 'ops');
    const rows = [
      'ann@acme.com,Ann,Ash,New',
      'bob@EU.Acme.com,Bob,Bo,New',
      'cy@acme.co.uk,Cy,Cole,New',
      'di@gmail.com,Di,Do,New',
      'eve@acme.con,Eve,Eng,New',
      'fay@notacme.com,Fay,Fu,New',
    ];
    const plan = await service.plan(csv(...rows), ACCOUNT);
    const allowed = ['acme.com', 'acme.co.uk'];
    expect(plan.flagged.rows).toEqual([
      { row: 5, email: 'di@gmail.com', kind: 'outside-allowed', allowed },
      { row: 6, email: 'eve@acme.con', kind: 'outside-allowed', allowed, suggestion: 'acme.com' },
      { row: 7, email: 'fay@notacme.com', kind: 'outside-allowed', allowed },
    ]);
    expect(plan.needs).toEqual(['confirm-flagged-emails']);

    const record = await commit(rows, { flaggedEmails: 'skip' });
    expect(record.outcomes).toMatchObject({ created: 3, ignored: 3 });
    expect(await emails()).toEqual(['ann@acme.com', 'bob@eu.acme.com', 'cy@acme.co.uk']);
    const skipped = (await collect(service.history.rowResults(record._id))).filter(
      (r) => r.code === 'flagged-email',
    );
    expect(skipped.map((r) => r.reason)).toEqual([
      "gmail.com is outside the account's allowed domains (acme.com, acme.co.uk); skipped as you chose.",
      "acme.con is outside the account's allowed domains (acme.com, acme.co.uk) and looks like a typo of acme.com; skipped as you chose.",
      "notacme.com is outside the account's allowed domains (acme.com, acme.co.uk); skipped as you chose.",
    ]);
  });

  it('belong to their account only, and clearing them goes back to typo checks alone', async () => {
    await accounts.setAllowedDomains('globex', ['globex.com'], 'ops');
    const file = ['di@gmail.com,Di,Do,New', 'bob@gmial.com,Bob,Bo,New'];
    expect((await service.plan(csv(...file), ACCOUNT)).flagged.rows.map((r) => r.kind)).toEqual([
      'likely-typo',
    ]);

    await accounts.setAllowedDomains(ACCOUNT, ['acme.com'], 'ops');
    expect((await service.plan(csv(...file), ACCOUNT)).flagged.rows.map((r) => r.kind)).toEqual([
      'outside-allowed',
      'outside-allowed',
    ]);

    await accounts.clearAllowedDomains(ACCOUNT);
    expect((await service.plan(csv(...file), ACCOUNT)).flagged.rows).toEqual([
      { row: 3, email: 'bob@gmial.com', kind: 'likely-typo', suggestion: 'gmail.com' },
    ]);
  });
});
