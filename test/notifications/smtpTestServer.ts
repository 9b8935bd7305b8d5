import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { parseMail, type ParsedMail } from './mimeMessage';

/** One message as the server received it: the SMTP envelope plus the parsed content. */
export interface ReceivedMail extends ParsedMail {
  mailFrom: string;
  rcptTo: string[];
  raw: string;
}

/** A real SMTP server on loopback that keeps what it receives and can be told to refuse recipients. */
export interface SmtpTestServer {
  url: string;
  received: ReceivedMail[];
  /** RCPT TO commands seen, accepted or not; counts delivery attempts even when nothing arrives. */
  rcptAttempts: string[];
  /** While set, every recipient is refused with this permanent error. */
  rejectRecipients: boolean;
  close(): Promise<void>;
}

export async function startSmtpTestServer(): Promise<SmtpTestServer> {
  const state: Omit<SmtpTestServer, 'url' | 'close'> = {
    received: [],
    rcptAttempts: [],
    rejectRecipients: false,
  };
  const server = new SMTPServer({
    authOptional: true,
    // The client would otherwise upgrade to TLS and refuse the server's self-signed certificate.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      state.rcptAttempts.push(address.address);
      if (!state.rejectRecipients) return callback();
      const err = Object.assign(
        new Error(`<${address.address}>: Recipient address rejected: Mailbox unavailable`),
        {
          responseCode: 550,
        },
      );
      callback(err);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        state.received.push({
          ...parseMail(raw),
          raw,
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return Object.assign(state, {
    url: `smtp://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
