import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isAppError } from '../../services/errors';
import { createLogger, silentLogger } from '../../services/logger';
import { createMailTransport, type OutgoingMail } from '../../services/notifications/mailTransport';
import { parseMail } from './mimeMessage';
import { startSmtpTestServer, type SmtpTestServer } from './smtpTestServer';

const FROM = 'Acme IT <it@acme.example>';

function message(changes: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    to: 'grace@example.com',
    toName: 'Grace Hopper',
    subject: "You're invited to join Acme",
    text: 'Hello Grace,\n\nWelcome.\n',
    html: '<p>Hello Grace,</p><p>Welcome.</p>',
    messageId: '<invitation.0123abcd@app.example.test>',
    ...changes,
  };
}

describe('the SMTP transport', () => {
  let smtp: SmtpTestServer;
  beforeAll(async () => {
    smtp = await startSmtpTestServer();
  });
  afterAll(async () => smtp.close());
  beforeEach(() => {
    smtp.received.length = 0;
    smtp.rcptAttempts.length = 0;
    smtp.rejectRecipients = false;
  });

  it('delivers the message with both bodies, the display name and our Message-ID', async () => {
    const transport = createMailTransport(
      { smtpUrl: smtp.url, mailFrom: FROM, dataDir: '/nonexistent' },
      silentLogger,
    );
    try {
      const result = await transport.send(message());
      expect(result).toEqual({ messageId: '<invitation.0123abcd@app.example.test>' });
    } finally {
      await transport.close();
    }
    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.rcptTo).toEqual(['grace@example.com']);
    expect(mail.mailFrom).toBe('it@acme.example');
    expect(mail.header('to')).toBe('Grace Hopper <grace@example.com>');
    expect(mail.header('from')).toBe('Acme IT <it@acme.example>');
    expect(mail.header('subject')).toBe("You're invited to join Acme");
    expect(mail.header('message-id')).toBe('<invitation.0123abcd@app.example.test>');
    expect(mail.text).toContain('Hello Grace,');
    expect(mail.html).toContain('<p>Hello Grace,</p>');
  });

  it('cannot be made to add headers or recipients through CR/LF in the name or subject', async () => {
    const transport = createMailTransport(
      { smtpUrl: smtp.url, mailFrom: FROM, dataDir: '/nonexistent' },
      silentLogger,
    );
    try {
      await transport.send(
        message({
          toName: 'Eve\r\nBcc: intruder@evil.test\r\nX-Injected: yes',
          subject: 'Hi\r\nCc: intruder@evil.test',
        }),
      );
    } finally {
      await transport.close();
    }
    const mail = smtp.received[0]!;
    expect(mail.rcptTo).toEqual(['grace@example.com']);
    expect(mail.headers('bcc')).toEqual([]);
    expect(mail.headers('cc')).toEqual([]);
    expect(mail.headers('x-injected')).toEqual([]);
    expect(mail.headers('to')).toHaveLength(1);
    expect(mail.header('to')).toMatch(/<grace@example\.com>$/);
  });

  it('reports a refused recipient as mail-failed without repeating the address', async () => {
    smtp.rejectRecipients = true;
    const transport = createMailTransport(
      { smtpUrl: smtp.url, mailFrom: FROM, dataDir: '/nonexistent' },
      silentLogger,
    );
    let caught: unknown;
    try {
      await transport.send(message());
    } catch (err) {
      caught = err;
    } finally {
      await transport.close();
    }
    expect(isAppError(caught, 'mail-failed')).toBe(true);
    const text = (caught as Error).message;
    expect(text).toMatch(/Recipient address rejected/);
    expect(text).not.toContain('grace@example.com');
    expect(text).toContain('[address]');
    expect(smtp.rcptAttempts).toEqual(['grace@example.com']);
  });

  it('masks credentials in its description', () => {
    const transport = createMailTransport(
      { smtpUrl: 'smtp://mailer:s3cret@127.0.0.1:2525', mailFrom: FROM, dataDir: '/nonexistent' },
      silentLogger,
    );
    expect(transport.description).toBe('SMTP server smtp://***@127.0.0.1:2525');
    return transport.close();
  });
});

describe('the .eml file fallback', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'outbox-test-'));
  });
  afterEach(async () => fs.rm(dataDir, { recursive: true, force: true }));

  it('writes the message under dataDir/outbox and logs the path but not the recipient', async () => {
    const lines: string[] = [];
    const transport = createMailTransport(
      { mailFrom: FROM, dataDir },
      createLogger('debug', (l) => lines.push(l)),
    );
    const result = await transport.send(message());
    await transport.close();

    const outbox = path.join(dataDir, 'outbox');
    const files = await fs.readdir(outbox);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[0-9a-f]{32}\.eml$/);
    expect(result.savedTo).toBe(path.join(outbox, files[0]!));
    expect(result.messageId).toBe('<invitation.0123abcd@app.example.test>');
    expect((await fs.stat(result.savedTo!)).mode & 0o777).toBe(0o600);

    const raw = await fs.readFile(result.savedTo!, 'utf8');
    expect(raw).toContain('\r\n');
    const mail = parseMail(raw);
    expect(mail.header('to')).toBe('Grace Hopper <grace@example.com>');
    expect(mail.header('message-id')).toBe('<invitation.0123abcd@app.example.test>');
    expect(mail.text).toContain('Hello Grace,');

    expect(lines.some((l) => l.includes(result.savedTo!))).toBe(true);
    for (const line of lines) {
      expect(line).not.toContain('grace@example.com');
      expect(line).not.toContain('Grace');
    }
  });

  it('names the file after the Message-ID, so a resend of the same message replaces it', async () => {
    const transport = createMailTransport({ mailFrom: FROM, dataDir }, silentLogger);
    const first = await transport.send(message());
    const again = await transport.send(message({ text: 'second copy' }));
    const other = await transport.send(message({ messageId: '<activation.99@app.example.test>' }));
    await transport.close();
    expect(again.savedTo).toBe(first.savedTo);
    expect(other.savedTo).not.toBe(first.savedTo);
    expect(await fs.readdir(path.join(dataDir, 'outbox'))).toHaveLength(2);
    expect(await fs.readFile(first.savedTo!, 'utf8')).toContain('second copy');
  });
});
