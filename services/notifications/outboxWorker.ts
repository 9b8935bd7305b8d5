import { createHash } from 'node:crypto';
import type { Collection, Db, Document, Filter, ObjectId } from 'mongodb';
import type { Logger } from '../logger';
import { USERS_COLLECTION, type MailKind, type OutboxEntry, type UserDocument } from '../users/userTypes';
import { issuedToken, keepLatestTokens } from './invitationAcceptance';
import { isReminder, queueDueReminders } from './invitationReminders';
import { invitationLink, newInvitationToken } from './invitationToken';
import type { MailTransport, OutgoingMail } from './mailTransport';
import { composeActivation, composeInvitation, recipientName } from './messages';
import { OUTBOX_FIELD } from './outbox';
import { redactAddresses } from './textSafety';

export { mailSummary } from './mailSummary';

export interface OutboxWorkerOptions {
  db: Db;
  transport: MailTransport;
  /** The account's display name, or a lookup from account id to it. */
  accountName: string | ((accountId: string) => string);
  /** Invitation links are this URL with a `token` query parameter added. */
  inviteUrlBase: string;
  /** Included in activation notices when set. */
  signInUrl?: string;
  log: Logger;
  now?: () => Date;
  /** How long a claim protects a message from other workers; a crashed worker's claims expire after it. */
  leaseMs?: number;
  /** How many claimed messages are sent at the same time. */
  batchSize?: number;
  /** Days an invitation link works after it is sent (INVITE_TTL_DAYS); 14 when not given. */
  inviteTtlDays?: number;
  /**
   * Days after sending that an unaccepted invitation is sent once more as a reminder (INVITE_REMINDER_DAYS);
   * 0 or not given sends none.
   */
  reminderDays?: number;
}

/** What one pass over the outbox did. Retries scheduled for later count as `retrying`. */
export interface OutboxRunResult {
  sent: number;
  failed: number;
  retrying: number;
}

/** After this many attempts a message is given up on and marked `failed`. */
export const MAX_ATTEMPTS = 6;

/** Wait before attempt n + 2 after attempt n + 1 failed: 1 min, 5 min, 30 min, 2 h, 12 h. */
export const RETRY_DELAYS_MS: readonly number[] = [
  60_000,
  5 * 60_000,
  30 * 60_000,
  2 * 60 * 60_000,
  12 * 60 * 60_000,
];

const DEFAULT_LEASE_MS = 10 * 60_000;
const DEFAULT_BATCH_SIZE = 5;
/** Reminders are due by the day, so one worker looks for them at most this often (it polls every few seconds). */
const REMINDER_SCAN_MS = 10 * 60_000;
/** Invitations first: a user queued for both should not hear their account is active before being invited. */
const KINDS: readonly MailKind[] = ['invitation', 'activation'];
const LIVE_STATES = ['pending', 'sending'];

/** A message this worker holds the lease on, exactly as the claim left it. */
interface Claim {
  user: UserDocument;
  kind: MailKind;
  entry: OutboxEntry;
  /** The invitation token; it exists only here and in the message, the database has its hash. */
  token?: string;
}

type Outcome = keyof OutboxRunResult;

/**
 * Sends the invitations and activation notices queued inside user documents. Any number of workers may run
 * against the same database: each message is claimed under a lease with one atomic update, and every later
 * write is conditional on that claim still being the current one.
 */
export class OutboxWorker {
  private readonly users: Collection<UserDocument>;
  private readonly now: () => Date;
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly messageIdDomain: string;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private polling = false;
  private nextReminderScan = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.users = options.db.collection<UserDocument>(USERS_COLLECTION);
    this.now = options.now ?? (() => new Date());
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    if (!Number.isInteger(this.leaseMs) || this.leaseMs < 1000) {
      throw new RangeError('leaseMs must be a whole number of milliseconds, at least 1000');
    }
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) {
      throw new RangeError('batchSize must be a positive whole number');
    }
    const { inviteTtlDays, reminderDays } = options;
    if (inviteTtlDays !== undefined && (!Number.isInteger(inviteTtlDays) || inviteTtlDays < 1)) {
      throw new RangeError('inviteTtlDays must be a whole number of days, at least 1');
    }
    if (reminderDays !== undefined && (!Number.isInteger(reminderDays) || reminderDays < 0)) {
      throw new RangeError('reminderDays must be a whole number of days, 0 for no reminders');
    }
    // Message-IDs should name a domain the sender controls; the invitation site's host is one.
    this.messageIdDomain = new URL(options.inviteUrlBase).hostname || 'enrollment.local';
  }

  /**
   * Sends everything that is due now and returns what happened. Entries whose retry falls due while the
   * run is going wait for the next run, so a run always ends.
   */
  async runOnce(): Promise<OutboxRunResult> {
    const dueBy = this.now();
    const result: OutboxRunResult = { sent: 0, failed: 0, retrying: 0 };
    result.failed += await this.failDeletedUsers(dueBy);
    await this.queueReminders(dueBy);
    for (;;) {
      const claims: Claim[] = [];
      while (claims.length < this.batchSize) {
        const claim = await this.claimNext(
          dueBy,
          claims.map((c) => c.user._id),
        );
        if (!claim) break;
        claims.push(claim);
      }
      if (claims.length === 0) break;
      // Settle every send before reporting a database error, so no claimed message is abandoned mid-send.
      const settled = await Promise.allSettled(claims.map((claim) => this.deliver(claim)));
      for (const outcome of settled) {
        if (outcome.status === 'rejected') throw outcome.reason;
        result[outcome.value] += 1;
      }
    }
    if (result.sent + result.failed + result.retrying > 0) {
      this.options.log.info('Outbox run finished', { ...result });
    }
    return result;
  }

  /** Runs the outbox now and then every `intervalMs` after the previous run ends, until {@link stop}. */
  start(intervalMs: number): void {
    if (this.polling) throw new Error('The outbox worker is already running');
    this.polling = true;
    const tick = () => {
      this.timer = undefined;
      this.inFlight = this.runOnce()
        .then(
          () => undefined,
          (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            this.options.log.error('Outbox run failed; will try again', { error: redactAddresses(message) });
          },
        )
        .finally(() => {
          this.inFlight = undefined;
          if (this.polling) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  /** Stops polling; resolves once a run that is under way has finished. */
  async stop(): Promise<void> {
    this.polling = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }

  private async queueReminders(dueBy: Date): Promise<void> {
    const days = this.options.reminderDays ?? 0;
    if (days === 0 || dueBy.getTime() < this.nextReminderScan) return;
    const queued = await queueDueReminders(this.options.db, dueBy, days);
    this.nextReminderScan = dueBy.getTime() + REMINDER_SCAN_MS;
    if (queued > 0) this.options.log.info('Invitation reminders queued', { count: queued });
  }

  /**
   * Deleted users get no mail. Their live messages are closed as failed in bulk; a message another worker
   * holds a valid lease on is left to it, since that worker claimed it before the deletion.
   */
  private async failDeletedUsers(dueBy: Date): Promise<number> {
    let closed = 0;
    for (const kind of KINDS) {
      const f = OUTBOX_FIELD[kind];
      const outcome = await this.users.updateMany(
        filter({
          mailDue: true,
          status: 'deleted',
          $or: [
            { [`${f}.state`]: 'pending' },
            { [`${f}.state`]: 'sending', [`${f}.leaseUntil`]: { $lt: dueBy } },
          ],
        }),
        {
          $set: { [`${f}.state`]: 'failed', [`${f}.lastError`]: 'user deleted' },
          $unset: { [`${f}.leaseUntil`]: '' },
        },
      );
      closed += outcome.modifiedCount;
    }
    if (closed > 0) {
      await this.users.updateMany(filter({ mailDue: true, status: 'deleted', ...nothingLive() }), {
        $set: { mailDue: false },
      });
    }
    return closed;
  }

  /**
   * Claims one due message with a single atomic update, or returns undefined when nothing is due. Users
   * already in the batch are skipped, so a user's activation notice goes out after their invitation rather
   * than alongside it.
   */
  private async claimNext(dueBy: Date, inBatch: ObjectId[]): Promise<Claim | undefined> {
    for (const kind of KINDS) {
      const f = OUTBOX_FIELD[kind];
      const invitation = kind === 'invitation' ? newInvitationToken() : undefined;
      const set: Document = {
        [`${f}.state`]: 'sending',
        [`${f}.leaseUntil`]: new Date(this.now().getTime() + this.leaseMs),
      };
      if (invitation) set[`${f}.tokenHash`] = invitation.tokenHash;
      // Earlier links stay valid: the new token joins the list (trimmed when the claim is settled).
      const push = invitation
        ? {
            $push: {
              [`${f}.tokens`]: issuedToken(invitation.tokenHash, this.now(), this.options.inviteTtlDays),
            },
          }
        : {};
      const user = await this.users.findOneAndUpdate(
        filter({
          mailDue: true,
          status: { $ne: 'deleted' },
          ...(inBatch.length > 0 ? { _id: { $nin: inBatch } } : {}),
          $or: [
            { [`${f}.state`]: 'pending', [`${f}.nextAttemptAt`]: { $lte: dueBy } },
            { [`${f}.state`]: 'sending', [`${f}.leaseUntil`]: { $lt: dueBy } },
          ],
        }),
        { $set: set, $inc: { [`${f}.attempts`]: 1 }, ...push },
        { returnDocument: 'after' },
      );
      const entry = user?.[f];
      if (user && entry) return { user, kind, entry, token: invitation?.token };
    }
    return undefined;
  }

  private async deliver(claim: Claim): Promise<Outcome> {
    let message: OutgoingMail;
    try {
      message = this.compose(claim);
      await this.options.transport.send(message);
    } catch (err) {
      return this.recordFailure(claim, err);
    }
    await this.recordSent(claim);
    return 'sent';
  }

  private compose(claim: Claim): OutgoingMail {
    const { user, kind, entry } = claim;
    const accountName =
      typeof this.options.accountName === 'function'
        ? this.options.accountName(user.accountId)
        : this.options.accountName;
    let content;
    if (kind === 'invitation') {
      if (!claim.token) throw new Error('an invitation was claimed without a token');
      const inviteUrl = invitationLink(this.options.inviteUrlBase, claim.token);
      content = composeInvitation({ accountName, user, inviteUrl, reminder: isReminder(entry) });
    } else {
      content = composeActivation({ accountName, user, signInUrl: this.options.signInUrl });
    }
    return {
      to: user.email,
      toName: recipientName(user),
      ...content,
      messageId: this.messageId(user._id, kind, entry),
    };
  }

  /**
   * The same message always gets the same Message-ID, so a receiving server can drop the copy that a
   * resend after a crash mid-send produces. An invitation's identity includes its token: each claim issues a
   * new token and invalidates the old one, and a server keeping only the first copy would leave the user
   * with a dead link.
   */
  private messageId(userId: ObjectId, kind: MailKind, entry: OutboxEntry): string {
    const identity = [
      userId.toHexString(),
      kind,
      entry.importId,
      kind === 'invitation' ? entry.tokenHash : '',
    ]
      .map((part) => part ?? '')
      .join('\n');
    const digest = createHash('sha256').update(identity).digest('hex').slice(0, 40);
    return `<${kind}.${digest}@${this.messageIdDomain}>`;
  }

  private async recordSent(claim: Claim): Promise<void> {
    const f = OUTBOX_FIELD[claim.kind];
    const outcome = await this.users.updateOne(stillClaimed(claim), {
      $set: { [`${f}.state`]: 'sent', [`${f}.sentAt`]: this.now(), ...keptTokens(claim, false) },
      $unset: { [`${f}.leaseUntil`]: '', [`${f}.lastError`]: '' },
    });
    if (outcome.matchedCount === 0) this.warnLostLease(claim);
    await this.clearMailDueIfIdle(claim.user._id);
    this.options.log.info('Message sent', this.logFields(claim));
  }

  private async recordFailure(claim: Claim, err: unknown): Promise<Outcome> {
    const f = OUTBOX_FIELD[claim.kind];
    const lastError = describeError(err);
    const attempts = claim.entry.attempts;
    const giveUp = attempts >= MAX_ATTEMPTS;
    const delay = RETRY_DELAYS_MS[Math.min(attempts, RETRY_DELAYS_MS.length) - 1] ?? RETRY_DELAYS_MS[0] ?? 0;
    const nextAttemptAt = new Date(this.now().getTime() + delay);
    const outcome = await this.users.updateOne(stillClaimed(claim), {
      $set: {
        ...(giveUp
          ? { [`${f}.state`]: 'failed', [`${f}.lastError`]: lastError }
          : {
              [`${f}.state`]: 'pending',
              [`${f}.lastError`]: lastError,
              [`${f}.nextAttemptAt`]: nextAttemptAt,
            }),
        ...keptTokens(claim, true),
      },
      $unset: { [`${f}.leaseUntil`]: '' },
    });
    if (outcome.matchedCount === 0) {
      this.warnLostLease(claim);
      return giveUp ? 'failed' : 'retrying';
    }
    if (giveUp) {
      await this.clearMailDueIfIdle(claim.user._id);
      this.options.log.error('Message failed; giving up', { ...this.logFields(claim), error: lastError });
      return 'failed';
    }
    this.options.log.warn('Message not sent; will retry', {
      ...this.logFields(claim),
      error: lastError,
      nextAttemptAt: nextAttemptAt.toISOString(),
    });
    return 'retrying';
  }

  /**
   * Clears `mailDue` only while neither message on the user is live. Because that condition is part of the
   * update's filter, a message queued by an import at the same moment keeps the flag set.
   */
  private async clearMailDueIfIdle(userId: ObjectId): Promise<void> {
    await this.users.updateOne(filter({ _id: userId, mailDue: true, ...nothingLive() }), {
      $set: { mailDue: false },
    });
  }

  private warnLostLease(claim: Claim): void {
    this.options.log.warn('Another worker took over this message; leaving its state to that worker', {
      ...this.logFields(claim),
    });
  }

  /** Identifiers only: logs never carry addresses, names or tokens. */
  private logFields(claim: Claim): Record<string, unknown> {
    return {
      userId: claim.user._id.toHexString(),
      kind: claim.kind,
      importId: claim.entry.importId,
      attempt: claim.entry.attempts,
    };
  }
}

/** The claim is still ours: same state, same attempt, same import (an import may have replaced the entry). */
function stillClaimed(claim: Claim): Filter<UserDocument> {
  const f = OUTBOX_FIELD[claim.kind];
  return filter({
    _id: claim.user._id,
    [`${f}.state`]: 'sending',
    [`${f}.attempts`]: claim.entry.attempts,
    [`${f}.importId`]: claim.entry.importId,
  });
}

/**
 * The invitation tokens to keep once a claim is settled: the latest few, without this claim's own token when
 * its message did not go out (nobody holds that link). Activation notices carry no tokens.
 */
function keptTokens(claim: Claim, notSent: boolean): Document {
  if (claim.kind !== 'invitation') return {};
  const drop = notSent ? claim.entry.tokenHash : undefined;
  return { [`${OUTBOX_FIELD.invitation}.tokens`]: keepLatestTokens(claim.entry.tokens, drop) };
}

/** Matches users with no pending or sending message; `$nin` also matches a message that does not exist. */
function nothingLive(): Document {
  return Object.fromEntries(KINDS.map((kind) => [`${OUTBOX_FIELD[kind]}.state`, { $nin: LIVE_STATES }]));
}

/** Dotted paths into the outbox entries are built at run time, which the driver's filter type cannot follow. */
function filter(query: Document): Filter<UserDocument> {
  return query as Filter<UserDocument>;
}

function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return redactAddresses(message).slice(0, 500) || 'unknown error';
}
