import net from 'node:net';
import type restify from 'restify';
import type { z } from 'zod';

/**
 * The HTTP plumbing every local Direct Line route shares: errors as `{ error: { code, message } }`, bearer
 * tokens, request validation and the loopback check. Nothing here knows about conversations or activities.
 */

/** A request the channel refuses, with the status and the body it answers with. */
export class DirectLineHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers, such as `Retry-After`. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'DirectLineHttpError';
  }
}

/** 403 is what Direct Line clients read as "the token expired": they then ask the page for a new one. */
export const forbidden = (): DirectLineHttpError =>
  new DirectLineHttpError(
    403,
    'TokenExpired',
    'The token is missing, invalid or expired, or is for another conversation.',
  );

export const notFound = (what: string): DirectLineHttpError =>
  new DirectLineHttpError(404, 'NotFound', `${what} was not found.`);

/** The JSON error body of the Direct Line and Bot Connector APIs. */
export function errorBody(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** Answers with `err` when it is a {@link DirectLineHttpError}; anything else is a 500 that says nothing more. */
export function sendError(res: restify.Response, err: unknown): void {
  if (res.headersSent) return;
  if (err instanceof DirectLineHttpError) {
    for (const [name, value] of Object.entries(err.headers)) res.header(name, value);
    res.send(err.status, errorBody(err.code, err.message));
    return;
  }
  res.send(500, errorBody('ServiceError', 'The request could not be handled. Try again.'));
}

/** The token of an `Authorization: Bearer …` header, or undefined. */
export function bearerToken(req: restify.Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}

/**
 * Parses `value` with `schema`, or throws a 400 naming the first problem (its path and zod's message, never
 * the offending value, which may be user text).
 */
export function parseOr400<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` (${issue.path.join('.')})` : '';
  throw new DirectLineHttpError(
    400,
    'BadArgument',
    `Invalid ${what}${where}: ${issue?.message ?? 'invalid'}.`,
  );
}

/** The query string of a request, read from the raw URL so no query parser needs to be mounted. */
export function queryOf(req: restify.Request): URLSearchParams {
  return new URL(req.url ?? '/', 'http://direct-line.invalid').searchParams;
}

/** True for 127.0.0.0/8, ::1 and IPv4-mapped loopback addresses. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (net.isIPv4(plain)) return plain.startsWith('127.');
  return plain === '::1';
}

/**
 * Wraps an async route body: a thrown {@link DirectLineHttpError} becomes its JSON answer, anything else a
 * logged 500.
 */
export function route(
  onUnexpected: (err: unknown, req: restify.Request) => void,
  handler: (req: restify.Request, res: restify.Response) => Promise<void>,
): (req: restify.Request, res: restify.Response) => Promise<void> {
  return async (req, res) => {
    try {
      await handler(req, res);
    } catch (err) {
      if (!(err instanceof DirectLineHttpError)) onUnexpected(err, req);
      sendError(res, err);
    }
  };
}

/** The kind of a failure without its message, which may quote user data. */
export function errorName(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code;
  return code === undefined ? err.name : `${err.name} (${String(code)})`;
}
