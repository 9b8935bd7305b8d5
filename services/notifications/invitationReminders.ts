import type { Db, Filter } from 'mongodb';
import { USERS_COLLECTION, type OutboxEntry, type UserDocument } from '../users/userTypes';

const DAY_MS = 24 * 60 * 60_000;

/**
 * Queues the one reminder of every invitation sent `reminderDays` or more before `now` that has not been
 * accepted, across all accounts, with one update: the invitation becomes pending again, due at `now`, and
 * records `remindedAt` and `reminders: 1`, so it is never reminded a second time. The outbox worker then
 * sends it with a new token (the links sent before keep working until they expire) and a message that says it
 * is a reminder. Users deleted or active since, accepted invitations, and invitations that are pending,
 * failed or cancelled are left alone. `reminderDays` 0 (reminders off) does nothing. Returns how many were
 * queued.
 */
export async function queueDueReminders(db: Db, now: Date, reminderDays: number): Promise<number> {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new RangeError('now must be a valid date');
  if (!Number.isInteger(reminderDays) || reminderDays < 0) {
    throw new RangeError('reminderDays must be a whole number of days, 0 for no reminders');
  }
  if (reminderDays === 0) return 0;
  const sentBy = new Date(now.getTime() - reminderDays * DAY_MS);
  const outcome = await db.collection<UserDocument>(USERS_COLLECTION).updateMany(
    {
      status: 'invited',
      'invitation.state': 'sent',
      'invitation.sentAt': { $lte: sentBy },
      'invitation.acceptedAt': { $exists: false },
      'invitation.reminders': { $exists: false },
    } as Filter<UserDocument>,
    {
      $set: {
        'invitation.state': 'pending',
        'invitation.attempts': 0,
        'invitation.nextAttemptAt': now,
        'invitation.remindedAt': now,
        'invitation.reminders': 1,
        mailDue: true,
      },
      $unset: { 'invitation.lastError': '', 'invitation.leaseUntil': '' },
    },
  );
  return outcome.modifiedCount;
}

/**
 * Whether the message an invitation entry is about to send is its reminder: one was queued after the last
 * time the invitation went out. (A resend the administrator asks for after the reminder is a plain invitation.)
 */
export function isReminder(entry: OutboxEntry): boolean {
  if (!entry.remindedAt) return false;
  return !entry.sentAt || entry.remindedAt.getTime() > entry.sentAt.getTime();
}
