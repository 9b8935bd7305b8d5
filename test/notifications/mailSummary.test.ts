import { mailSummary } from '../../services/notifications/outboxWorker';
import type { MailState } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { entry, insertUser } from './userFixtures';

describe('mailSummary', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase();
    const invite = (state: MailState, importId = 'imp1', accountId = 'acct1') =>
      insertUser(t.db, { accountId, invitation: entry('invitation', { state, importId }) });
    const activate = (state: MailState, importId = 'imp1') =>
      insertUser(t.db, { status: 'active', activationNotice: entry('activation', { state, importId }) });

    await invite('pending');
    await invite('sending');
    await invite('sent');
    await invite('sent');
    await invite('sent');
    await invite('failed');
    await activate('sent');
    await activate('failed');
    await activate('failed');
    await insertUser(t.db, {
      status: 'active',
      invitation: entry('invitation', { state: 'sent' }),
      activationNotice: entry('activation', { state: 'pending' }),
    });
    // Other imports and other accounts must not be counted.
    await invite('pending', 'imp2');
    await activate('sent', 'imp2');
    await invite('sent', 'imp1', 'acct2');
    await insertUser(t.db, { email: 'nomail@example.com' });
  });
  afterAll(async () => t.close());

  it('counts one import’s messages by state, with sending counted as pending', async () => {
    expect(await mailSummary(t.db, 'acct1', 'imp1')).toEqual({
      invitations: { pending: 2, sent: 4, failed: 1 },
      activationNotices: { pending: 1, sent: 1, failed: 2 },
    });
  });

  it('keeps imports and accounts apart', async () => {
    expect(await mailSummary(t.db, 'acct1', 'imp2')).toEqual({
      invitations: { pending: 1, sent: 0, failed: 0 },
      activationNotices: { pending: 0, sent: 1, failed: 0 },
    });
    expect(await mailSummary(t.db, 'acct2', 'imp1')).toEqual({
      invitations: { pending: 0, sent: 1, failed: 0 },
      activationNotices: { pending: 0, sent: 0, failed: 0 },
    });
  });

  it('reports zeros for an import that queued nothing', async () => {
    expect(await mailSummary(t.db, 'acct1', 'unknown')).toEqual({
      invitations: { pending: 0, sent: 0, failed: 0 },
      activationNotices: { pending: 0, sent: 0, failed: 0 },
    });
  });
});
