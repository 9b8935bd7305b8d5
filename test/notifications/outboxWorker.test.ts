import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger, silentLogger, type Logger } from '../../services/logger';
import { createMailTransport, type MailTransport } from '../../services/notifications/mailTransport';
import {
  MAX_ATTEMPTS,
  OutboxWorker,
  RETRY_DELAYS_MS,
  type OutboxWorkerOptions,
} from '../../services/notifications/outboxWorker';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { useMailTestbed } from './mailTestbed';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { parseMail } from './mimeMessage';
import { type ReceivedMail } from './smtpTestServer';
import { entry, getUser, insertUser, T0 } from './userFixtures';

const INVITE_BASE = 'https://app.example.test/invite';

function tokenIn(mail: ReceivedMail): string {
  const match = /https:\/\/app\.example\.test\/invite\?token=([A-Za-z0-9_-]+)/.exec(mail.text);
  if (!match?.[1]) throw new Error('no invitation link in the message');
  return match[1];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('OutboxWorker', () => {
  const bed = useMailTestbed();

  function worker(changes: Partial<OutboxWorkerOptions> = {}): OutboxWorker {
    return new OutboxWorker({
      db: bed.t.db,
      transport: bed.transport,
      accountName: 'Acme Corp',
      inviteUrlBase: INVITE_BASE,
      log: silentLogger,
      now: bed.clock.now,
      ...changes,
    });
  }

  it('delivers an invitation whose link carries a token matching the stored hash', async () => {
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    bed.clock.advance(5_000);

    expect(await worker().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });

    expect(bed.smtp.received).toHaveLength(1);
    const mail = bed.smtp.received[0]!;
    expect(mail.rcptTo).toEqual([user.email]);
    expect(mail.header('to')).toBe(`Ada Lovelace <${user.email}>`);
    expect(mail.header('subject')).toBe("You're invited to join Acme Corp");
    expect(mail.header('message-id')).toMatch(/^<invitation\.[0-9a-f]{40}@app\.example\.test>$/);
    expect(mail.html).toContain(`?token=${tokenIn(mail)}`);

    const after = await getUser(bed.t.db, user._id);
    expect(after.invitation?.tokenHash).toBe(sha256(tokenIn(mail)));
    expect(after.invitation).toMatchObject({ state: 'sent', attempts: 1, sentAt: bed.clock.now() });
    expect(after.invitation?.leaseUntil).toBeUndefined();
    expect(after.invitation?.lastError).toBeUndefined();
    expect(after.mailDue).toBe(false);
  });

  it('adds the token to an invitation base that already has a query string', async () => {
    await insertUser(bed.t.db, { invitation: entry('invitation') });
    await worker({ inviteUrlBase: 'https://app.example.test/invite?lang=fr' }).runOnce();
    expect(bed.smtp.received[0]!.text).toMatch(
      /https:\/\/app\.example\.test\/invite\?lang=fr&token=[A-Za-z0-9_-]{43}\n/,
    );
  });

  it('delivers an activation notice naming the account of each user', async () => {
    const user = await insertUser(bed.t.db, {
      accountId: 'acct2',
      status: 'active',
      activationNotice: entry('activation'),
    });
    const names: Record<string, string> = { acct1: 'Acme Corp', acct2: 'Globex' };

    const result = await worker({
      accountName: (id) => names[id] ?? '?',
      signInUrl: 'https://app.example.test/sign-in',
    }).runOnce();

    expect(result).toEqual({ sent: 1, failed: 0, retrying: 0 });
    const mail = bed.smtp.received[0]!;
    expect(mail.rcptTo).toEqual([user.email]);
    expect(mail.header('subject')).toBe('Your Globex account is now active');
    expect(mail.text).toContain('https://app.example.test/sign-in');
    expect(mail.text).not.toContain('token=');
    const after = await getUser(bed.t.db, user._id);
    expect(after.activationNotice).toMatchObject({ state: 'sent', attempts: 1 });
    expect(after.activationNotice?.tokenHash).toBeUndefined();
    expect(after.mailDue).toBe(false);
  });

  it('escapes a <script> name in the HTML it sends', async () => {
    await insertUser(bed.t.db, {
      firstName: '<script>alert(1)</script>',
      lastName: 'Smith',
      invitation: entry('invitation'),
    });
    await worker().runOnce();
    const html = bed.smtp.received[0]!.html;
    expect(html).not.toContain('<script');
    expect(html).toContain('Hello &lt;script&gt;alert(1)&lt;/script&gt;,');
  });

  it('cannot be made to add a header or recipient through CR/LF in a name', async () => {
    const user = await insertUser(bed.t.db, {
      firstName: 'Eve\r\nBcc: intruder@evil.test\r\nX-Injected: 1',
      lastName: 'Doe\n',
      invitation: entry('invitation'),
    });
    await worker().runOnce();
    const mail = bed.smtp.received[0]!;
    expect(bed.smtp.rcptAttempts).toEqual([user.email]);
    expect(mail.headers('bcc')).toEqual([]);
    expect(mail.headers('x-injected')).toEqual([]);
    expect(mail.headers('to')).toHaveLength(1);
    expect(mail.header('to')?.endsWith(`<${user.email}>`)).toBe(true);
  });

  it('retries a refused message with growing delays and gives up after the last attempt', async () => {
    bed.smtp.rejectRecipients = true;
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    const w = worker();

    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      expect(await w.runOnce()).toEqual({ sent: 0, failed: 0, retrying: 1 });
      const u = await getUser(bed.t.db, user._id);
      const delay = RETRY_DELAYS_MS[attempt - 1]!;
      expect(u.invitation).toMatchObject({ state: 'pending', attempts: attempt });
      expect(u.invitation?.nextAttemptAt).toEqual(new Date(bed.clock.now().getTime() + delay));
      expect(u.invitation?.lastError).toMatch(/Recipient address rejected/);
      expect(u.invitation?.lastError).not.toContain('@');
      expect(u.mailDue).toBe(true);

      // Not due yet: a run a moment before the retry time leaves it alone.
      bed.clock.advance(delay - 1);
      expect(await w.runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
      expect(bed.smtp.rcptAttempts).toHaveLength(attempt);
      bed.clock.advance(1);
    }
    expect(RETRY_DELAYS_MS.map((ms) => ms / 60_000)).toEqual([1, 5, 30, 120, 720]);

    expect(await w.runOnce()).toEqual({ sent: 0, failed: 1, retrying: 0 });
    const failed = await getUser(bed.t.db, user._id);
    expect(failed.invitation).toMatchObject({ state: 'failed', attempts: MAX_ATTEMPTS });
    expect(failed.invitation?.lastError).toMatch(/Recipient address rejected/);
    expect(failed.invitation?.lastError).not.toContain(user.email);
    expect(failed.mailDue).toBe(false);

    bed.smtp.rejectRecipients = false;
    bed.clock.advance(7 * 24 * 60 * 60_000);
    expect(await w.runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(bed.smtp.rcptAttempts).toHaveLength(MAX_ATTEMPTS);
    expect(bed.smtp.received).toHaveLength(0);
  });

  it('keeps the same Message-ID for a resent activation notice but not for an invitation with a new token', async () => {
    const seen: string[] = [];
    const recording: MailTransport = {
      description: bed.transport.description,
      close: () => bed.transport.close(),
      send: (message) => {
        seen.push(message.messageId);
        return bed.transport.send(message);
      },
    };
    const invited = await insertUser(bed.t.db, { invitation: entry('invitation') });
    await insertUser(bed.t.db, { status: 'active', activationNotice: entry('activation') });
    const w = worker({ transport: recording });

    bed.smtp.rejectRecipients = true;
    expect(await w.runOnce()).toEqual({ sent: 0, failed: 0, retrying: 2 });
    bed.smtp.rejectRecipients = false;
    bed.clock.advance(RETRY_DELAYS_MS[0]!);
    expect(await w.runOnce()).toEqual({ sent: 2, failed: 0, retrying: 0 });

    const invitationIds = seen.filter((id) => id.startsWith('<invitation.'));
    const activationIds = seen.filter((id) => id.startsWith('<activation.'));
    expect(activationIds).toHaveLength(2);
    expect(activationIds[0]).toBe(activationIds[1]);
    expect(invitationIds).toHaveLength(2);
    expect(invitationIds[0]).not.toBe(invitationIds[1]);
    // Only the token in the message that went out is valid.
    const delivered = bed.smtp.received.find((m) => m.rcptTo[0] === invited.email)!;
    expect((await getUser(bed.t.db, invited._id)).invitation?.tokenHash).toBe(sha256(tokenIn(delivered)));
  });

  it("reclaims a message whose sender's lease has expired, but not one still under lease", async () => {
    const crashed = await insertUser(bed.t.db, {
      invitation: entry('invitation', {
        state: 'sending',
        attempts: 1,
        leaseUntil: new Date(T0.getTime() - 1),
        tokenHash: 'stale',
      }),
    });
    const busy = await insertUser(bed.t.db, {
      invitation: entry('invitation', {
        state: 'sending',
        attempts: 1,
        leaseUntil: new Date(T0.getTime() + 60_000),
      }),
    });

    expect(await worker().runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });

    expect(bed.smtp.rcptAttempts).toEqual([crashed.email]);
    const reclaimed = await getUser(bed.t.db, crashed._id);
    expect(reclaimed.invitation).toMatchObject({ state: 'sent', attempts: 2 });
    expect(reclaimed.invitation?.tokenHash).toBe(sha256(tokenIn(bed.smtp.received[0]!)));
    expect(reclaimed.mailDue).toBe(false);
    const untouched = await getUser(bed.t.db, busy._id);
    expect(untouched.invitation).toMatchObject({ state: 'sending', attempts: 1 });
    expect(untouched.mailDue).toBe(true);
  });

  it('does not overwrite the result of a worker that took over its lease', async () => {
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    const users = bed.t.db.collection(USERS_COLLECTION);
    const takeover: MailTransport = {
      description: 'takeover',
      close: async () => undefined,
      send: async (message) => {
        // While this worker is still sending, its lease expires and another worker claims the message.
        await users.updateOne(
          { _id: user._id },
          {
            $set: { 'invitation.leaseUntil': new Date(T0.getTime() + 3_600_000) },
            $inc: { 'invitation.attempts': 1 },
          },
        );
        return { messageId: message.messageId };
      },
    };
    const lines: string[] = [];

    const result = await worker({
      transport: takeover,
      log: createLogger('debug', (l) => lines.push(l)),
    }).runOnce();

    expect(result.sent).toBe(1);
    const after = await getUser(bed.t.db, user._id);
    expect(after.invitation).toMatchObject({ state: 'sending', attempts: 2 });
    expect(after.invitation?.sentAt).toBeUndefined();
    expect(after.mailDue).toBe(true);
    expect(lines.some((l) => l.includes('Another worker took over'))).toBe(true);
  });

  it('never sends a message again once it is sent', async () => {
    const user = await insertUser(bed.t.db, { invitation: entry('invitation') });
    const w = worker();
    expect(await w.runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    expect(await w.runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });

    // Even with the flag forced back on and long after, a sent entry is not claimed.
    await bed.t.db.collection(USERS_COLLECTION).updateOne({ _id: user._id }, { $set: { mailDue: true } });
    bed.clock.advance(30 * 24 * 60 * 60_000);
    expect(await w.runOnce()).toEqual({ sent: 0, failed: 0, retrying: 0 });
    expect(bed.smtp.rcptAttempts).toEqual([user.email]);
    expect((await getUser(bed.t.db, user._id)).invitation?.attempts).toBe(1);
  });

  it('does not write to a deleted user and closes their messages as failed', async () => {
    const deleted = await insertUser(bed.t.db, {
      status: 'deleted',
      deletedAt: T0,
      invitation: entry('invitation', { nextAttemptAt: new Date(T0.getTime() + 3_600_000) }),
      activationNotice: entry('activation'),
    });
    const live = await insertUser(bed.t.db, { invitation: entry('invitation') });

    expect(await worker().runOnce()).toEqual({ sent: 1, failed: 2, retrying: 0 });

    expect(bed.smtp.rcptAttempts).toEqual([live.email]);
    const after = await getUser(bed.t.db, deleted._id);
    expect(after.invitation).toMatchObject({ state: 'failed', lastError: 'user deleted', attempts: 0 });
    expect(after.activationNotice).toMatchObject({ state: 'failed', lastError: 'user deleted' });
    expect(after.invitation?.tokenHash).toBeUndefined();
    expect(after.mailDue).toBe(false);
  });

  it('keeps mailDue set until the other message on the user is done too', async () => {
    const user = await insertUser(bed.t.db, {
      status: 'active',
      invitation: entry('invitation'),
      activationNotice: entry('activation', { nextAttemptAt: new Date(T0.getTime() + 60_000) }),
    });
    const w = worker();

    expect(await w.runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    let after = await getUser(bed.t.db, user._id);
    expect(after.invitation?.state).toBe('sent');
    expect(after.activationNotice?.state).toBe('pending');
    expect(after.mailDue).toBe(true);

    bed.clock.advance(60_000);
    expect(await w.runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    after = await getUser(bed.t.db, user._id);
    expect(after.activationNotice?.state).toBe('sent');
    expect(after.mailDue).toBe(false);
    expect(bed.smtp.received.map((m) => m.header('subject'))).toEqual([
      "You're invited to join Acme Corp",
      'Your Acme Corp account is now active',
    ]);
  });

  it('sends an invitation before the activation notice of the same user', async () => {
    await insertUser(bed.t.db, {
      status: 'active',
      invitation: entry('invitation'),
      activationNotice: entry('activation'),
    });
    expect(await worker({ batchSize: 5 }).runOnce()).toEqual({ sent: 2, failed: 0, retrying: 0 });
    expect(bed.smtp.received.map((m) => m.header('message-id')?.split('.')[0])).toEqual([
      '<invitation',
      '<activation',
    ]);
  });

  it('sends every due message across several batches in one run', async () => {
    for (let i = 0; i < 12; i++) await insertUser(bed.t.db, { invitation: entry('invitation') });
    expect(await worker({ batchSize: 5 }).runOnce()).toEqual({ sent: 12, failed: 0, retrying: 0 });
    expect(new Set(bed.smtp.rcptAttempts).size).toBe(12);
    expect(await bed.t.db.collection(USERS_COLLECTION).countDocuments({ mailDue: true })).toBe(0);
  });

  it('polls until stopped, and stop waits for the run under way', async () => {
    let releaseSend: () => void = () => undefined;
    let sendStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => (sendStarted = resolve));
    const slow: MailTransport = {
      description: 'slow',
      close: async () => undefined,
      send: async (message) => {
        sendStarted();
        await new Promise<void>((resolve) => (releaseSend = resolve));
        return bed.transport.send(message);
      },
    };
    const first = await insertUser(bed.t.db, { invitation: entry('invitation') });
    const w = worker({ transport: slow });

    w.start(20);
    await started;
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    releaseSend();
    await stopping;

    expect((await getUser(bed.t.db, first._id)).invitation?.state).toBe('sent');
    const second = await insertUser(bed.t.db, { invitation: entry('invitation') });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await getUser(bed.t.db, second._id)).invitation?.state).toBe('pending');
    expect(bed.smtp.rcptAttempts).toEqual([first.email]);
  });
});

describe('OutboxWorker without an SMTP server', () => {
  let t: TestDatabase;
  let dataDir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'outbox-worker-'));
  });
  afterAll(async () => {
    await fs.rm(dataDir, { recursive: true, force: true });
    await t.close();
  });

  it('saves the messages as .eml files and logs nothing personal', async () => {
    const lines: string[] = [];
    const log: Logger = createLogger('debug', (l) => lines.push(l));
    const transport = createMailTransport({ mailFrom: 'it@acme.example', dataDir }, log);
    const user = await insertUser(t.db, {
      firstName: 'Grace',
      lastName: 'Hopper',
      invitation: entry('invitation'),
    });
    const worker = new OutboxWorker({
      db: t.db,
      transport,
      accountName: 'Acme Corp',
      inviteUrlBase: INVITE_BASE,
      log,
      now: () => T0,
    });

    expect(await worker.runOnce()).toEqual({ sent: 1, failed: 0, retrying: 0 });
    await transport.close();

    const files = await fs.readdir(path.join(dataDir, 'outbox'));
    expect(files).toHaveLength(1);
    const raw = await fs.readFile(path.join(dataDir, 'outbox', files[0]!), 'utf8');
    expect(raw).toContain(`To: Grace Hopper <${user.email}>`);
    const token = /\?token=([A-Za-z0-9_-]+)/.exec(parseMail(raw).text)?.[1] ?? 'missing';
    expect(sha256(token)).toBe((await getUser(t.db, user._id)).invitation?.tokenHash);

    expect(lines.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes(path.join(dataDir, 'outbox', files[0]!)))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain(user.email);
      expect(line).not.toContain('Grace');
      expect(line).not.toContain('Hopper');
      expect(line).not.toContain(token);
    }
  });
});
