import { silentLogger } from '../../services/logger';
import { acceptInvitation, checkInvitation } from '../../services/notifications/invitationAcceptance';
import { queueDueReminders } from '../../services/notifications/invitationReminders';
import { resendInvitations } from '../../services/notifications/invitationResend';
import { createMailTransport, type MailTransport } from '../../services/notifications/mailTransport';
import { OutboxWorker, type OutboxWorkerOptions } from '../../services/notifications/outboxWorker';
import { USERS_COLLECTION, type OutboxEntry, type UserStatus } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { startSmtpTestServer, type ReceivedMail, type SmtpTestServer } from './smtpTestServer';
import { entry, getUser, insertUser, T0, testClock } from './userFixtures';

const DAY = 24 * 60 * 60_000;
const at = (ms: number) => new Date(T0.getTime() + ms);

function tokenIn(mail: ReceivedMail): string {
  const match = /https:\/\/app\.example\.test\/invite\?token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error('no invitation link in the message');
  return match[1];
}

describe('invitation reminders', () => {
  let t: TestDatabase;
  let smtp: SmtpTestServer;
  let transport: MailTransport;
  let clock: ReturnType<typeof testClock>;

  beforeAll(async () => {
    t = await openTestDatabase();
    smtp = await startSmtpTestServer();
    transport = createMailTransport(
      { smtpUrl: smtp.url, mailFrom: 'Acme IT <it@acme.example>', dataDir: '/nonexistent' },
      silentLogger,
    );
  });
  afterAll(async () => {
    await transport.close();
    await smtp.close();
    await t.close();
  });
  beforeEach(async () => {
    await t.db.collection(USERS_COLLECTION).deleteMany({});
    smtp.received.length = 0;
    smtp.rcptAttempts.length = 0;
    smtp.rejectRecipients = false;
    clock = testClock();
  });

  const worker = (changes: Partial<OutboxWorkerOptions> = {}) =>
    new OutboxWorker({
      db: t.db,
      transport,
      accountName: 'Acme Corp',
      inviteUrlBase: 'https://app.example.test/invite',
      log: silentLogger,
      now: clock.now,
      ...changes,
    });
  const sent = (changes: Partial<OutboxEntry> = {}, status: UserStatus = 'invited') =>
    insertUser(t.db, {
      status,
      ...(status === 'deleted' ? { deletedAt: T0 } : {}),
      invitation: entry('invitation', { state: 'sent', attempts: 1, sentAt: T0, tokenHash: 'h', ...changes }),
    });

  it('sends none when reminders are off', async () => {
    const user = await insertUser(t.db, { invitation: entry('invitation') });
    expect(await worker().runOnce()).toMatchObject({ sent: 1 });
    const before = await getUser(t.db, user._id);

    clock.advance(60 * DAY);
    expect(await worker().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(await worker({ reminderDays: 0 }).runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(await queueDueReminders(t.db, clock.now(), 0)).toBe(0);
    expect(smtp.received).toHaveLength(1);
    expect(await getUser(t.db, user._id)).toEqual(before);
  });

  it('sends exactly one reminder N days after the invitation, saying it is a reminder, with a new link', async () => {
    const user = await insertUser(t.db, { invitation: entry('invitation') });
    const w = () => worker({ reminderDays: 3 });
    expect(await w().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    const invitation = smtp.received[0]!;
    expect(invitation.header('subject')).toBe("You're invited to join Acme Corp");
    expect(invitation.text).not.toMatch(/reminder/i);

    clock.set(at(3 * DAY - 1));
    expect(await w().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });

    clock.set(at(3 * DAY));
    expect(await w().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    expect(smtp.received).toHaveLength(2);
    const reminder = smtp.received[1]!;
    expect(reminder.rcptTo).toEqual([user.email]);
    expect(reminder.header('subject')).toBe("Reminder: you're invited to join Acme Corp");
    expect(reminder.text).toContain('This is a reminder: you were invited to join Acme Corp');
    expect(reminder.html).toContain('This is a reminder');
    expect(tokenIn(reminder)).not.toBe(tokenIn(invitation));
    expect((await getUser(t.db, user._id)).invitation).toMatchObject({
      state: 'sent',
      sentAt: at(3 * DAY),
      remindedAt: at(3 * DAY),
      reminders: 1,
    });

    clock.set(at(30 * DAY));
    expect(await w().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(await queueDueReminders(t.db, at(90 * DAY), 3)).toBe(0);
    expect(smtp.received).toHaveLength(2);

    // Both links open the invitation while they last (14 days after each was sent).
    expect(await checkInvitation(t.db, tokenIn(invitation), at(14 * DAY - 1))).toMatchObject({ ok: true });
    expect(await acceptInvitation(t.db, tokenIn(reminder), at(16 * DAY))).toMatchObject({ ok: true });
  });

  it('reminds no one who accepted, was deleted or activated, nor invitations queued, failed or cancelled', async () => {
    const docs = [
      await sent({ acceptedAt: at(DAY) }, 'active'),
      await sent({}, 'active'),
      await sent({}, 'deleted'),
      await sent({ state: 'cancelled' }),
      await sent({ state: 'failed' }),
      await sent({ state: 'pending' }),
      await sent({ reminders: 1, remindedAt: at(DAY) }),
    ];
    const before = await Promise.all(docs.map((d) => getUser(t.db, d._id)));
    const due = await sent();

    expect(await queueDueReminders(t.db, at(10 * DAY), 2)).toBe(1);
    expect(await Promise.all(docs.map((d) => getUser(t.db, d._id)))).toEqual(before);
    expect(await getUser(t.db, due._id)).toMatchObject({
      mailDue: true,
      invitation: { state: 'pending', attempts: 0, nextAttemptAt: at(10 * DAY), reminders: 1 },
    });
  });

  it('sends an invitation the administrator resends after the reminder as a plain invitation', async () => {
    await sent({ sentAt: T0 });
    clock.set(at(5 * DAY));
    expect(await worker({ reminderDays: 5 }).runOnce()).toMatchObject({ sent: 1 });
    expect(smtp.received[0]!.header('subject')).toMatch(/^Reminder: /);

    clock.set(at(6 * DAY));
    expect(await resendInvitations(t.db, 'acct1', {}, clock.now(), { notAccepted: true })).toMatchObject({
      notAccepted: 1,
    });
    expect(await worker({ reminderDays: 5 }).runOnce()).toMatchObject({ sent: 1 });
    expect(smtp.received[1]!.header('subject')).toBe("You're invited to join Acme Corp");
    expect(smtp.received).toHaveLength(2);
  });

  it('refuses settings that would not mean what was asked', async () => {
    await expect(queueDueReminders(t.db, T0, -1)).rejects.toThrow(RangeError);
    await expect(queueDueReminders(t.db, T0, 1.5)).rejects.toThrow(RangeError);
    await expect(queueDueReminders(t.db, new Date('nope'), 3)).rejects.toThrow(RangeError);
    expect(() => worker({ reminderDays: -2 })).toThrow(RangeError);
    expect(() => worker({ inviteTtlDays: 0 })).toThrow(RangeError);
  });
});
