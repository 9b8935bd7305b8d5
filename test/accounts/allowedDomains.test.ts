import { AccountDirectory, MAX_ALLOWED_DOMAINS } from '../../services/accounts/accountDirectory';
import { ACCOUNT_DOMAINS_COLLECTION } from '../../services/db/indexes';
import { AppError } from '../../services/errors';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;
let accounts: AccountDirectory;

beforeAll(async () => {
  t = await openTestDatabase();
  accounts = new AccountDirectory(t.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(ACCOUNT_DOMAINS_COLLECTION).deleteMany({});
});

/** Runs `action`, expects an option-invalid AppError and returns its message. */
async function rejection(action: () => Promise<unknown>): Promise<string> {
  const err = await action().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('option-invalid');
  return (err as AppError).message;
}

describe('allowed email domains', () => {
  it('stores them lower-case without repeats, replaces them, and clears them', async () => {
    expect(await accounts.allowedDomains('acme')).toEqual([]);
    const stored = await accounts.setAllowedDomains(
      'acme',
      [' Acme.com ', '@acme.co.uk', 'ACME.COM', 'eu.acme.com'],
      'ops',
    );
    expect(stored).toEqual(['acme.com', 'acme.co.uk', 'eu.acme.com']);
    expect(await accounts.allowedDomains('acme')).toEqual(stored);
    expect(await accounts.allowedDomains('globex')).toEqual([]);

    await accounts.setAllowedDomains('acme', ['acme.org'], 'ann');
    expect(await accounts.allowedDomains('acme')).toEqual(['acme.org']);
    const [listed] = await accounts.listAllowedDomains('acme');
    expect(listed).toEqual({
      accountId: 'acme',
      domains: ['acme.org'],
      updatedAt: expect.any(Date),
      updatedBy: 'ann',
    });

    expect(await accounts.clearAllowedDomains('acme')).toBe(true);
    expect(await accounts.clearAllowedDomains('acme')).toBe(false);
    expect(await accounts.allowedDomains('acme')).toEqual([]);
  });

  it('lists every account’s, ordered by account id, or one account’s', async () => {
    await accounts.setAllowedDomains('globex', ['globex.com'], 'ops');
    await accounts.setAllowedDomains('acme', ['acme.com'], 'ops');
    expect((await accounts.listAllowedDomains()).map((d) => [d.accountId, d.domains])).toEqual([
      ['acme', ['acme.com']],
      ['globex', ['globex.com']],
    ]);
    expect((await accounts.listAllowedDomains('globex')).map((d) => d.accountId)).toEqual(['globex']);
    expect(await accounts.listAllowedDomains('initech')).toEqual([]);
  });

  it.each([
    ['acme', /"acme" is not a valid allowed domain: it must be a domain name such as acme.com/],
    ['acme..com', /"acme..com" is not a valid allowed domain/],
    ['-acme.com', /"-acme.com" is not a valid allowed domain/],
    ['acme.c0m', /"acme.c0m" is not a valid allowed domain/],
    ['*.acme.com', /"\*.acme.com" is not a valid allowed domain/],
    ['jo@acme.com', /"jo@acme.com" is not a valid allowed domain/],
    ['acme-.com', /"acme-.com" is not a valid allowed domain/],
    [`${'a'.repeat(64)}.com`, /is not a valid allowed domain/],
  ])('refuses %s and stores nothing, not even the valid ones beside it', async (bad, message) => {
    await accounts.setAllowedDomains('acme', ['acme.com'], 'ops');
    expect(await rejection(() => accounts.setAllowedDomains('acme', ['acme.org', bad], 'ops'))).toMatch(
      message,
    );
    expect(await accounts.allowedDomains('acme')).toEqual(['acme.com']);
  });

  it('refuses an empty list, too many domains, and a bad account id', async () => {
    expect(await rejection(() => accounts.setAllowedDomains('acme', [], 'ops'))).toMatch(
      /at least one allowed domain.*clear the setting/,
    );
    const many = Array.from({ length: MAX_ALLOWED_DOMAINS + 1 }, (_, i) => `d${i}.com`);
    expect(await rejection(() => accounts.setAllowedDomains('acme', many, 'ops'))).toContain(
      `at most ${MAX_ALLOWED_DOMAINS} allowed domains`,
    );
    expect(await rejection(() => accounts.setAllowedDomains('no spaces', ['acme.com'], 'ops'))).toMatch(
      /not a valid account id/,
    );
    expect(await t.db.collection(ACCOUNT_DOMAINS_COLLECTION).countDocuments()).toBe(0);
    // A look-up with an id that could never be stored answers "any domain" rather than failing.
    expect(await accounts.allowedDomains('no spaces')).toEqual([]);
  });
});
