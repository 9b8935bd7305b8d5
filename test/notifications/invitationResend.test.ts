import { createHash } from 'node:crypto';
import { silentLogger } from '../../services/logger';
import { acceptInvitation, checkInvitation } from '../../services/notifications/invitationAcceptance';
import { invitationStatus } from '../../services/notifications/invitationStatus';
import { planResend, resendInvitations } from '../../services/notifications/invitationResend';
import { MAX_ATTEMPTS, OutboxWorker, RETRY_DELAYS_MS } from '../../services/notifications/outboxWorker';
import { type OutboxEntry, type UserDocument, type UserStatus } from '../../services/users/userTypes';
import { useMailTestbed } from './mailTestbed';
import { type ReceivedMail } from './smtpTestServer';
import { entry, getUser, insertUser, T0 } from './userFixtures';

const HOUR = 60 * 60_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(T0.getTime() + ms);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function tokenIn(mail: ReceivedMail): string {
  const match = /https:\/\/app\.example\.test\/invite\?token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error('no invitation link in the message');
  return match[1];
}

/** An invitation the worker gave up on: every attempt made, refused each time. */
const failedInvitation = (changes: Partial<OutboxEntry> = {}) =>
  entry('invitation', {
    state: 'failed',
    attempts: MAX_ATTEMPTS,
    lastError: '550 <[address]>: Recipient address rejected',
    tokenHash: 'stale-hash',
    ...changes,
  });

/** A pending invitation waiting for its next retry, two hours after T0. */
const retryingInvitation = (changes: Partial<OutboxEntry> = {}) =>
  entry('invitation', {
    attempts: 3,
    nextAttemptAt: at(2 * HOUR),
    lastError: 'connection refused',
    ...changes,
  });

describe('invitation resend', () => {
  const bed = useMailTestbed();

  const worker = () =>
    new OutboxWorker({
      db: bed.t.db,
      transport: bed.transport,
      accountName: 'Acme Corp',
      inviteUrlBase: 'https://app.example.test/invite',
      log: silentLogger,
      now: bed.clock.now,
    });
  const user = (invitation: OutboxEntry, status: UserStatus = 'invited', accountId = 'acct1') =>
    insertUser(bed.t.db, {
      accountId,
      status,
      ...(status === 'deleted' ? { deletedAt: T0 } : {}),
      ...(status === 'active' ? { activatedAt: T0 } : {}),
      invitation,
    });
  const snapshot = (docs: UserDocument[]) => Promise.all(docs.map((d) => getUser(bed.t.db, d._id)));

  it('plans without changing anything, counting only what a resend would touch', async () => {
    const docs = [
      await user(failedInvitation()),
      await user(failedInvitation()),
      await user(retryingInvitation()),
      // Already due: nothing to bring forward.
      await user(entry('invitation')),
      await user(entry('invitation', { state: 'sending', attempts: 1, leaseUntil: at(HOUR) })),
      await user(entry('invitation', { state: 'sent', attempts: 1, sentAt: T0 })),
      await user(failedInvitation(), 'deleted'),
      await user(failedInvitation(), 'active'),
      // A pending invitation of an active user is not expedited either.
      await user(retryingInvitation(), 'active'),
      await user(failedInvitation({ importId: 'imp2', queuedAt: at(DAY) })),
      await user(retryingInvitation({ importId: 'imp2', queuedAt: at(DAY) })),
      await user(failedInvitation(), 'invited', 'acct2'),
      await user(retryingInvitation(), 'invited', 'acct2'),
    ];
    const before = await snapshot(docs);

    expect(await planResend(bed.t.db, 'acct1', { importId: 'imp1' }, T0)).toEqual({
      failed: 2,
      pending: 1,
      notAccepted: 0,
      skipped: 2,
    });
    expect(await planResend(bed.t.db, 'acct1', {}, T0)).toEqual({
      failed: 3,
      pending: 2,
      notAccepted: 0,
      skipped: 2,
    });
    expect(await planResend(bed.t.db, 'acct1', { from: at(DAY) }, T0)).toEqual({
      failed: 1,
      pending: 1,
      notAccepted: 0,
      skipped: 0,
    });
    // Once the retry times have passed, there is nothing left to bring forward.
    expect(await planResend(bed.t.db, 'acct1', {}, at(2 * HOUR))).toEqual({
      failed: 3,
      pending: 0,
      notAccepted: 0,
      skipped: 2,
    });
    expect(await planResend(bed.t.db, 'acct2', {}, T0)).toEqual({
      failed: 1,
      pending: 1,
      notAccepted: 0,
      skipped: 0,
    });
    expect(await planResend(bed.t.db, 'acct3', {}, T0)).toEqual({
      failed: 0,
      pending: 0,
      notAccepted: 0,
      skipped: 0,
    });

    expect(await snapshot(docs)).toEqual(before);
  });

  it('requeues a failed invitation so the worker delivers it with a fresh token', async () => {
    const failed = await user(failedInvitation());
    bed.clock.advance(DAY);
    // The worker leaves a failed invitation alone.
    expect(await worker().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });

    expect(await resendInvitations(bed.t.db, 'acct1', { importId: 'imp1' }, bed.clock.now())).toEqual({
      requeued: 1,
      expedited: 0,
      notAccepted: 0,
    });
    const queued = await getUser(bed.t.db, failed._id);
    expect(queued.invitation).toMatchObject({
      state: 'pending',
      attempts: 0,
      nextAttemptAt: bed.clock.now(),
      importId: 'imp1',
      queuedAt: T0,
    });
    expect(queued.invitation?.lastError).toBeUndefined();
    expect(queued.invitation?.leaseUntil).toBeUndefined();
    expect(queued.mailDue).toBe(true);

    expect(await worker().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });

    expect(bed.smtp.received).toHaveLength(1);
    const mail = bed.smtp.received[0]!;
    expect(mail.rcptTo).toEqual([failed.email]);
    expect(mail.header('subject')).toBe("You're invited to join Acme Corp");
    const after = await getUser(bed.t.db, failed._id);
    expect(after.invitation?.tokenHash).toBe(sha256(tokenIn(mail)));
    expect(after.invitation?.tokenHash).not.toBe('stale-hash');
    expect(after.invitation).toMatchObject({ state: 'sent', attempts: 1, sentAt: bed.clock.now() });
    expect(after.invitation?.lastError).toBeUndefined();
    expect(after.mailDue).toBe(false);

    const status = await invitationStatus(bed.t.db, 'acct1', { importId: 'imp1' }, { skip: 0, limit: 10 });
    expect(status.counts).toEqual({ pending: 0, sent: 1, failed: 0, total: 1, accepted: 0 });
  });

  it('brings a pending retry forward to now, keeping its attempts', async () => {
    const retrying = await user(retryingInvitation());
    expect(await worker().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });

    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 0,
      expedited: 1,
      notAccepted: 0,
    });
    expect((await getUser(bed.t.db, retrying._id)).invitation).toMatchObject({
      state: 'pending',
      attempts: 3,
      nextAttemptAt: T0,
    });

    expect(await worker().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    expect(bed.smtp.rcptAttempts).toEqual([retrying.email]);
    expect((await getUser(bed.t.db, retrying._id)).invitation).toMatchObject({ state: 'sent', attempts: 4 });
  });

  it('leaves deleted and active users’ invitations alone', async () => {
    const docs = [
      await user(failedInvitation(), 'deleted'),
      await user(failedInvitation(), 'active'),
      await user(retryingInvitation(), 'deleted'),
      await user(retryingInvitation(), 'active'),
    ];
    const before = await snapshot(docs);

    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 0,
      expedited: 0,
      notAccepted: 0,
    });
    expect(await snapshot(docs)).toEqual(before);
  });

  it('leaves sent invitations and ones a worker is sending alone', async () => {
    const leased = await user(
      entry('invitation', { state: 'sending', attempts: 1, leaseUntil: at(HOUR), tokenHash: 'held' }),
    );
    const sent = await user(entry('invitation', { state: 'sent', attempts: 1, sentAt: T0 }));
    const before = await snapshot([leased, sent]);

    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 0,
      expedited: 0,
      notAccepted: 0,
    });
    expect(await snapshot([leased, sent])).toEqual(before);
    expect(await worker().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(bed.smtp.rcptAttempts).toEqual([]);
  });

  it('touches only the scope and the account asked for', async () => {
    const imp1 = await user(failedInvitation());
    const imp2 = await user(failedInvitation({ importId: 'imp2', queuedAt: at(DAY) }));
    const imp2Retrying = await user(retryingInvitation({ importId: 'imp2', queuedAt: at(DAY) }));
    const otherAccount = await user(failedInvitation(), 'invited', 'acct2');
    const untouched = await snapshot([imp1, otherAccount]);

    expect(
      await resendInvitations(bed.t.db, 'acct1', { from: at(DAY), to: at(DAY) }, bed.clock.now()),
    ).toEqual({
      requeued: 1,
      expedited: 1,
      notAccepted: 0,
    });
    expect((await getUser(bed.t.db, imp2._id)).invitation?.state).toBe('pending');
    expect((await getUser(bed.t.db, imp2Retrying._id)).invitation?.nextAttemptAt).toEqual(T0);
    expect(await snapshot([imp1, otherAccount])).toEqual(untouched);

    expect(await resendInvitations(bed.t.db, 'acct1', { importId: 'imp3' }, bed.clock.now())).toEqual({
      requeued: 0,
      expedited: 0,
      notAccepted: 0,
    });
    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 1,
      expedited: 0,
      notAccepted: 0,
    });
    expect(await snapshot([otherAccount])).toEqual(untouched.slice(1));
  });

  it('does nothing new when run twice, except for what has failed again since', async () => {
    bed.smtp.rejectRecipients = true;
    const failed = await user(failedInvitation());
    const retrying = await user(retryingInvitation());

    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 1,
      expedited: 1,
      notAccepted: 0,
    });
    const once = await snapshot([failed, retrying]);
    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 0,
      expedited: 0,
      notAccepted: 0,
    });
    bed.clock.advance(1);
    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 0,
      expedited: 0,
      notAccepted: 0,
    });
    expect(await snapshot([failed, retrying])).toEqual(once);

    // The requeued invitation is refused on every attempt until the worker gives up on it again.
    const w = worker();
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      await w.runOnce();
      bed.clock.advance(RETRY_DELAYS_MS[attempt - 1]!);
    }
    await w.runOnce();
    expect((await getUser(bed.t.db, failed._id)).invitation).toMatchObject({
      state: 'failed',
      attempts: MAX_ATTEMPTS,
    });
    expect((await getUser(bed.t.db, failed._id)).mailDue).toBe(false);
    expect((await getUser(bed.t.db, retrying._id)).invitation).toMatchObject({
      state: 'failed',
      attempts: MAX_ATTEMPTS,
    });

    expect(await planResend(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      failed: 2,
      pending: 0,
      notAccepted: 0,
      skipped: 0,
    });
    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 2,
      expedited: 0,
      notAccepted: 0,
    });
    expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now())).toEqual({
      requeued: 0,
      expedited: 0,
      notAccepted: 0,
    });

    bed.smtp.rejectRecipients = false;
    bed.smtp.rcptAttempts.length = 0;
    expect(await w.runOnce()).toEqual({ sent: 2, failed: 0, retrying: 0 });
    expect(bed.smtp.rcptAttempts.sort()).toEqual([failed.email, retrying.email].sort());
  });

  describe('not accepted', () => {
    /** An invitation delivered at T0 and not accepted. */
    const sentInvitation = (changes: Partial<OutboxEntry> = {}) =>
      entry('invitation', { state: 'sent', attempts: 1, sentAt: T0, tokenHash: 'h', ...changes });

    it('counts and queues only delivered, unaccepted invitations of invited users, and only when asked', async () => {
      const waiting = [await user(sentInvitation()), await user(sentInvitation())];
      const others = [
        await user(sentInvitation({ acceptedAt: at(HOUR) }), 'active'),
        await user(sentInvitation(), 'active'),
        await user(sentInvitation(), 'deleted'),
        await user(sentInvitation({ state: 'cancelled' })),
        await user(entry('invitation', { state: 'sending', attempts: 1, leaseUntil: at(HOUR) })),
        await user(sentInvitation({ importId: 'imp2' })),
        await user(sentInvitation(), 'invited', 'acct2'),
      ];
      const before = await snapshot([...waiting, ...others]);

      expect(await planResend(bed.t.db, 'acct1', { importId: 'imp1' }, T0)).toMatchObject({ notAccepted: 0 });
      expect(await planResend(bed.t.db, 'acct1', { importId: 'imp1' }, T0, { notAccepted: true })).toEqual({
        failed: 0,
        pending: 0,
        notAccepted: 2,
        skipped: 0,
      });
      expect(await resendInvitations(bed.t.db, 'acct1', { importId: 'imp1' }, T0)).toEqual({
        requeued: 0,
        expedited: 0,
        notAccepted: 0,
      });
      expect(await snapshot([...waiting, ...others])).toEqual(before);

      bed.clock.advance(DAY);
      expect(
        await resendInvitations(bed.t.db, 'acct1', { importId: 'imp1' }, bed.clock.now(), {
          notAccepted: true,
        }),
      ).toEqual({ requeued: 0, expedited: 0, notAccepted: 2 });
      for (const doc of await snapshot(waiting)) {
        expect(doc.invitation).toMatchObject({
          state: 'pending',
          attempts: 0,
          nextAttemptAt: bed.clock.now(),
          sentAt: T0,
          importId: 'imp1',
        });
        expect(doc.mailDue).toBe(true);
      }
      expect(await snapshot(others)).toEqual(before.slice(waiting.length));
      // Queued again, they are not counted a second time until they have gone out again.
      expect(
        await resendInvitations(bed.t.db, 'acct1', { importId: 'imp1' }, bed.clock.now(), {
          notAccepted: true,
        }),
      ).toEqual({ requeued: 0, expedited: 0, notAccepted: 0 });
    });

    it('sends a new link that works, while the one sent before keeps working too', async () => {
      const invited = await user(entry('invitation'));
      expect(await worker().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
      const first = tokenIn(bed.smtp.received[0]!);

      bed.clock.advance(3 * DAY);
      const failed = await user(failedInvitation());
      expect(await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now(), { notAccepted: true })).toEqual({
        requeued: 1,
        expedited: 0,
        notAccepted: 1,
      });
      expect(await worker().runOnce()).toEqual({ sent: 2, failed: 0, retrying: 0 });
      const resent = bed.smtp.received.find((m) => m.rcptTo[0] === invited.email && tokenIn(m) !== first)!;
      expect(resent.header('subject')).toBe("You're invited to join Acme Corp");
      const second = tokenIn(resent);
      expect((await getUser(bed.t.db, invited._id)).invitation).toMatchObject({
        state: 'sent',
        sentAt: bed.clock.now(),
      });

      expect(await checkInvitation(bed.t.db, first, bed.clock.now())).toMatchObject({ ok: true });
      expect(await acceptInvitation(bed.t.db, second, bed.clock.now())).toMatchObject({ ok: true });
      expect(await checkInvitation(bed.t.db, first, bed.clock.now())).toEqual({ ok: false, reason: 'used' });
      expect(await getUser(bed.t.db, invited._id)).toMatchObject({ status: 'active' });

      // Accepted, the invitation is never resent; the other one has gone out and is not accepted yet.
      expect(await planResend(bed.t.db, 'acct1', {}, bed.clock.now(), { notAccepted: true })).toMatchObject({
        notAccepted: 1,
      });
      expect(bed.smtp.received.filter((m) => m.rcptTo[0] === failed.email)).toHaveLength(1);
    });
  });
});
