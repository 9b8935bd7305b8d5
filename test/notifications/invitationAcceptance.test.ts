import type { Db } from 'mongodb';
import { silentLogger } from '../../services/logger';
import {
  acceptInvitation,
  checkInvitation,
  MAX_LIVE_TOKENS,
} from '../../services/notifications/invitationAcceptance';
import { resendInvitations } from '../../services/notifications/invitationResend';
import { invitationStatus } from '../../services/notifications/invitationStatus';
import { hashInvitationToken, newInvitationToken } from '../../services/notifications/invitationToken';
import { OutboxWorker, RETRY_DELAYS_MS } from '../../services/notifications/outboxWorker';
import {
  USERS_COLLECTION,
  type OutboxEntry,
  type UserDocument,
  type UserStatus,
} from '../../services/users/userTypes';
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

async function isFerretDb(db: Db): Promise<boolean> {
  const info = await db.admin().command({ buildInfo: 1 });
  return typeof info.ferretdbVersion === 'string';
}

/** The database, except that the first user read returns `stale`: as if it changed just after being read. */
function staleFirstRead(db: Db, stale: UserDocument): Db {
  let served = false;
  return new Proxy(db, {
    get(target, prop) {
      if (prop !== 'collection') return Reflect.get(target, prop) as unknown;
      return (name: string) =>
        new Proxy(target.collection(name), {
          get(collection, method) {
            if (method === 'findOne' && !served) {
              return async () => {
                served = true;
                return stale;
              };
            }
            const value = Reflect.get(collection, method) as unknown;
            return typeof value === 'function' ? (value as () => unknown).bind(collection) : value;
          },
        });
    },
  });
}

describe('invitation acceptance', () => {
  const bed = useMailTestbed();

  const worker = (inviteTtlDays?: number) =>
    new OutboxWorker({
      db: bed.t.db,
      transport: bed.transport,
      accountName: 'Acme Corp',
      inviteUrlBase: 'https://app.example.test/invite',
      log: silentLogger,
      now: bed.clock.now,
      ...(inviteTtlDays ? { inviteTtlDays } : {}),
    });

  /** A user whose invitation went out at T0 with a link that works for 14 days; returns that link's token. */
  async function sentInvitation(
    changes: Partial<OutboxEntry> = {},
    status: UserStatus = 'invited',
  ): Promise<{ user: UserDocument; token: string }> {
    const { token, tokenHash } = newInvitationToken();
    const user = await insertUser(bed.t.db, {
      status,
      ...(status === 'deleted' ? { deletedAt: T0 } : {}),
      invitation: entry('invitation', {
        state: 'sent',
        attempts: 1,
        sentAt: T0,
        tokenHash,
        tokens: [{ hash: tokenHash, expiresAt: at(14 * DAY) }],
        ...changes,
      }),
    });
    return { user, token };
  }

  it('checks a link without changing anything, naming the invitee', async () => {
    const { user, token } = await sentInvitation();
    const before = await getUser(bed.t.db, user._id);

    expect(await checkInvitation(bed.t.db, token, at(DAY))).toEqual({
      ok: true,
      invitee: { accountId: 'acct1', name: 'Ada Lovelace' },
    });
    expect(await checkInvitation(bed.t.db, token, at(DAY))).toMatchObject({ ok: true });
    expect(await getUser(bed.t.db, user._id)).toEqual(before);
  });

  it('accepts once: the user becomes active, the invitation records when and stays sent', async () => {
    const { user, token } = await sentInvitation();
    const now = at(2 * DAY);

    expect(await acceptInvitation(bed.t.db, token, now)).toEqual({
      ok: true,
      invitee: { accountId: 'acct1', name: 'Ada Lovelace' },
      acceptedAt: now,
    });
    const after = await getUser(bed.t.db, user._id);
    expect(after).toMatchObject({ status: 'active', activatedAt: now, updatedAt: now });
    expect(after.invitation).toMatchObject({ state: 'sent', acceptedAt: now, sentAt: T0 });

    expect(await acceptInvitation(bed.t.db, token, at(3 * DAY))).toEqual({ ok: false, reason: 'used' });
    expect(await checkInvitation(bed.t.db, token, at(3 * DAY))).toEqual({ ok: false, reason: 'used' });
    expect((await getUser(bed.t.db, user._id)).invitation?.acceptedAt).toEqual(now);
  });

  it('settles simultaneous acceptances consistently: exactly one on MongoDB', async () => {
    const { user, token } = await sentInvitation();
    const outcomes = await Promise.all([
      acceptInvitation(bed.t.db, token, at(DAY)),
      acceptInvitation(bed.t.db, token, at(DAY + 1)),
    ]);
    const winners = outcomes.flatMap((o) => (o.ok ? [o.acceptedAt] : []));
    for (const o of outcomes) if (!o.ok) expect(o.reason).toBe('used');
    expect(winners.length).toBeGreaterThanOrEqual(1);
    // FerretDB 1.24 does not isolate concurrent conditional updates (both can match); MongoDB does.
    if (!(await isFerretDb(bed.t.db))) expect(winners).toHaveLength(1);
    const after = await getUser(bed.t.db, user._id);
    expect(after.status).toBe('active');
    expect(winners).toContainEqual(after.invitation?.acceptedAt);
  });

  it('accepts only what its update still finds: a change after the check wins', async () => {
    const accepted = await sentInvitation();
    const deleted = await sentInvitation();
    const stale = await Promise.all([
      getUser(bed.t.db, accepted.user._id),
      getUser(bed.t.db, deleted.user._id),
    ]);
    // After the documents were read, one invitation is accepted and the other user deleted.
    expect(await acceptInvitation(bed.t.db, accepted.token, at(DAY))).toMatchObject({ ok: true });
    await bed.t.db
      .collection<UserDocument>(USERS_COLLECTION)
      .updateOne({ _id: deleted.user._id }, { $set: { status: 'deleted', deletedAt: at(DAY) } });
    const after = await Promise.all([
      getUser(bed.t.db, accepted.user._id),
      getUser(bed.t.db, deleted.user._id),
    ]);

    expect(await acceptInvitation(staleFirstRead(bed.t.db, stale[0]!), accepted.token, at(2 * DAY))).toEqual({
      ok: false,
      reason: 'used',
    });
    expect(await acceptInvitation(staleFirstRead(bed.t.db, stale[1]!), deleted.token, at(2 * DAY))).toEqual({
      ok: false,
      reason: 'deleted',
    });
    expect(
      await Promise.all([getUser(bed.t.db, accepted.user._id), getUser(bed.t.db, deleted.user._id)]),
    ).toEqual(after);
  });

  it('refuses a link once its token has expired, and changes nothing', async () => {
    const { user, token } = await sentInvitation();
    const before = await getUser(bed.t.db, user._id);
    expect(await checkInvitation(bed.t.db, token, at(14 * DAY - 1))).toMatchObject({ ok: true });
    expect(await checkInvitation(bed.t.db, token, at(14 * DAY))).toEqual({ ok: false, reason: 'expired' });
    expect(await acceptInvitation(bed.t.db, token, at(14 * DAY))).toEqual({ ok: false, reason: 'expired' });
    expect(await getUser(bed.t.db, user._id)).toEqual(before);
  });

  it('knows nothing of tokens it never issued, malformed ones, or one whose message never went out', async () => {
    const failedToken = newInvitationToken();
    const { user } = await sentInvitation({ tokenHash: failedToken.tokenHash });
    const before = await getUser(bed.t.db, user._id);

    expect(await acceptInvitation(bed.t.db, newInvitationToken().token, at(DAY))).toEqual({
      ok: false,
      reason: 'unknown',
    });
    for (const bad of ['', 'short', 'x'.repeat(44), `${'a'.repeat(42)}!`, '{"$ne":null}']) {
      expect(await acceptInvitation(bed.t.db, bad, at(DAY))).toEqual({ ok: false, reason: 'unknown' });
    }
    // The latest claim's token is not among the issued ones: its send failed, nobody holds that link.
    expect(await acceptInvitation(bed.t.db, failedToken.token, at(DAY))).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(await getUser(bed.t.db, user._id)).toEqual(before);
  });

  it('says why for deleted users, cancelled invitations, active users and one being sent right now', async () => {
    const deleted = await sentInvitation({}, 'deleted');
    const cancelled = await sentInvitation({ state: 'cancelled' });
    const active = await sentInvitation({}, 'active');
    const sending = await sentInvitation({ state: 'sending', leaseUntil: at(DAY + 60_000) });
    const docs = [deleted, cancelled, active, sending].map((d) => d.user._id);
    const before = await Promise.all(docs.map((id) => getUser(bed.t.db, id)));

    expect(await acceptInvitation(bed.t.db, deleted.token, at(DAY))).toEqual({
      ok: false,
      reason: 'deleted',
    });
    expect(await acceptInvitation(bed.t.db, cancelled.token, at(DAY))).toEqual({
      ok: false,
      reason: 'cancelled',
    });
    expect(await acceptInvitation(bed.t.db, active.token, at(DAY))).toEqual({ ok: false, reason: 'used' });
    expect(await acceptInvitation(bed.t.db, sending.token, at(DAY))).toEqual({ ok: false, reason: 'busy' });
    // Even expired, a cancelled or deleted one says so rather than "expired".
    expect(await checkInvitation(bed.t.db, cancelled.token, at(30 * DAY))).toEqual({
      ok: false,
      reason: 'cancelled',
    });
    expect(await checkInvitation(bed.t.db, deleted.token, at(30 * DAY))).toEqual({
      ok: false,
      reason: 'deleted',
    });

    expect(await Promise.all(docs.map((id) => getUser(bed.t.db, id)))).toEqual(before);
  });

  it('accepts links sent before tokens were listed, for the token lifetime after sending', async () => {
    const { token, tokenHash } = newInvitationToken();
    const legacy = () =>
      insertUser(bed.t.db, {
        invitation: entry('invitation', { state: 'sent', attempts: 1, sentAt: T0, tokenHash }),
      });
    const user = await legacy();
    expect(await checkInvitation(bed.t.db, token, at(14 * DAY))).toEqual({ ok: false, reason: 'expired' });
    expect(await checkInvitation(bed.t.db, token, at(20 * DAY), { ttlDays: 30 })).toMatchObject({ ok: true });
    expect(await acceptInvitation(bed.t.db, token, at(14 * DAY - 1))).toMatchObject({ ok: true });
    expect(await getUser(bed.t.db, user._id)).toMatchObject({
      status: 'active',
      activatedAt: at(14 * DAY - 1),
    });
  });

  it('accepts with a delivered link while a resend is queued, and the resend is then not sent', async () => {
    const { user, token } = await sentInvitation();
    expect(await resendInvitations(bed.t.db, 'acct1', {}, at(DAY), { notAccepted: true })).toMatchObject({
      notAccepted: 1,
    });
    expect((await getUser(bed.t.db, user._id)).mailDue).toBe(true);

    expect(await acceptInvitation(bed.t.db, token, at(DAY))).toMatchObject({ ok: true });
    const after = await getUser(bed.t.db, user._id);
    expect(after.invitation).toMatchObject({ state: 'sent', acceptedAt: at(DAY) });
    expect(after.mailDue).toBe(false);

    bed.clock.set(at(DAY));
    expect(await worker().runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(bed.smtp.rcptAttempts).toEqual([]);
  });

  it('keeps earlier links working after a resend, until they expire', async () => {
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    expect(await worker(10).runOnce()).toMatchObject({ sent: 1 });
    const first = tokenIn(bed.smtp.received[0]!);
    expect((await getUser(bed.t.db, user._id)).invitation?.tokens).toEqual([
      { hash: hashInvitationToken(first), expiresAt: at(10 * DAY) },
    ]);

    bed.clock.set(at(5 * DAY));
    await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now(), { notAccepted: true });
    expect(await worker(10).runOnce()).toMatchObject({ sent: 1 });
    const second = tokenIn(bed.smtp.received[1]!);
    expect(second).not.toBe(first);

    expect(await checkInvitation(bed.t.db, first, at(10 * DAY - 1))).toMatchObject({ ok: true });
    expect(await checkInvitation(bed.t.db, second, at(10 * DAY - 1))).toMatchObject({ ok: true });
    expect(await checkInvitation(bed.t.db, first, at(10 * DAY))).toEqual({ ok: false, reason: 'expired' });
    expect(await acceptInvitation(bed.t.db, second, at(12 * DAY))).toMatchObject({ ok: true });
    expect(await checkInvitation(bed.t.db, first, at(12 * DAY))).toEqual({ ok: false, reason: 'used' });
  });

  it(`keeps the latest ${MAX_LIVE_TOKENS} delivered links, never one whose message failed`, async () => {
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    const w = worker();
    const tokens: string[] = [];
    for (let i = 0; i <= MAX_LIVE_TOKENS; i++) {
      if (i > 0) await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now(), { notAccepted: true });
      expect(await w.runOnce()).toMatchObject({ sent: 1 });
      tokens.push(tokenIn(bed.smtp.received.at(-1)!));
    }
    const stored = (await getUser(bed.t.db, user._id)).invitation?.tokens ?? [];
    expect(stored.map((s) => s.hash)).toEqual(tokens.slice(1).map(hashInvitationToken));
    expect(await checkInvitation(bed.t.db, tokens[0]!, bed.clock.now())).toEqual({
      ok: false,
      reason: 'unknown',
    });
    expect(await checkInvitation(bed.t.db, tokens[1]!, bed.clock.now())).toMatchObject({ ok: true });

    // A resend whose first attempt is refused: that attempt's token is dropped, the earlier ones stay.
    await resendInvitations(bed.t.db, 'acct1', {}, bed.clock.now(), { notAccepted: true });
    bed.smtp.rejectRecipients = true;
    expect(await w.runOnce()).toEqual({ sent: 0, failed: 0, retrying: 1 });
    const refused = (await getUser(bed.t.db, user._id)).invitation;
    expect(refused?.tokens?.map((s) => s.hash)).toEqual(stored.map((s) => s.hash));
    expect(refused?.tokens?.map((s) => s.hash)).not.toContain(refused?.tokenHash);

    bed.smtp.rejectRecipients = false;
    bed.clock.advance(RETRY_DELAYS_MS[0]!);
    expect(await w.runOnce()).toMatchObject({ sent: 1 });
    const latest = tokenIn(bed.smtp.received.at(-1)!);
    const after = (await getUser(bed.t.db, user._id)).invitation?.tokens ?? [];
    expect(after.map((s) => s.hash)).toEqual([...tokens.slice(2), latest].map(hashInvitationToken));
    expect(await acceptInvitation(bed.t.db, tokens[2]!, bed.clock.now())).toMatchObject({ ok: true });
  });

  it('is counted by the invitation status once accepted', async () => {
    const { token } = await sentInvitation();
    await sentInvitation();
    const page = { skip: 0, limit: 10 };
    expect((await invitationStatus(bed.t.db, 'acct1', {}, page)).counts).toEqual({
      pending: 0,
      sent: 2,
      failed: 0,
      total: 2,
      accepted: 0,
    });
    await acceptInvitation(bed.t.db, token, at(DAY));
    const status = await invitationStatus(bed.t.db, 'acct1', {}, page);
    expect(status.counts).toEqual({ pending: 0, sent: 2, failed: 0, total: 2, accepted: 1 });
    expect(status.people.filter((p) => p.acceptedAt)).toEqual([
      expect.objectContaining({ state: 'sent', acceptedAt: at(DAY), userStatus: 'active' }),
    ]);
  });
});
