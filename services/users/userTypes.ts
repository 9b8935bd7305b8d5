import type { ObjectId } from 'mongodb';

/** The profile fields an import file can carry, in the order the original console listed them. */
export const PROFILE_FIELDS = [
  'firstName',
  'lastName',
  'alternateId',
  'workPhone',
  'title',
  'department',
] as const;
export type ProfileField = (typeof PROFILE_FIELDS)[number];
export type Profile = Partial<Record<ProfileField, string>>;

export type UserStatus = 'invited' | 'active' | 'deleted';

/**
 * Delivery state of one queued message. `sending` is held under a lease by one worker; `cancelled` was never
 * sent because an undo took back the change that queued it.
 */
export type MailState = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';
export type MailKind = 'invitation' | 'activation';

/**
 * A message waiting in (or gone through) the outbox. It lives inside the user's own document so that
 * queueing it is atomic with the change that caused it, without transactions.
 */
export interface OutboxEntry {
  kind: MailKind;
  state: MailState;
  importId: string;
  queuedAt: Date;
  attempts: number;
  nextAttemptAt: Date;
  leaseUntil?: Date;
  sentAt?: Date;
  lastError?: string;
  /**
   * sha256 of the latest invitation token issued; the token itself exists only inside the sent message.
   * Invitations sent before `tokens` existed have only this (valid for the token lifetime after `sentAt`).
   */
  tokenHash?: string;
  /** Invitation tokens that open the invitation until they expire, oldest first, at most 5 (notifications/). */
  tokens?: IssuedToken[];
  /** When the invited person accepted (the user became active then); the state stays `sent`. */
  acceptedAt?: Date;
  /** When the one reminder of an unaccepted invitation was queued, and how many (0 or 1) were. */
  remindedAt?: Date;
  reminders?: number;
}

/** One invitation token the outbox worker issued, by its sha256 hash only. */
export interface IssuedToken {
  hash: string;
  expiresAt: Date;
}

export interface UserDocument extends Profile {
  _id: ObjectId;
  accountId: string;
  /** Trimmed and lower-cased; unique per account. */
  email: string;
  status: UserStatus;
  createdAt: Date;
  updatedAt: Date;
  deletedAt?: Date;
  activatedAt?: Date;
  createdByImportId?: string;
  lastImportId?: string;
  invitation?: OutboxEntry;
  activationNotice?: OutboxEntry;
  /** True while a message above is pending or sending, so workers find work with one indexed query. */
  mailDue?: boolean;
}

export const USERS_COLLECTION = 'users';
