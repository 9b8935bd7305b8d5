import { timingSafeEqual } from 'node:crypto';
import type { Db, Document, Filter } from 'mongodb';
import { z } from 'zod';
import { USERS_COLLECTION, type IssuedToken, type UserDocument } from '../users/userTypes';
import { hashInvitationToken } from './invitationToken';
import { recipientName } from './messages';

/** How long an invitation link works after it was sent, unless INVITE_TTL_DAYS says otherwise. */
export const DEFAULT_INVITE_TTL_DAYS = 14;
/**
 * How many of an invitation's tokens are kept. Reminders and resends issue a new token each time, and the
 * links sent earlier keep working until they expire, as long as they are among the latest five.
 */
export const MAX_LIVE_TOKENS = 5;

const DAY_MS = 24 * 60 * 60_000;

/** The shape of a token {@link newInvitationToken} issues: 32 random bytes as base64url, 43 characters. */
export const invitationTokenSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'not an invitation token');

/** Why a link does not open an invitation that can be accepted. */
export type InvitationRefusal =
  /** No invitation has this token (or it was never delivered, or has been replaced by a newer import). */
  | 'unknown'
  /** The token's lifetime is over. */
  | 'expired'
  /** The invitation was accepted already, or the user is active anyway. */
  | 'used'
  /** The invitation was cancelled (an undo took back the import that queued it). */
  | 'cancelled'
  /** The user the invitation was for has been deleted. */
  | 'deleted'
  /** A worker is sending this invitation again right now; trying a moment later works. */
  | 'busy';

/** The invited person, as much as the acceptance page shows. */
export interface Invitee {
  accountId: string;
  /** "First Last" on one line, or undefined when the import gave no name. */
  name: string | undefined;
}

export type InvitationCheck = { ok: true; invitee: Invitee } | { ok: false; reason: InvitationRefusal };

export type AcceptOutcome =
  { ok: true; invitee: Invitee; acceptedAt: Date } | { ok: false; reason: InvitationRefusal };

export interface AcceptanceOptions {
  /**
   * Lifetime in days of tokens issued before tokens carried their own expiry (only `tokenHash` stored): they
   * work for this long after the message was sent. Defaults to {@link DEFAULT_INVITE_TTL_DAYS}.
   */
  ttlDays?: number;
}

/** Invitation states in which a delivered link can still be accepted (a resend may be queued or have failed). */
const ACCEPTABLE_STATES = ['sent', 'pending', 'failed'];
const LIVE_STATES = ['pending', 'sending'];

/** The token record the outbox worker stores when it issues a token at `now`. */
export function issuedToken(hash: string, now: Date, ttlDays: number = DEFAULT_INVITE_TTL_DAYS): IssuedToken {
  checkTtl(ttlDays);
  return { hash, expiresAt: new Date(now.getTime() + ttlDays * DAY_MS) };
}

/** The tokens to keep: all but `drop` (a token whose message did not go out), the latest {@link MAX_LIVE_TOKENS}. */
export function keepLatestTokens(tokens: IssuedToken[] | undefined, drop?: string): IssuedToken[] {
  return (tokens ?? []).filter((t) => t.hash !== drop).slice(-MAX_LIVE_TOKENS);
}

/**
 * What a link with `token` opens at `now`, without changing anything: a page fetched by a mail scanner or a
 * link preview must not accept the invitation.
 */
export async function checkInvitation(
  db: Db,
  token: string,
  now: Date,
  options: AcceptanceOptions = {},
): Promise<InvitationCheck> {
  const parsed = invitationTokenSchema.safeParse(token);
  if (!parsed.success) return { ok: false, reason: 'unknown' };
  const hash = hashInvitationToken(parsed.data);
  const verdict = judge(await findByToken(db, hash), hash, checkDate(now), ttlMs(options));
  return verdict.ok ? { ok: true, invitee: verdict.invitee } : verdict;
}

/**
 * Accepts the invitation a link with `token` opens: the user becomes `active` (`activatedAt`) and the
 * invitation records `acceptedAt` (its state stays, or becomes again, `sent`), in one conditional update that
 * only matches a still-invited user whose unaccepted invitation carries this token; the token's expiry was
 * fixed when it was issued and is checked on the document read just before. A second acceptance, or one racing
 * with a deletion, an undo or another acceptance, is refused with the reason the document then gives.
 */
export async function acceptInvitation(
  db: Db,
  token: string,
  now: Date,
  options: AcceptanceOptions = {},
): Promise<AcceptOutcome> {
  const parsed = invitationTokenSchema.safeParse(token);
  if (!parsed.success) return { ok: false, reason: 'unknown' };
  const hash = hashInvitationToken(parsed.data);
  checkDate(now);
  const ttl = ttlMs(options);
  const users = db.collection<UserDocument>(USERS_COLLECTION);

  const user = await findByToken(db, hash);
  const verdict = judge(user, hash, now, ttl);
  if (!verdict.ok || !user?.invitation) return verdict.ok ? { ok: false, reason: 'unknown' } : verdict;
  const invitation = user.invitation;

  const query: Document = {
    _id: user._id,
    status: 'invited',
    'invitation.importId': invitation.importId,
    'invitation.state': { $in: ACCEPTABLE_STATES },
    'invitation.acceptedAt': { $exists: false },
  };
  if (verdict.legacy) {
    query['invitation.tokens'] = { $exists: false };
    query['invitation.tokenHash'] = hash;
    if (invitation.sentAt) query['invitation.sentAt'] = invitation.sentAt;
  } else {
    // An issued token's expiry never changes, so the one just checked still holds while the hash is there.
    query['invitation.tokens.hash'] = hash;
  }
  const outcome = await users.updateOne(asFilter(query), {
    $set: {
      status: 'active',
      activatedAt: now,
      updatedAt: now,
      'invitation.state': 'sent',
      'invitation.acceptedAt': now,
    },
    $unset: { 'invitation.lastError': '' },
  });
  if (outcome.modifiedCount === 0) {
    // Something changed in between: say what the document says now.
    const again = judge(await users.findOne({ _id: user._id }), hash, now, ttl);
    return again.ok ? { ok: false, reason: 'busy' } : again;
  }
  if (invitation.state === 'pending') {
    // A resend or reminder was still queued: with nothing else live the worker need not look at this user.
    await users.updateOne(
      asFilter({
        _id: user._id,
        mailDue: true,
        'invitation.state': { $nin: LIVE_STATES },
        'activationNotice.state': { $nin: LIVE_STATES },
      }),
      { $set: { mailDue: false } },
    );
  }
  return { ok: true, invitee: verdict.invitee, acceptedAt: now };
}

async function findByToken(db: Db, hash: string): Promise<UserDocument | null> {
  return db
    .collection<UserDocument>(USERS_COLLECTION)
    .findOne(asFilter({ $or: [{ 'invitation.tokens.hash': hash }, { 'invitation.tokenHash': hash }] }), {
      projection: { accountId: 1, status: 1, firstName: 1, lastName: 1, invitation: 1 },
    });
}

type Verdict = { ok: true; invitee: Invitee; legacy: boolean } | { ok: false; reason: InvitationRefusal };

/** What `user`'s invitation allows for the token with `hash` at `now`. */
function judge(user: UserDocument | null, hash: string, now: Date, ttl: number): Verdict {
  const invitation = user?.invitation;
  if (!user || !invitation) return { ok: false, reason: 'unknown' };
  let expiresAt: Date | undefined;
  const legacy = !Array.isArray(invitation.tokens);
  if (!legacy) {
    // A hash that is only the `tokenHash` belongs to a message that never went out.
    expiresAt = invitation.tokens?.find((t) => sameHash(t.hash, hash))?.expiresAt;
    if (!expiresAt) return { ok: false, reason: 'unknown' };
  } else if (invitation.tokenHash !== undefined && sameHash(invitation.tokenHash, hash)) {
    const since = invitation.sentAt ?? invitation.queuedAt;
    expiresAt = new Date(since.getTime() + ttl);
  } else {
    return { ok: false, reason: 'unknown' };
  }
  // Stored states are compared as text, so a state this module does not know yet reads as unknown below.
  const state: string = invitation.state;
  if (state === 'cancelled') return { ok: false, reason: 'cancelled' };
  if (user.status === 'deleted') return { ok: false, reason: 'deleted' };
  if (invitation.acceptedAt || user.status === 'active') return { ok: false, reason: 'used' };
  if (!(expiresAt instanceof Date) || !(expiresAt.getTime() > now.getTime())) {
    return { ok: false, reason: 'expired' };
  }
  if (state === 'sending') return { ok: false, reason: 'busy' };
  if (!ACCEPTABLE_STATES.includes(state)) return { ok: false, reason: 'unknown' };
  return { ok: true, invitee: { accountId: user.accountId, name: recipientName(user) }, legacy };
}

/** Hashes compared in constant time, out of habit: the database found the document by this hash already. */
function sameHash(stored: string, hash: string): boolean {
  const a = Buffer.from(stored, 'utf8');
  const b = Buffer.from(hash, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}

function ttlMs(options: AcceptanceOptions): number {
  const days = options.ttlDays ?? DEFAULT_INVITE_TTL_DAYS;
  checkTtl(days);
  return days * DAY_MS;
}

function checkTtl(days: number): void {
  if (!Number.isInteger(days) || days < 1)
    throw new RangeError('ttlDays must be a whole number of days, at least 1');
}

function checkDate(now: Date): Date {
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw new RangeError('now must be a valid date');
  return now;
}

/** Dotted paths into the invitation are built at run time, which the driver's filter type cannot follow. */
function asFilter(query: Document): Filter<UserDocument> {
  return query as Filter<UserDocument>;
}
