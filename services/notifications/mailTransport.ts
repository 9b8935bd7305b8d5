import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import { AppError } from '../errors';
import { redactUri, type Logger } from '../logger';
import { redactAddresses, singleLine } from './textSafety';

/** A message ready to hand to the mail system. */
export interface OutgoingMail {
  to: string;
  toName?: string;
  subject: string;
  text: string;
  html: string;
  /** Full Message-ID including the angle brackets, e.g. `<abc@example.com>`. */
  messageId: string;
}

/** Delivers composed messages: to an SMTP server, or into files when none is configured. */
export interface MailTransport {
  /** Resolves once the message is accepted; rejects with an AppError `mail-failed` that names no recipient. */
  send(message: OutgoingMail): Promise<{ messageId: string; savedTo?: string }>;
  /** Where messages go, safe to log (credentials in the SMTP URL are masked). */
  readonly description: string;
  close(): Promise<void>;
}

export interface MailTransportOptions {
  /** smtp:// or smtps:// URL; when absent, messages are written as .eml files instead. */
  smtpUrl?: string;
  /** The From header, e.g. `Acme IT <it@acme.com>`. */
  mailFrom: string;
  /** The product's data folder; the file fallback writes into its `outbox` subfolder. */
  dataDir: string;
}

/**
 * Timeouts well below any sensible outbox lease, so a hung server turns into a retry instead of a send that
 * outlives its claim and is then repeated by another worker.
 */
const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

/** Creates the transport for the configured environment: SMTP when `smtpUrl` is set, .eml files otherwise. */
export function createMailTransport(options: MailTransportOptions, log: Logger): MailTransport {
  return options.smtpUrl
    ? smtpTransport(options.smtpUrl, options.mailFrom)
    : fileTransport(path.join(options.dataDir, 'outbox'), options.mailFrom, log);
}

function smtpTransport(smtpUrl: string, mailFrom: string): MailTransport {
  const transporter = nodemailer.createTransport({ url: smtpUrl, pool: true, ...SMTP_TIMEOUTS });
  return {
    description: `SMTP server ${redactUri(smtpUrl)}`,
    send: async (message) => {
      try {
        const info = await transporter.sendMail(mailOptions(message, mailFrom));
        return { messageId: info.messageId };
      } catch (err) {
        throw mailFailed(err);
      }
    },
    close: async () => {
      transporter.close();
    },
  };
}

/**
 * Writes each message, exactly as it would go over SMTP, to `<dir>/<hash of Message-ID>.eml`. The name comes
 * from the Message-ID so a resend of the same message replaces its file, and never from user input.
 */
function fileTransport(dir: string, mailFrom: string, log: Logger): MailTransport {
  const transporter = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    description: `.eml files in ${dir}`,
    send: async (message) => {
      let file: string;
      let messageId: string;
      try {
        const info = await transporter.sendMail(mailOptions(message, mailFrom));
        const bytes = info.message;
        if (!Buffer.isBuffer(bytes)) throw new Error('the mail composer did not return the message bytes');
        messageId = info.messageId;
        file = path.join(dir, `${createHash('sha256').update(messageId).digest('hex').slice(0, 32)}.eml`);
        // The files hold personal data, so only the product's own user may read them.
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
        // Written beside and renamed into place, so a reader never sees half a message.
        const partial = `${file}.${randomBytes(6).toString('hex')}.partial`;
        await fs.writeFile(partial, bytes, { mode: 0o600 });
        await fs.rename(partial, file);
      } catch (err) {
        throw mailFailed(err);
      }
      log.info('No SMTP server is configured; the message was saved as a file', { path: file });
      return { messageId, savedTo: file };
    },
    close: async () => {
      transporter.close();
    },
  };
}

function mailOptions(message: OutgoingMail, mailFrom: string): SendMailOptions {
  // A structured address lets nodemailer encode the name; pasting it into a string could inject headers.
  const name = singleLine(message.toName, 120);
  return {
    from: mailFrom,
    to: name ? { name, address: message.to } : message.to,
    subject: singleLine(message.subject, 250),
    text: message.text,
    html: message.html,
    messageId: message.messageId,
    // Our content never references files or URLs to embed; refusing them closes a whole class of mistakes.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

function mailFailed(err: unknown): AppError {
  const detail = err instanceof Error ? err.message : String(err);
  const responseCode = (err as { responseCode?: unknown } | null)?.responseCode;
  return new AppError('mail-failed', `The message could not be delivered: ${redactAddresses(detail)}`, {
    ...(typeof responseCode === 'number' ? { responseCode } : {}),
  });
}
