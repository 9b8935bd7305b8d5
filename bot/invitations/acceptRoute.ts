import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import type restify from 'restify';
import { z } from 'zod';
import type { Logger } from '../../services/logger';
import {
  acceptInvitation,
  checkInvitation,
  invitationTokenSchema,
  type InvitationRefusal,
  type Invitee,
} from '../../services/notifications/invitationAcceptance';
import { escapeHtml, singleLine } from '../../services/notifications/textSafety';

export interface AcceptRouteDeps {
  db: Db;
  /** INVITE_URL_BASE: the route serves its path. */
  inviteUrlBase: string;
  /** The account's display name, or a lookup from account id to it (as the outbox worker takes it). */
  accountName: string | ((accountId: string) => string);
  /** INVITE_TTL_DAYS, for links sent before tokens carried their own expiry. */
  ttlDays?: number;
  log?: Logger;
  now?: () => Date;
}

/** The form carries one 43-character token; anything much larger is not from the page. */
export const MAX_FORM_BYTES = 2048;

const FORM_TYPE = 'application/x-www-form-urlencoded';
const FALLBACK_ACCOUNT = 'your organization';
const ASK = 'ask your administrator for a new invitation';

const acceptForm = z.object({ token: invitationTokenSchema });

type Problem = InvitationRefusal | 'malformed' | 'too-large' | 'unsupported' | 'unavailable';

// The pages echo nothing from the request and name no one: they say what happened and what to do.
const PROBLEMS: Record<Problem, { status: number; title: string; text: string }> = {
  unknown: {
    status: 404,
    title: 'Invitation not found',
    text: `This invitation link is not valid. Check that you opened the complete link from your invitation email; if it still does not work, ${ASK}.`,
  },
  expired: {
    status: 410,
    title: 'Invitation link expired',
    text: `This invitation link has expired. If you received a newer invitation email, use the link in that one; otherwise ${ASK}.`,
  },
  used: {
    status: 410,
    title: 'Invitation already accepted',
    text: `This invitation has already been accepted, or the account it was for is already active. If you did not accept it yourself, or cannot sign in, ${ASK}.`,
  },
  cancelled: {
    status: 410,
    title: 'Invitation cancelled',
    text: `This invitation was cancelled and can no longer be accepted. If you think you should have access, ${ASK}.`,
  },
  deleted: {
    status: 410,
    title: 'Invitation no longer valid',
    text: `The account this invitation was for has been removed, so the invitation can no longer be accepted. If you think you should have access, ${ASK}.`,
  },
  busy: {
    status: 503,
    title: 'Please try again',
    text: 'Your invitation is being sent again right now. Please try this link again in a minute.',
  },
  malformed: {
    status: 400,
    title: 'Invitation not found',
    text: `This request did not come from an invitation page. Open the link from your invitation email again; if it does not work, ${ASK}.`,
  },
  'too-large': {
    status: 413,
    title: 'Invitation not found',
    text: 'This request did not come from an invitation page. Open the link from your invitation email again.',
  },
  unsupported: {
    status: 415,
    title: 'Invitation not found',
    text: 'This request did not come from an invitation page. Open the link from your invitation email again.',
  },
  unavailable: {
    status: 500,
    title: 'Something went wrong',
    text: 'The invitation could not be opened right now. Please try again later.',
  },
};

/**
 * The path the invitation links point at (INVITE_URL_BASE's pathname), or undefined when the bot cannot
 * serve it: the root belongs to the chat page, and restify would read `:` or `*` as route patterns.
 */
export function invitationRoutePath(inviteUrlBase: string): string | undefined {
  const { pathname } = new URL(inviteUrlBase);
  const servable = /^\/[A-Za-z0-9._~/-]+$/.test(pathname) && !pathname.includes('//');
  return servable ? pathname : undefined;
}

/**
 * Serves the invitation links: `GET <path>?token=…` shows who is invited to which account with an "Accept
 * invitation" button, and changes nothing (mail scanners and link previews fetch links); the button POSTs the
 * token as a form field and that accepts the invitation. The token is the only secret and authorization, so no
 * cookie is set and no script runs; every page is self-contained under a strict Content-Security-Policy.
 */
export function registerAcceptRoute(server: restify.Server, deps: AcceptRouteDeps): void {
  const routePath = invitationRoutePath(deps.inviteUrlBase);
  if (!routePath) {
    deps.log?.warn(
      'Invitation links are not served by the bot: INVITE_URL_BASE needs a path such as /invite',
    );
    return;
  }
  const now = deps.now ?? (() => new Date());
  const options = deps.ttlDays === undefined ? {} : { ttlDays: deps.ttlDays };
  const accountName = (accountId: string) => {
    const name = typeof deps.accountName === 'function' ? deps.accountName(accountId) : deps.accountName;
    return singleLine(name, 100) || FALLBACK_ACCOUNT;
  };

  server.get(routePath, async (req, res) => {
    // Read from the raw URL so the route does not depend on the server having a query parser mounted.
    const token = new URL(req.url ?? '/', 'http://invite.invalid').searchParams.get('token') ?? '';
    if (!invitationTokenSchema.safeParse(token).success) {
      problem(res, 'unknown', deps.log);
      return;
    }
    try {
      const check = await checkInvitation(deps.db, token, now(), options);
      if (!check.ok) {
        problem(res, check.reason, deps.log);
        return;
      }
      send(res, 200, invitationPage(check.invitee, accountName(check.invitee.accountId), routePath, token));
    } catch (err) {
      deps.log?.error('Invitation could not be read', { error: errorName(err) });
      problem(res, 'unavailable', deps.log);
    }
  });

  server.post(routePath, async (req, res) => {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== FORM_TYPE) {
      problem(res, 'unsupported', deps.log);
      return;
    }
    const body = await readBody(req, MAX_FORM_BYTES);
    if (body === undefined) {
      problem(res, 'too-large', deps.log);
      return;
    }
    const form = acceptForm.safeParse({ token: new URLSearchParams(body).get('token') ?? undefined });
    if (!form.success) {
      problem(res, 'malformed', deps.log);
      return;
    }
    try {
      const outcome = await acceptInvitation(deps.db, form.data.token, now(), options);
      if (!outcome.ok) {
        problem(res, outcome.reason, deps.log);
        return;
      }
      deps.log?.info('Invitation accepted', { accountId: outcome.invitee.accountId });
      send(res, 200, acceptedPage(outcome.invitee, accountName(outcome.invitee.accountId)));
    } catch (err) {
      deps.log?.error('Invitation could not be accepted', { error: errorName(err) });
      problem(res, 'unavailable', deps.log);
    }
  });
}

/**
 * The request body as text, or undefined when it is larger than `max` bytes. The bot's server has usually
 * read it already (its body parser keeps the text as `rawBody`); a bare server leaves the stream to us.
 */
async function readBody(req: restify.Request, max: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return undefined;
  const parsed = req as { rawBody?: unknown; _readBody?: boolean };
  if (parsed._readBody || parsed.rawBody !== undefined) {
    const raw = parsed.rawBody;
    const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
    return Buffer.byteLength(text) > max ? undefined : text;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > max) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function invitationPage(invitee: Invitee, account: string, action: string, token: string): Page {
  const hello = invitee.name ? `Hello ${invitee.name},` : 'Hello,';
  return {
    title: `Join ${account}`,
    body: [
      `<h1>Join ${escapeHtml(account)}</h1>`,
      `<p>${escapeHtml(hello)}</p>`,
      `<p>You have been invited to join ${escapeHtml(account)}. Accept the invitation to activate your account.</p>`,
      `<form method="post" action="${escapeHtml(action)}">`,
      `<input type="hidden" name="token" value="${escapeHtml(token)}">`,
      '<button type="submit">Accept invitation</button>',
      '</form>',
      '<p class="note">Nothing changes until you accept. If you were not expecting this invitation, you can close this page.</p>',
    ],
  };
}

function acceptedPage(invitee: Invitee, account: string): Page {
  const welcome = invitee.name ? `Welcome, ${invitee.name}.` : 'Welcome.';
  return {
    title: 'Invitation accepted',
    body: [
      '<h1>Invitation accepted</h1>',
      `<p>${escapeHtml(welcome)} Your account with ${escapeHtml(account)} is now active.</p>`,
      '<p class="note">You can close this page.</p>',
    ],
  };
}

interface Page {
  title: string;
  body: string[];
}

function problem(res: restify.Response, kind: Problem, log: Logger | undefined): void {
  const { status, title, text } = PROBLEMS[kind];
  log?.info('Invitation link refused', { reason: kind });
  send(
    res,
    status,
    { title, body: [`<h1>${escapeHtml(title)}</h1>`, `<p>${escapeHtml(text)}</p>`] },
    kind === 'busy',
  );
}

const STYLE = [
  'body{margin:0;padding:24px;background:#f4f5f7;font-family:Arial,Helvetica,sans-serif;color:#1f2328}',
  'main{max-width:520px;margin:40px auto;background:#fff;border-radius:8px;padding:32px}',
  'h1{font-size:22px;margin:0 0 16px}',
  'p{font-size:15px;line-height:1.5;margin:0 0 16px}',
  'button{padding:12px 20px;background:#2457c5;color:#fff;border:0;border-radius:6px;font-weight:bold;font-size:15px;cursor:pointer}',
  '.note{font-size:13px;color:#57606a;margin-top:24px}',
].join('\n');

/** A self-contained page: no script, no external assets, an inline style allowed by its nonce, never cached. */
function send(res: restify.Response, status: number, page: Page, retryLater = false): void {
  const nonce = randomBytes(16).toString('base64');
  const html = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(page.title)}</title>`,
    `<style nonce="${nonce}">\n${STYLE}\n</style></head>`,
    '<body><main>',
    ...page.body,
    '</main></body></html>',
    '',
  ].join('\n');
  const headers: Record<string, string | number> = {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  };
  if (retryLater) headers['retry-after'] = '60';
  res.writeHead(status, headers);
  res.end(html);
}

/** The kind of a failure without its message, which may quote the data it failed on. */
function errorName(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code;
  return code === undefined ? err.name : `${err.name} (${String(code)})`;
}
