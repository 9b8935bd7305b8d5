import type { Db, Document, Filter } from 'mongodb';
import { USERS_COLLECTION, type MailState, type UserDocument, type UserStatus } from '../users/userTypes';
import { recipientName } from './messages';
import { redactAddresses, singleLine } from './textSafety';

/**
 * Which invitations a question is about. `importId` keeps those queued by that import (`invitation.importId`);
 * `from` and `to` keep those queued within the period (`invitation.queuedAt`, both ends inclusive). The two
 * combine; an empty scope means every invitation of the account.
 */
export interface InvitationScope {
  importId?: string;
  from?: Date;
  to?: Date;
}

/** An invitation's delivery state as reported: one a worker is sending right now counts as `pending`. */
export type InvitationState = 'pending' | 'sent' | 'failed';

/**
 * Invitations by reported state; `total` is pending + sent + failed. `sent` counts every delivered invitation,
 * accepted or not; `accepted` is the part of `sent` that the invited person has accepted. Cancelled
 * invitations are not counted at all.
 */
export interface InvitationCounts {
  pending: number;
  sent: number;
  failed: number;
  total: number;
  accepted: number;
}

/** One invited person, as much as an administrator needs to see. Never carries a token or its hash. */
export interface InvitationPerson {
  email: string;
  /** "First Last" on one line, or '' when the import gave no name. */
  name: string;
  state: InvitationState;
  importId: string;
  queuedAt: Date;
  sentAt?: Date;
  /** When the person accepted the invitation (their account became active then). */
  acceptedAt?: Date;
  /** Short reason for the last failed attempt, with addresses redacted (see textSafety.ts redactAddresses). */
  lastError?: string;
  userStatus: UserStatus;
}

export interface InvitationStatus {
  counts: InvitationCounts;
  /** One page of the people matching the page's state filter, newest invitation first, then by email. */
  people: InvitationPerson[];
  /** How many people match the page's state filter in all. */
  peopleTotal: number;
}

/** One page of people: `skip` of them are passed over, at most `limit` returned, only `state` ones if set. */
export interface InvitationPage {
  skip: number;
  limit: number;
  state?: InvitationState;
}

/** The largest page {@link invitationStatus} returns. */
export const MAX_INVITATION_PAGE = 500;

/** Stored states behind each reported state. */
const STORED_STATES: Record<InvitationState, MailState[]> = {
  pending: ['pending', 'sending'],
  sent: ['sent'],
  failed: ['failed'],
};
const ALL_STORED_STATES: MailState[] = ['pending', 'sending', 'sent', 'failed'];
const LAST_ERROR_LENGTH = 200;

/**
 * How the invitations of `accountId` within `scope` are getting on: counts by state, and one page of the
 * people they were sent to. Invitations of users since deleted or activated are included, with the user's
 * status, so the counts agree with the import's own mail summary.
 */
export async function invitationStatus(
  db: Db,
  accountId: string,
  scope: InvitationScope,
  page: InvitationPage,
): Promise<InvitationStatus> {
  checkPage(page);
  const base = invitationScopeFilter(accountId, scope);
  const users = db.collection<UserDocument>(USERS_COLLECTION);
  const [counts, docs] = await Promise.all([
    countInvitations(db, base),
    users
      .find(
        asFilter({
          ...base,
          'invitation.state': { $in: page.state ? STORED_STATES[page.state] : ALL_STORED_STATES },
        }),
        {
          projection: { email: 1, firstName: 1, lastName: 1, status: 1, invitation: 1 },
          // email is unique within an account, so the order is total and pages neither repeat nor skip anyone.
          sort: { 'invitation.queuedAt': -1, email: 1 },
          skip: page.skip,
          limit: page.limit,
        },
      )
      .toArray(),
  ]);
  const people: InvitationPerson[] = [];
  for (const user of docs) {
    const person = toPerson(user);
    if (person) people.push(person);
  }
  return { counts, people, peopleTotal: page.state ? counts[page.state] : counts.total };
}

/**
 * The filter selecting the invitations of `accountId` within `scope`: any user of the account whose
 * invitation is in one of the known states and matches the scope. Shared by status and resend so both always
 * agree on what a scope covers.
 */
export function invitationScopeFilter(accountId: string, scope: InvitationScope): Document {
  if (typeof accountId !== 'string' || accountId === '') throw new TypeError('accountId must be given');
  const query: Document = { accountId, 'invitation.state': { $in: ALL_STORED_STATES } };
  if (scope.importId !== undefined) query['invitation.importId'] = scope.importId;
  const queuedAt: Document = {};
  if (scope.from !== undefined) queuedAt.$gte = checkDate(scope.from, 'from');
  if (scope.to !== undefined) queuedAt.$lte = checkDate(scope.to, 'to');
  if (Object.keys(queuedAt).length > 0) query['invitation.queuedAt'] = queuedAt;
  return query;
}

async function countInvitations(db: Db, base: Document): Promise<InvitationCounts> {
  // Only $match and $group with $sum: the pipeline has to run on FerretDB as well as MongoDB.
  const [groups, accepted] = await Promise.all([
    db
      .collection(USERS_COLLECTION)
      .aggregate<{ _id: unknown; count: number }>([
        { $match: base },
        { $group: { _id: '$invitation.state', count: { $sum: 1 } } },
      ])
      .toArray(),
    db
      .collection(USERS_COLLECTION)
      .countDocuments({ ...base, 'invitation.state': 'sent', 'invitation.acceptedAt': { $exists: true } }),
  ]);
  const counts: InvitationCounts = { pending: 0, sent: 0, failed: 0, total: 0, accepted };
  for (const { _id: state, count } of groups) {
    const reported = reportedState(state);
    if (!reported) continue;
    counts[reported] += count;
    counts.total += count;
  }
  return counts;
}

function toPerson(user: UserDocument): InvitationPerson | undefined {
  const invitation = user.invitation;
  const state = reportedState(invitation?.state);
  if (!invitation || !state) return undefined;
  const person: InvitationPerson = {
    email: user.email,
    name: recipientName(user) ?? '',
    state,
    importId: invitation.importId,
    queuedAt: invitation.queuedAt,
    userStatus: user.status,
  };
  if (invitation.sentAt) person.sentAt = invitation.sentAt;
  if (invitation.acceptedAt) person.acceptedAt = invitation.acceptedAt;
  if (invitation.lastError) {
    const reason = singleLine(redactAddresses(invitation.lastError), LAST_ERROR_LENGTH);
    if (reason) person.lastError = reason;
  }
  return person;
}

function reportedState(state: unknown): InvitationState | undefined {
  if (state === 'pending' || state === 'sending') return 'pending';
  if (state === 'sent' || state === 'failed') return state;
  return undefined;
}

function checkPage(page: InvitationPage): void {
  if (!Number.isInteger(page.skip) || page.skip < 0) {
    throw new RangeError('page.skip must be a whole number, at least 0');
  }
  // A limit of 0 means "no limit" to the database, so it is refused rather than passed on.
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > MAX_INVITATION_PAGE) {
    throw new RangeError(`page.limit must be a whole number from 1 to ${MAX_INVITATION_PAGE}`);
  }
  if (page.state !== undefined && !Object.hasOwn(STORED_STATES, page.state)) {
    throw new RangeError('page.state must be pending, sent or failed');
  }
}

function checkDate(value: Date, name: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new RangeError(`scope.${name} must be a valid date`);
  }
  return value;
}

/** Dotted paths into the invitation are built at run time, which the driver's filter type cannot follow. */
function asFilter(query: Document): Filter<UserDocument> {
  return query as Filter<UserDocument>;
}
