import { createHash, randomBytes } from 'node:crypto';

/** 256 bits: guessing a live token is hopeless even with many invitations outstanding. */
const TOKEN_BYTES = 32;

/** A single-use invitation token and the hash that is the only form of it the database keeps. */
export interface InvitationToken {
  token: string;
  tokenHash: string;
}

/** The value stored as `tokenHash`: sha256 of the token, as lower-case hex. */
export function hashInvitationToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A fresh random token (base64url, so it needs no escaping in a URL) with its hash. */
export function newInvitationToken(): InvitationToken {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  return { token, tokenHash: hashInvitationToken(token) };
}

/**
 * The invitation link: `base` with a `token` query parameter. Going through URL keeps any query string or
 * fragment the base already has intact, and replaces a stray `token` parameter rather than adding a second.
 */
export function invitationLink(base: string, token: string): string {
  const url = new URL(base);
  url.searchParams.set('token', token);
  return url.toString();
}
