import type { AddressInfo } from 'node:net';
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import restify from 'restify';
import { createHttpServer } from '../../bot/httpServer';
import { invitationRoutePath, MAX_FORM_BYTES, registerAcceptRoute } from '../../bot/invitations/acceptRoute';
import { createLogger, silentLogger } from '../../services/logger';
import { resendInvitations } from '../../services/notifications/invitationResend';
import { newInvitationToken } from '../../services/notifications/invitationToken';
import { createMailTransport, type MailTransport } from '../../services/notifications/mailTransport';
import { OutboxWorker } from '../../services/notifications/outboxWorker';
import {
  USERS_COLLECTION,
  type OutboxEntry,
  type UserDocument,
  type UserStatus,
} from '../../services/users/userTypes';
import { entry, getUser, insertUser, T0, testClock } from '../notifications/userFixtures';
import { startSmtpTestServer, type ReceivedMail, type SmtpTestServer } from '../notifications/smtpTestServer';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { startTestBotApp } from '../support/testBotApp';

const DAY = 24 * 60 * 60_000;
const at = (ms: number) => new Date(T0.getTime() + ms);
const ASK = 'ask your administrator for a new invitation';

function tokenIn(
  mail: ReceivedMail,
  pattern = /https:\/\/app\.example\.test\/invite\?token=([A-Za-z0-9_-]+)/,
): string {
  const match = pattern.exec(mail.text);
  if (!match?.[1]) throw new Error('no invitation link in the message');
  return match[1];
}

let t: TestDatabase;
let smtp: SmtpTestServer;
let transport: MailTransport;

beforeAll(async () => {
  t = await openTestDatabase();
  smtp = await startSmtpTestServer();
  transport = createMailTransport(
    { smtpUrl: smtp.url, mailFrom: 'Acme IT <it@acme.example>', dataDir: '/nonexistent' },
    silentLogger,
  );
});
afterAll(async () => {
  await transport.close();
  await smtp.close();
  await t.close();
});

describe('the invitation link', () => {
  let clock: ReturnType<typeof testClock>;
  let url: string;
  let server: restify.Server;
  let logLines: string[];

  beforeEach(async () => {
    await t.db.collection(USERS_COLLECTION).deleteMany({});
    smtp.received.length = 0;
    smtp.rejectRecipients = false;
    clock = testClock(at(DAY));
    logLines = [];
    const log = createLogger('debug', (line) => logLines.push(line));
    // The bot's real HTTP server (with its body parser) and the route mounted as the app mounts it.
    server = createHttpServer({
      adapter: new CloudAdapter(new ConfigurationBotFrameworkAuthentication({})),
      bot: new ActivityHandler(),
      isReady: async () => true,
      registerRoutes: (s) =>
        registerAcceptRoute(s, {
          db: t.db,
          inviteUrlBase: 'https://app.example.test/invite',
          accountName: 'Acme <Corp>',
          log,
          now: clock.now,
        }),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/invite`;
  });
  afterEach(
    () =>
      new Promise<void>((resolve) => {
        server.server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  /** A user whose invitation went out at T0 with a link valid for 14 days. */
  async function invited(
    changes: Partial<OutboxEntry> = {},
    status: UserStatus = 'invited',
    fields: Partial<UserDocument> = {},
  ): Promise<{ user: UserDocument; token: string }> {
    const { token, tokenHash } = newInvitationToken();
    const user = await insertUser(t.db, {
      email: 'ada@acme.example',
      status,
      ...(status === 'deleted' ? { deletedAt: T0 } : {}),
      ...fields,
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

  const open = (token: string) => fetch(`${url}?token=${encodeURIComponent(token)}`);
  const accept = (token: string) => fetch(url, { method: 'POST', body: new URLSearchParams({ token }) });

  /** Every page: self-contained HTML, no script, no cookie, never cached, not framable. */
  async function page(response: Response, status: number): Promise<string> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('set-cookie')).toBeNull();
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/^default-src 'none'; style-src 'nonce-[A-Za-z0-9+/=]{24}'; form-action 'self';/);
    expect(csp).not.toMatch(/unsafe|script-src/);
    const body = await response.text();
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(body).toContain(`<style nonce="${nonce}">`);
    expect(body).not.toMatch(/<script|<link|<img|<iframe|https?:\/\/|src=/i);
    return body;
  }

  /** A refusal: its status, what happened, and never the person, the address or the account. */
  async function refusal(response: Response, status: number, what: RegExp): Promise<string> {
    const body = await page(response, status);
    expect(body).toMatch(what);
    for (const secret of ['Ada', 'Lovelace', 'acme.example', 'Acme', '<form', 'token']) {
      expect(body).not.toContain(secret);
    }
    return body;
  }

  it('GET shows who is invited to what, with a button that posts the token, and changes nothing', async () => {
    const { user, token } = await invited();
    const before = await getUser(t.db, user._id);

    for (let i = 0; i < 3; i++) {
      const body = await page(await open(token), 200);
      expect(body).toContain('<h1>Join Acme &lt;Corp&gt;</h1>');
      expect(body).toContain('Hello Ada Lovelace,');
      expect(body).toContain('<form method="post" action="/invite">');
      expect(body).toContain(`<input type="hidden" name="token" value="${token}">`);
      expect(body).toContain('<button type="submit">Accept invitation</button>');
      expect(body).not.toContain('ada@acme.example');
    }
    expect(await getUser(t.db, user._id)).toEqual(before);
  });

  it('escapes the names it shows', async () => {
    const { token } = await invited({}, 'invited', { firstName: '<script>x</script>', lastName: '"Q"' });
    const body = await page(await open(token), 200);
    expect(body).toContain('Hello &lt;script&gt;x&lt;/script&gt; &quot;Q&quot;,');
  });

  it('POST accepts the invitation and activates the user; a second POST says it was used', async () => {
    const { user, token } = await invited();

    const body = await page(await accept(token), 200);
    expect(body).toContain('<h1>Invitation accepted</h1>');
    expect(body).toContain('Welcome, Ada Lovelace. Your account with Acme &lt;Corp&gt; is now active.');
    const after = await getUser(t.db, user._id);
    expect(after).toMatchObject({ status: 'active', activatedAt: clock.now() });
    expect(after.invitation).toMatchObject({ state: 'sent', acceptedAt: clock.now() });

    clock.advance(60_000);
    await refusal(await accept(token), 410, /already been accepted/);
    const again = await refusal(await open(token), 410, /already been accepted/);
    expect(again).toContain(ASK);
    expect(await getUser(t.db, user._id)).toEqual(after);
    const logs = logLines.join('\n');
    expect(logs).toContain('Invitation accepted');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain('ada@acme.example');
  });

  it('answers 410 for an expired link, on GET and POST, changing nothing', async () => {
    const { user, token } = await invited({ tokens: [] });
    const expired = await invited({}, 'invited', { email: 'old@acme.example' });
    await t.db
      .collection<UserDocument>(USERS_COLLECTION)
      .updateOne({ _id: expired.user._id }, { $set: { 'invitation.tokens.0.expiresAt': at(DAY - 1) } });
    const before = await getUser(t.db, expired.user._id);

    const body = await refusal(await open(expired.token), 410, /has expired/);
    expect(body).toContain(ASK);
    await refusal(await accept(expired.token), 410, /has expired/);
    expect(await getUser(t.db, expired.user._id)).toEqual(before);
    // A token whose hash is no longer listed reads as unknown, not expired.
    await refusal(await open(token), 404, /not valid/);
    expect((await getUser(t.db, user._id)).status).toBe('invited');
  });

  it('answers 404 for unknown and malformed links, the same page whoever asks', async () => {
    await invited();
    // Each page has its own nonce; apart from it they are the same.
    const withoutNonce = (body: string) => body.replace(/nonce="[^"]+"/, '');
    const unknown = withoutNonce(await refusal(await open(newInvitationToken().token), 404, /not valid/));
    expect(unknown).toContain(ASK);
    expect(withoutNonce(await refusal(await open('not-a-token'), 404, /not valid/))).toBe(unknown);
    expect(withoutNonce(await refusal(await fetch(url), 404, /not valid/))).toBe(unknown);
    expect(withoutNonce(await refusal(await accept(newInvitationToken().token), 404, /not valid/))).toBe(
      unknown,
    );
    await refusal(await accept('{"$ne":null}'), 400, /did not come from an invitation page/);
    await refusal(
      await fetch(url, { method: 'POST', body: new URLSearchParams({}) }),
      400,
      /invitation page/,
    );
  });

  it('says when the user was deleted or the invitation cancelled', async () => {
    const deleted = await invited({}, 'deleted');
    const cancelled = await invited({ state: 'cancelled' }, 'invited', { email: 'c@acme.example' });

    let body = await refusal(await open(deleted.token), 410, /has been removed/);
    expect(body).toContain(ASK);
    await refusal(await accept(deleted.token), 410, /has been removed/);
    body = await refusal(await open(cancelled.token), 410, /was cancelled/);
    expect(body).toContain(ASK);
    await refusal(await accept(cancelled.token), 410, /was cancelled/);
    expect((await getUser(t.db, deleted.user._id)).status).toBe('deleted');
    expect((await getUser(t.db, cancelled.user._id)).status).toBe('invited');
  });

  it('refuses bodies that are too large or not a form, changing nothing', async () => {
    const { user, token } = await invited();
    const before = await getUser(t.db, user._id);
    const padded = new URLSearchParams({ token, pad: 'x'.repeat(MAX_FORM_BYTES) });
    await refusal(await fetch(url, { method: 'POST', body: padded }), 413, /invitation page/);
    const json = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    await refusal(json, 415, /invitation page/);
    expect(await getUser(t.db, user._id)).toEqual(before);
  });

  it('keeps an earlier link working after a resend issued a new one', async () => {
    const user = await insertUser(t.db, { invitation: entry('invitation') });
    const worker = new OutboxWorker({
      db: t.db,
      transport,
      accountName: 'Acme Corp',
      inviteUrlBase: 'https://app.example.test/invite',
      log: silentLogger,
      now: clock.now,
    });
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    clock.advance(2 * DAY);
    expect(await resendInvitations(t.db, 'acct1', {}, clock.now(), { notAccepted: true })).toMatchObject({
      notAccepted: 1,
    });
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    const [first, second] = smtp.received.map((m) => tokenIn(m));
    expect(second).not.toBe(first);

    await page(await open(second!), 200);
    await page(await accept(first!), 200);
    expect(await getUser(t.db, user._id)).toMatchObject({ status: 'active' });
    await refusal(await open(second!), 410, /already been accepted/);
  });
});

describe('on a bare restify server, without a body parser', () => {
  it('reads the form itself, up to its size limit', async () => {
    await t.db.collection(USERS_COLLECTION).deleteMany({});
    const { token, tokenHash } = newInvitationToken();
    const user = await insertUser(t.db, {
      invitation: entry('invitation', {
        state: 'sent',
        attempts: 1,
        sentAt: T0,
        tokenHash,
        tokens: [{ hash: tokenHash, expiresAt: at(14 * DAY) }],
      }),
    });
    const bare = restify.createServer();
    registerAcceptRoute(bare, {
      db: t.db,
      inviteUrlBase: 'https://app.example.test/join',
      accountName: 'Acme',
      now: () => at(DAY),
    });
    await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
    const link = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/join`;
    try {
      const tooLarge = new URLSearchParams({ token, pad: 'x'.repeat(MAX_FORM_BYTES) }).toString();
      // Streamed without a length, so only the read itself can tell the size.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(tooLarge));
          controller.close();
        },
      });
      const refused = await fetch(link, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(refused.status).toBe(413);
      expect((await getUser(t.db, user._id)).status).toBe('invited');

      const accepted = await fetch(link, { method: 'POST', body: new URLSearchParams({ token }) });
      expect(accepted.status).toBe(200);
      expect(await accepted.text()).toContain('Your account with Acme is now active.');
      expect(await getUser(t.db, user._id)).toMatchObject({ status: 'active', activatedAt: at(DAY) });
    } finally {
      bare.server.closeAllConnections();
      await new Promise<void>((resolve) => bare.close(() => resolve()));
    }
  });
});

describe('invitationRoutePath', () => {
  it('serves the path of INVITE_URL_BASE, never the root or a restify pattern', () => {
    expect(invitationRoutePath('https://app.example.test/invite')).toBe('/invite');
    expect(invitationRoutePath('http://localhost:3978/welcome/join?lang=fr')).toBe('/welcome/join');
    expect(invitationRoutePath('https://app.example.test/')).toBeUndefined();
    expect(invitationRoutePath('https://app.example.test')).toBeUndefined();
    expect(invitationRoutePath('https://app.example.test/in:vite')).toBeUndefined();
    expect(invitationRoutePath('https://app.example.test/a//b')).toBeUndefined();
  });
});

describe('the bot app', () => {
  it('serves the links at INVITE_URL_BASE’s path and sends reminders after INVITE_REMINDER_DAYS', async () => {
    smtp.received.length = 0;
    const bot = await startTestBotApp({
      SMTP_URL: smtp.url,
      INVITE_URL_BASE: 'http://invite.example.test/welcome/join',
      INVITE_REMINDER_DAYS: '2',
      ACCOUNT_NAME: 'Globex',
    });
    try {
      const db = bot.services.database.db;
      // Invited three days ago and not accepted: the outbox's next run sends the reminder.
      const sentAt = new Date(Date.now() - 3 * DAY);
      const earlier = newInvitationToken();
      const user = await insertUser(db, {
        email: 'grace@globex.example',
        firstName: 'Grace',
        lastName: 'Hopper',
        invitation: entry('invitation', {
          state: 'sent',
          attempts: 1,
          queuedAt: sentAt,
          sentAt,
          tokenHash: earlier.tokenHash,
          tokens: [{ hash: earlier.tokenHash, expiresAt: new Date(sentAt.getTime() + 14 * DAY) }],
        }),
      });
      expect(await bot.services.outbox.runOnce()).toMatchObject({ sent: 1 });
      const reminder = smtp.received[0]!;
      expect(reminder.rcptTo).toEqual(['grace@globex.example']);
      expect(reminder.header('subject')).toBe("Reminder: you're invited to join Globex");
      const token = tokenIn(
        reminder,
        /http:\/\/invite\.example\.test\/welcome\/join\?token=([A-Za-z0-9_-]+)/,
      );

      const link = `${bot.url}/welcome/join`;
      const shown = await fetch(`${link}?token=${earlier.token}`);
      expect(shown.status).toBe(200);
      expect(await shown.text()).toContain('Hello Grace Hopper,');
      const accepted = await fetch(link, { method: 'POST', body: new URLSearchParams({ token }) });
      expect(accepted.status).toBe(200);
      expect(await accepted.text()).toContain('Your account with Globex is now active.');
      expect(await getUser(db, user._id)).toMatchObject({ status: 'active' });
      expect((await fetch(`${bot.url}/invite?token=${token}`)).status).toBe(404);
    } finally {
      await bot.close();
    }
  });
});
