import type { Db, Document, Filter } from 'mongodb';
import { USERS_COLLECTION, type UserDocument } from '../users/userTypes';
import { invitationScopeFilter, type InvitationScope } from './invitationStatus';

/** What {@link resendInvitations} would do for a scope, counted without changing anything. */
export interface ResendPlan {
  /** Failed invitations of still-invited users that would be queued again. */
  failed: number;
  /** Pending ones whose next attempt would be brought forward to now. */
  pending: number;
  /** Failed invitations of users deleted or already active, left alone. */
  skipped: number;
}

/** What {@link resendInvitations} did. */
export interface ResendResult {
  /** Failed invitations queued again, as fresh messages due now. */
  requeued: number;
  /** Pending invitations waiting for a later retry whose next attempt is now. */
  expedited: number;
}

/**
 * Counts what {@link resendInvitations} would do in `accountId` for the invitations within `scope` if it ran
 * at `now`.
 */
export async function planResend(
  db: Db,
  accountId: string,
  scope: InvitationScope,
  now: Date = new Date(),
): Promise<ResendPlan> {
  const base = invitationScopeFilter(accountId, scope);
  const users = db.collection<UserDocument>(USERS_COLLECTION);
  const [failed, pending, skipped] = await Promise.all([
    users.countDocuments(requeueFilter(base)),
    users.countDocuments(expediteFilter(base, now)),
    users.countDocuments(
      asFilter({ ...base, status: { $in: ['active', 'deleted'] }, 'invitation.state': 'failed' }),
    ),
  ]);
  return { failed, pending, skipped };
}

/**
 * Sends the invitations of `accountId` within `scope` again: each failed invitation of a user who is still
 * only invited is queued afresh (no attempts, due at `now`, keeping the import and time it was first queued
 * for), and each pending one waiting for a later retry becomes due at `now`. The outbox worker then claims
 * them as usual, and its claim issues a new invitation token.
 *
 * Sent invitations, ones a worker is sending right now, and those of deleted or active users are left alone.
 * Each document changes in one conditional update, so a worker or an import acting at the same time is never
 * overwritten; running it twice queues nothing the second time that has not failed again in between.
 */
export async function resendInvitations(
  db: Db,
  accountId: string,
  scope: InvitationScope,
  now: Date = new Date(),
): Promise<ResendResult> {
  const base = invitationScopeFilter(accountId, scope);
  const users = db.collection<UserDocument>(USERS_COLLECTION);
  // One updateMany statement each: FerretDB handles a filtered update of any size, but not long statement lists.
  const expedited = await users.updateMany(expediteFilter(base, now), {
    $set: { 'invitation.nextAttemptAt': now, mailDue: true },
  });
  const requeued = await users.updateMany(requeueFilter(base), {
    $set: {
      'invitation.state': 'pending',
      'invitation.attempts': 0,
      'invitation.nextAttemptAt': now,
      mailDue: true,
    },
    $unset: { 'invitation.lastError': '', 'invitation.leaseUntil': '' },
  });
  return { requeued: requeued.modifiedCount, expedited: expedited.modifiedCount };
}

/** Failed invitations of users who are still only invited. */
function requeueFilter(base: Document): Filter<UserDocument> {
  return asFilter({ ...base, status: 'invited', 'invitation.state': 'failed' });
}

/** Pending (not sending) invitations of invited users whose next attempt is after `now`. */
function expediteFilter(base: Document, now: Date): Filter<UserDocument> {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new RangeError('now must be a valid date');
  return asFilter({
    ...base,
    status: 'invited',
    'invitation.state': 'pending',
    'invitation.nextAttemptAt': { $gt: now },
  });
}

/** Dotted paths into the invitation are built at run time, which the driver's filter type cannot follow. */
function asFilter(query: Document): Filter<UserDocument> {
  return query as Filter<UserDocument>;
}
