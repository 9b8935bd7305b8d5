import {
  invitationStatus,
  MAX_INVITATION_PAGE,
  type InvitationPage,
  type InvitationScope,
} from '../../services/notifications/invitationStatus';
import { USERS_COLLECTION, type MailState, type UserStatus } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { entry, insertUser, T0 } from './userFixtures';

const DAY = 24 * 60 * 60_000;
const at = (days: number) => new Date(T0.getTime() + days * DAY);

describe('invitationStatus', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
    const invite = (
      name: string,
      state: MailState,
      importId: string,
      queuedAt: Date,
      more: { status?: UserStatus; accountId?: string; sentAt?: Date; lastError?: string } = {},
    ) =>
      insertUser(t.db, {
        accountId: more.accountId ?? 'acct1',
        email: `${name}@example.com`,
        status: more.status ?? 'invited',
        invitation: entry('invitation', {
          state,
          importId,
          queuedAt,
          nextAttemptAt: queuedAt,
          tokenHash: 'secret-hash',
          ...(more.sentAt ? { sentAt: more.sentAt } : {}),
          ...(more.lastError ? { lastError: more.lastError } : {}),
          ...(state === 'sending' ? { leaseUntil: at(10), attempts: 1 } : {}),
        }),
      });

    await invite('a', 'pending', 'imp1', T0);
    await invite('b', 'sending', 'imp1', T0);
    await invite('c', 'sent', 'imp1', T0, { sentAt: at(0.5) });
    await invite('d', 'failed', 'imp1', T0, {
      lastError: '550 <d@example.com>: Recipient address rejected\r\nX-Injected: nobody@evil.test',
    });
    await invite('e', 'failed', 'imp1', T0, { status: 'deleted', lastError: 'user deleted' });
    await invite('f', 'pending', 'imp2', at(1));
    await invite('g', 'sent', 'imp2', at(1), { status: 'active', sentAt: at(1) });
    await invite('h', 'failed', 'imp3', at(2));
    // No name at all: reported as ''.
    await t.db
      .collection(USERS_COLLECTION)
      .updateOne({ email: 'h@example.com' }, { $unset: { firstName: '', lastName: '' } });
    // Users without an invitation are not counted.
    await insertUser(t.db, { email: 'noinvite@example.com', status: 'active' });
    await insertUser(t.db, {
      email: 'activation@example.com',
      status: 'active',
      activationNotice: entry('activation', { state: 'failed' }),
    });
    // Another account, with an invitation from an import of the same id and time.
    await invite('other', 'failed', 'imp1', T0, { accountId: 'acct2' });
  });
  afterAll(async () => t.close());

  const status = (scope: InvitationScope = {}, page: Partial<InvitationPage> = {}, accountId = 'acct1') =>
    invitationStatus(t.db, accountId, scope, { skip: 0, limit: 50, ...page });
  const emails = (people: { email: string }[]) => people.map((p) => p.email.split('@')[0]);

  it('counts all of an account’s invitations by state, with sending counted as pending', async () => {
    const result = await status();
    expect(result.counts).toEqual({ pending: 3, sent: 2, failed: 3, total: 8, accepted: 0 });
    expect(result.peopleTotal).toBe(8);
  });

  it('lists people newest invitation first, then by email, and pages through them without gaps', async () => {
    const pages = await Promise.all([0, 3, 6, 9].map((skip) => status({}, { skip, limit: 3 })));
    expect(pages.map((p) => emails(p.people))).toEqual([['h', 'f', 'g'], ['a', 'b', 'c'], ['d', 'e'], []]);
    for (const p of pages) expect(p.peopleTotal).toBe(8);
    for (const p of pages) expect(p.counts.total).toBe(8);
  });

  it('describes each person without the token hash, and redacts addresses in the reason', async () => {
    const { people } = await status({ importId: 'imp1' });
    const byName = new Map(people.map((p) => [p.email, p]));
    expect(byName.get('c@example.com')).toEqual({
      email: 'c@example.com',
      name: 'Ada Lovelace',
      state: 'sent',
      importId: 'imp1',
      queuedAt: T0,
      sentAt: at(0.5),
      userStatus: 'invited',
    });
    expect(byName.get('b@example.com')?.state).toBe('pending');
    expect(byName.get('e@example.com')).toMatchObject({ state: 'failed', userStatus: 'deleted' });

    const failed = byName.get('d@example.com');
    expect(failed?.lastError).toBe('550 <[address]>: Recipient address rejected X-Injected: [address]');
    expect(failed?.lastError).not.toMatch(/[@\r\n]/);
    expect(JSON.stringify(people)).not.toContain('secret-hash');

    const nameless = (await status({ importId: 'imp3' })).people[0];
    expect(nameless).toMatchObject({ email: 'h@example.com', name: '', state: 'failed' });
    expect(nameless?.lastError).toBeUndefined();
    expect(nameless?.sentAt).toBeUndefined();
  });

  it('filters people by state, reporting sending ones as pending', async () => {
    const pending = await status({}, { state: 'pending' });
    expect(emails(pending.people)).toEqual(['f', 'a', 'b']);
    expect(pending.people.every((p) => p.state === 'pending')).toBe(true);
    expect(pending.peopleTotal).toBe(3);
    // The counts still cover every state.
    expect(pending.counts).toEqual({ pending: 3, sent: 2, failed: 3, total: 8, accepted: 0 });

    const failed = await status({}, { state: 'failed', skip: 1, limit: 1 });
    expect(emails(failed.people)).toEqual(['d']);
    expect(failed.peopleTotal).toBe(3);

    const sent = await status({ importId: 'imp2' }, { state: 'sent' });
    expect(emails(sent.people)).toEqual(['g']);
    expect(sent.people[0]?.userStatus).toBe('active');
    expect(sent.peopleTotal).toBe(1);
  });

  it('scopes by import', async () => {
    const imp1 = await status({ importId: 'imp1' });
    expect(imp1.counts).toEqual({ pending: 2, sent: 1, failed: 2, total: 5, accepted: 0 });
    expect(emails(imp1.people)).toEqual(['a', 'b', 'c', 'd', 'e']);
    const none = await status({ importId: 'unknown' });
    expect(none).toEqual({
      counts: { pending: 0, sent: 0, failed: 0, total: 0, accepted: 0 },
      people: [],
      peopleTotal: 0,
    });
  });

  it('scopes by period, both ends inclusive, and combines period with import', async () => {
    const period = await status({ from: at(1), to: at(2) });
    expect(period.counts).toEqual({ pending: 1, sent: 1, failed: 1, total: 3, accepted: 0 });
    expect(emails(period.people)).toEqual(['h', 'f', 'g']);

    const justBefore = await status({
      from: new Date(at(1).getTime() + 1),
      to: new Date(at(2).getTime() - 1),
    });
    expect(justBefore.counts.total).toBe(0);

    expect(emails((await status({ to: T0 })).people)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(emails((await status({ from: at(2) })).people)).toEqual(['h']);

    expect((await status({ importId: 'imp2', from: at(1), to: at(1) })).counts.total).toBe(2);
    expect((await status({ importId: 'imp2', from: at(2) })).counts.total).toBe(0);
  });

  it('keeps accounts apart', async () => {
    const other = await status({ importId: 'imp1' }, {}, 'acct2');
    expect(other.counts).toEqual({ pending: 0, sent: 0, failed: 1, total: 1, accepted: 0 });
    expect(emails(other.people)).toEqual(['other']);
    expect(emails((await status({}, {}, 'acct1')).people)).not.toContain('other');
    expect(await status({}, {}, 'acct3')).toEqual({
      counts: { pending: 0, sent: 0, failed: 0, total: 0, accepted: 0 },
      people: [],
      peopleTotal: 0,
    });
  });

  it('refuses pages and scopes that would not mean what was asked', async () => {
    await expect(status({}, { limit: 0 })).rejects.toThrow(RangeError);
    await expect(status({}, { limit: MAX_INVITATION_PAGE + 1 })).rejects.toThrow(RangeError);
    await expect(status({}, { skip: -1 })).rejects.toThrow(RangeError);
    await expect(status({}, { skip: 1.5 })).rejects.toThrow(RangeError);
    await expect(status({ from: new Date('not a date') })).rejects.toThrow(RangeError);
    await expect(status({}, {}, '')).rejects.toThrow(TypeError);
    expect((await status({}, { limit: MAX_INVITATION_PAGE })).people).toHaveLength(8);
  });
});

describe('invitationStatus of accepted and cancelled invitations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
  });
  afterAll(async () => t.close());

  it('counts accepted ones among the sent, with when each was accepted, and leaves cancelled ones out', async () => {
    const sent = (
      name: string,
      more: Partial<Parameters<typeof entry>[1]> = {},
      status: UserStatus = 'invited',
    ) =>
      insertUser(t.db, {
        email: `${name}@example.com`,
        status,
        invitation: entry('invitation', { state: 'sent', sentAt: T0, attempts: 1, ...more }),
      });
    await sent('accepted', { acceptedAt: at(1) }, 'active');
    await sent('waiting');
    await sent('cancelled', { state: 'cancelled' });
    await insertUser(t.db, {
      email: 'queued@example.com',
      invitation: entry('invitation', { state: 'cancelled' }),
    });
    await insertUser(t.db, { email: 'pending@example.com', invitation: entry('invitation') });

    const result = await invitationStatus(t.db, 'acct1', {}, { skip: 0, limit: 50 });
    expect(result.counts).toEqual({ pending: 1, sent: 2, failed: 0, total: 3, accepted: 1 });
    expect(result.peopleTotal).toBe(3);
    const byEmail = new Map(result.people.map((p) => [p.email, p]));
    expect([...byEmail.keys()].sort()).toEqual([
      'accepted@example.com',
      'pending@example.com',
      'waiting@example.com',
    ]);
    expect(byEmail.get('accepted@example.com')).toMatchObject({
      state: 'sent',
      acceptedAt: at(1),
      userStatus: 'active',
    });
    expect(byEmail.get('waiting@example.com')?.acceptedAt).toBeUndefined();

    const sentOnly = await invitationStatus(t.db, 'acct1', {}, { skip: 0, limit: 50, state: 'sent' });
    expect(sentOnly.peopleTotal).toBe(2);
  });
});
