import type { Db, Document, Filter, UpdateFilter } from 'mongodb';
import { USERS_COLLECTION, type UserDocument } from '../users/userTypes';
import { invitationScopeFilter, type InvitationScope } from './invitationStatus';

/** What {@link resendInvitations} would do for a scope, counted without changing anything. */
export interface ResendPlan {
  /** Failed invitations of still-invited users that would be queued again. */
  failed: number;
  /** Pending ones whose next attempt would be brought forward to now. */
  pending: number;
  /**
   * With `notAccepted`: invitations delivered to users who are still only invited and have not accepted, that
   * would be sent again with a new link (0 otherwise).
   */
  notAccepted: number;
  /** Failed invitations of users deleted or already active, left alone. */
  skipped: number;
}

/** What to resend besides the failed and waiting invitations, which are always included. */
export interface ResendOptions {
  /**
   * Also send again the invitations that went out but were not accepted (state `sent`, no `acceptedAt`, the
   * user still only invited). Each gets a new link; the links sent before keep working until they expire.
   */
  notAccepted?: boolean;
}

/** What {@link resendInvitations} did. */
export interface ResendResult {
  /** Failed invitations queued again, as fresh messages due now. */
  requeued: number;
  /** Pending invitations waiting for a later retry whose next attempt is now. */
  expedited: number;
  /** With `notAccepted`: delivered but unaccepted invitations queued to be sent again (0 otherwise). */
  notAccepted: number;
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
  options: ResendOptions = {},
): Promise<ResendPlan> {
  const base = invitationScopeFilter(accountId, scope);
  const users = db.collection<UserDocument>(USERS_COLLECTION);
  const [failed, pending, notAccepted, skipped] = await Promise.all([
    users.countDocuments(requeueFilter(base)),
    users.countDocuments(expediteFilter(base, now)),
    options.notAccepted ? users.countDocuments(notAcceptedFilter(base)) : 0,
    users.countDocuments(
      asFilter({ ...base, status: { $in: ['active', 'deleted'] }, 'invitation.state': 'failed' }),
    ),
  ]);
  return { failed, pending, notAccepted, skipped };
}

/**
 * Sends the invitations of `accountId` within `scope` again: each failed invitation of a user who is still
 * only invited is queued afresh (no attempts, due at `now`, keeping the import and time it was first queued
 * for), and each pending one waiting for a later retry becomes due at `now`. The outbox worker then claims
 * them as usual, and its claim issues a new invitation token.
 *
 * With `options.notAccepted`, invitations that were sent but not accepted by users still only invited are
 * queued afresh the same way; the worker's claim gives each a new token, and the links sent before keep
 * working until they expire (see invitationAcceptance.ts).
 *
 * Without it sent invitations are left alone; accepted and cancelled ones, ones a worker is sending right now,
 * and those of deleted or active users always are. Each document changes in one conditional update, so a
 * worker or an import acting at the same time is never overwritten; running it twice queues nothing the
 * second time that has not failed (or, with `notAccepted`, gone out) again in between.
 */
export async function resendInvitations(
  db: Db,
  accountId: string,
  scope: InvitationScope,
  now: Date = new Date(),
  options: ResendOptions = {},
): Promise<ResendResult> {
  const base = invitationScopeFilter(accountId, scope);
  const users = db.collection<UserDocument>(USERS_COLLECTION);
  // One updateMany statement each: FerretDB handles a filtered update of any size, but not long statement lists.
  const expedited = await users.updateMany(expediteFilter(base, now), {
    $set: { 'invitation.nextAttemptAt': now, mailDue: true },
  });
  const requeue: UpdateFilter<UserDocument> = {
    $set: {
      'invitation.state': 'pending',
      'invitation.attempts': 0,
      'invitation.nextAttemptAt': now,
      mailDue: true,
    },
    $unset: { 'invitation.lastError': '', 'invitation.leaseUntil': '' },
  };
  const requeued = await users.updateMany(requeueFilter(base), requeue);
  const notAccepted = options.notAccepted
    ? (await users.updateMany(notAcceptedFilter(base), requeue)).modifiedCount
    : 0;
  return { requeued: requeued.modifiedCount, expedited: expedited.modifiedCount, notAccepted };
}

/** Failed invitations of users who are still only invited. */
function requeueFilter(base: Document): Filter<UserDocument> {
  return asFilter({ ...base, status: 'invited', 'invitation.state': 'failed' });
}

/** Delivered invitations of users who are still only invited and have not accepted them. */
function notAcceptedFilter(base: Document): Filter<UserDocument> {
  return asFilter({
    ...base,
    status: 'invited',
    'invitation.state': 'sent',
    'invitation.acceptedAt': { $exists: false },
  });
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
