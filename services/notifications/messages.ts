import { AppError } from '../errors';
import { escapeHtml, singleLine } from './textSafety';

/** The part of a user the messages address. */
export interface MailRecipient {
  email: string;
  firstName?: string;
  lastName?: string;
}

/** A composed message: a one-line subject with plain-text and HTML bodies saying the same thing. */
export interface ComposedMail {
  subject: string;
  text: string;
  html: string;
}

export interface InvitationInput {
  accountName: string;
  user: MailRecipient;
  /** The personal, single-use link that lets the user set up their account. */
  inviteUrl: string;
  /** A reminder of an invitation sent earlier and not yet accepted. */
  reminder?: boolean;
}

export interface ActivationInput {
  accountName: string;
  user: MailRecipient;
  /** Where the user signs in; the notice simply leaves the link out when there is none. */
  signInUrl?: string;
}

/**
 * Each message is written once as blocks and rendered to both bodies, so the text and HTML versions cannot
 * drift apart. Block text is plain text; the HTML renderer escapes all of it.
 */
type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'link'; label: string; url: string }
  | { kind: 'footnote'; text: string };

const FALLBACK_ACCOUNT = 'your organization';

/**
 * The recipient's display name for the To header and the greeting, or undefined when the import gave none.
 * Control characters are removed, so a name can never start a header line of its own.
 */
export function recipientName(user: MailRecipient): string | undefined {
  return singleLine(`${user.firstName ?? ''} ${user.lastName ?? ''}`, 120) || undefined;
}

/** The invitation a new user receives, with the link that lets them set up their account. */
export function composeInvitation(input: InvitationInput): ComposedMail {
  const account = accountLabel(input.accountName);
  const email = singleLine(input.user.email, 320);
  const url = webLink(input.inviteUrl, 'invitation');
  const subject = input.reminder
    ? `Reminder: you're invited to join ${account}`
    : `You're invited to join ${account}`;
  const invited = input.reminder
    ? `This is a reminder: you were invited to join ${account} and have not accepted yet.`
    : `You have been invited to join ${account}.`;
  // Someone invited from a list of addresses has no name on record yet: the message asks for it.
  const profile =
    recipientName(input.user) === undefined
      ? ' So far we only have your email address: when you have accepted, please complete your profile ' +
        'with your name.'
      : '';
  return render(subject, [
    { kind: 'paragraph', text: greeting(input.user) },
    { kind: 'paragraph', text: `${invited} You will sign in with ${email}.${profile}` },
    { kind: 'link', label: 'Set up your account', url },
    {
      kind: 'paragraph',
      text:
        'This link is personal and works only once, so please do not forward this message. ' +
        'If you were not expecting an invitation, you can safely ignore it.',
    },
    { kind: 'footnote', text: signature(account) },
  ]);
}

/** The notice an existing user receives when their account becomes active. */
export function composeActivation(input: ActivationInput): ComposedMail {
  const account = accountLabel(input.accountName);
  const email = singleLine(input.user.email, 320);
  const blocks: Block[] = [
    { kind: 'paragraph', text: greeting(input.user) },
    {
      kind: 'paragraph',
      text: `Good news: your account with ${account} is now active. You can sign in with ${email}.`,
    },
  ];
  if (input.signInUrl !== undefined) {
    blocks.push({ kind: 'link', label: 'Sign in', url: webLink(input.signInUrl, 'sign-in') });
  }
  blocks.push(
    {
      kind: 'paragraph',
      text: 'If you have any questions about your account, please contact your administrator.',
    },
    { kind: 'footnote', text: signature(account) },
  );
  return render(`Your ${account} account is now active`, blocks);
}

function accountLabel(accountName: string): string {
  return singleLine(accountName, 100) || FALLBACK_ACCOUNT;
}

function greeting(user: MailRecipient): string {
  const name = singleLine(user.firstName, 60) || recipientName(user);
  return name ? `Hello ${name},` : 'Hello,';
}

function signature(account: string): string {
  return `This message was sent by Enrollment Assistant on behalf of ${account}.`;
}

/** Only http(s) links are put in a message; anything else (javascript:, data:) would be a hazard in href. */
function webLink(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError('config-invalid', `The ${what} link is not a valid URL.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AppError('config-invalid', `The ${what} link must be an http or https URL.`);
  }
  return url.href;
}

function render(subject: string, blocks: Block[]): ComposedMail {
  return { subject: singleLine(subject, 250), text: renderText(blocks), html: renderHtml(subject, blocks) };
}

function renderText(blocks: Block[]): string {
  const parts = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return block.text;
      case 'link':
        return `${block.label}:\n${block.url}`;
      case 'footnote':
        return `--\n${block.text}`;
    }
  });
  return parts.join('\n\n') + '\n';
}

const STYLE = {
  body: 'margin:0;padding:24px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1f2328;',
  card: 'max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px;',
  paragraph: 'margin:0 0 16px;font-size:15px;line-height:1.5;',
  button:
    'display:inline-block;padding:12px 20px;background:#2457c5;color:#ffffff;text-decoration:none;' +
    'border-radius:6px;font-weight:bold;font-size:15px;',
  fallback: 'margin:0 0 16px;font-size:13px;line-height:1.5;color:#57606a;',
  footnote: 'margin:24px 0 0;font-size:12px;line-height:1.5;color:#6e7781;',
};

function renderHtml(subject: string, blocks: Block[]): string {
  const body = blocks.map((block) => {
    switch (block.kind) {
      case 'paragraph':
        return `<p style="${STYLE.paragraph}">${escapeHtml(block.text)}</p>`;
      case 'link': {
        const href = escapeHtml(block.url);
        return (
          `<p style="margin:24px 0;"><a href="${href}" style="${STYLE.button}">${escapeHtml(block.label)}</a></p>\n` +
          `<p style="${STYLE.fallback}">If the button does not work, copy this link into your browser:<br>` +
          `<a href="${href}" style="color:#2457c5;word-break:break-all;">${href}</a></p>`
        );
      }
      case 'footnote':
        return `<p style="${STYLE.footnote}">${escapeHtml(block.text)}</p>`;
    }
  });
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(singleLine(subject, 250))}</title></head>`,
    `<body style="${STYLE.body}">`,
    `<div style="${STYLE.card}">`,
    ...body,
    '</div>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
