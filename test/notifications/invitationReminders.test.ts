import { silentLogger } from '../../services/logger';
import { acceptInvitation, checkInvitation } from '../../services/notifications/invitationAcceptance';
import { queueDueReminders } from '../../services/notifications/invitationReminders';
import { resendInvitations } from '../../services/notifications/invitationResend';
import { OutboxWorker, type OutboxWorkerOptions } from '../../services/notifications/outboxWorker';
import { type OutboxEntry, type UserStatus } from '../../services/users/userTypes';
import { useMailTestbed } from './mailTestbed';
import { type ReceivedMail } from './smtpTestServer';
import { entry, getUser, insertUser, T0 } from './userFixtures';

const DAY = 24 * 60 * 60_000;
const at = (ms: number) => new Date(T0.getTime() + ms);

function tokenIn(mail: ReceivedMail): string {
  const match = /https:\/\/app\.example\.test\/invite\?token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error('no invitation link in the message');
  return match[1];
}

describe('invitation reminders', () => {
  const bed = useMailTestbed();

  const worker = (changes: Partial<OutboxWorkerOptions> = {}) =>
    new OutboxWorker({
      db: bed.t.db,
      transport: bed.transport,
      accountName: 'Acme Corp',
      inviteUrlBase: 'https://app.example.test/invite',
      log: silentLogger,
      now: bed.clock.now,
      ...changes,
    });
  const sent = (changes: Partial<OutboxEntry> = {}, status: UserStatus = 'invited') =>
    insertUser(bed.t.db, {
      status,
      ...(status === 'deleted' ? { deletedAt: T0 } : {}),
      invitation: entry('invitation', { state: 'sent', attempts: 1, sentAt: T0, tokenHash: 'h', ...changes }),
    });

  it('sends none when reminders are off', async () => {
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    expect(await worker().runOnce()).toMatchObject({ sent: 1 });
    const before = await getUser(bed.t.db, user._id);

    bed.clock.advance(60 * DAY);
    expect(await worker().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(await worker({ reminderDays: 0 }).runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(await queueDueReminders(bed.t.db, bed.clock.now(), 0)).toBe(0);
    expect(bed.smtp.received).toHaveLength(1);
    expect(await getUser(bed.t.db, user._id)).toEqual(before);
  });

  it('sends exactly one reminder N days after the invitation, saying it is a reminder, with a new link', async () => {
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    const w = () => worker({ reminderDays: 3 });
    expect(await w().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    const invitation = bed.smtp.received[0]!;
    expect(invitation.header('subject')).toBe("You're invited to join Acme Corp");
    expect(invitation.text).not.toMatch(/reminder/i);

    bed.clock.set(at(3 * DAY - 1));
    expect(await w().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });

    bed.clock.set(at(3 * DAY));
    expect(await w().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    expect(bed.smtp.received).toHaveLength(2);
    const reminder = bed.smtp.received[1]!;
    expect(reminder.rcptTo).toEqual([user.email]);
    expect(reminder.header('subject')).toBe("Reminder: you're invited to join Acme Corp");
    expect(reminder.text).toContain('This is a reminder: you were invited to join Acme Corp');
    expect(reminder.html).toContain('This is a reminder');
    expect(tokenIn(reminder)).not.toBe(tokenIn(invitation));
    expect((await getUser(bed.t.db, user._id)).invitation).toMatchObject({
      state: 'sent',
      sentAt: at(3 * DAY),
      remindedAt: at(3 * DAY),
      reminders: 1,
    });

    bed.clock.set(at(30 * DAY));
    expect(await w().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(await queueDueReminders(bed.t.db, at(90 * DAY), 3)).toBe(0);
    expect(bed.smtp.received).toHaveLength(2);

    // Both links open the invitation while they last (14 days after each was sent).
    expect(await checkInvitation(bed.t.db, tokenIn(invitation), at(14 * DAY - 1))).toMatchObject({
      ok: true,
    });
    expect(await acceptInvitation(bed.t.db, tokenIn(reminder), at(16 * DAY))).toMatchObject({ ok: true });
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
    const before = await Promise.all(docs.map((d) => getUser(bed.t.db, d._id)));
    const due = await sent();

    expect(await queueDueReminders(bed.t.db, at(10 * DAY), 2)).toBe(1);
    expect(await Promise.all(docs.map((d) => getUser(bed.t.db, d._id)))).toEqual(before);
    expect(await getUser(bed.t.db, due._id)).toMatchObject({
      mailDue: true,
      invitation: { state: 'pending', attempts: 0, nextAttemptAt: at(10 * DAY), reminders: 1 },
    });
  });

  it('sends an invitation the administrator resends after the reminder as a plain invitation', async () => {
    await sent({ sentAt: T0 });
    bed.clock.set(at(5 * DAY));
    expect(await worker({ reminderDays: 5 }).runOnce()).toMatchObject({ sent: 1 });
    expect(bed.smtp.received[0]!.header('subject')).toMatch(/^Reminder: /);

    bed.clock.set(at(6 * DAY));
    expect(
      await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now(), { notAccepted: true }),
    ).toMatchObject({
      notAccepted: 1,
    });
    expect(await worker({ reminderDays: 5 }).runOnce()).toMatchObject({ sent: 1 });
    expect(bed.smtp.received[1]!.header('subject')).toBe("You're invited to join Acme Corp");
    expect(bed.smtp.received).toHaveLength(2);
  });

  it('refuses settings that would not mean what was asked', async () => {
    await expect(queueDueReminders(bed.t.db, T0, -1)).rejects.toThrow(RangeError);
    await expect(queueDueReminders(bed.t.db, T0, 1.5)).rejects.toThrow(RangeError);
    await expect(queueDueReminders(bed.t.db, new Date('nope'), 3)).rejects.toThrow(RangeError);
    expect(() => worker({ reminderDays: -2 })).toThrow(RangeError);
    expect(() => worker({ inviteTtlDays: 0 })).toThrow(RangeError);
  });
});
