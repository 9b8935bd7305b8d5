import type { Db } from 'mongodb';
import { USERS_COLLECTION, type MailKind } from '../users/userTypes';
import { OUTBOX_FIELD } from './outbox';

/** Delivery counts for one kind of message. `pending` includes messages being sent right now. */
export interface MailCounts {
  pending: number;
  sent: number;
  failed: number;
}

/** How the messages queued by one import are getting on. */
export interface MailSummary {
  invitations: MailCounts;
  activationNotices: MailCounts;
}

/**
 * Counts the invitations and activation notices queued by `importId` in `accountId`, by delivery state.
 * A user's message that a later import has replaced counts for that later import only.
 */
export async function mailSummary(db: Db, accountId: string, importId: string): Promise<MailSummary> {
  const [invitations, activationNotices] = await Promise.all([
    countByState(db, accountId, importId, 'invitation'),
    countByState(db, accountId, importId, 'activation'),
  ]);
  return { invitations, activationNotices };
}

async function countByState(
  db: Db,
  accountId: string,
  importId: string,
  kind: MailKind,
): Promise<MailCounts> {
  const f = OUTBOX_FIELD[kind];
  // Only $match and $group with $sum: the pipeline has to run on FerretDB as well as MongoDB.
  const groups = await db
    .collection(USERS_COLLECTION)
    .aggregate<{ _id: unknown; count: number }>([
      { $match: { accountId, [`${f}.importId`]: importId } },
      { $group: { _id: `$${f}.state`, count: { $sum: 1 } } },
    ])
    .toArray();
  const counts: MailCounts = { pending: 0, sent: 0, failed: 0 };
  for (const { _id: state, count } of groups) {
    if (state === 'pending' || state === 'sending') counts.pending += count;
    else if (state === 'sent') counts.sent += count;
    else if (state === 'failed') counts.failed += count;
  }
  return counts;
}
