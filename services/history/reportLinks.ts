import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/**
 * Signed, expiring links to an import's per-row report (`csv`) or its fix file (`fix.csv`: the rows not
 * imported, ready to correct and send back). The signature is the authorization: whoever holds
 * the link may download that one report until it expires, which is what lets the link work in every channel
 * (Teams, Web Chat) without a sign-in. Pure functions: no HTTP, no database.
 */

/** The files a link can name: the per-row report, or the fix file of the rows not imported. */
export const REPORT_FORMATS = ['csv', 'fix.csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** What a report link grants: one import's report, of one account, in one format, until `expiresAt`. */
export interface ReportLinkClaims {
  importId: string;
  accountId: string;
  /** Links carry whole seconds, so a verified link's expiry has no milliseconds. */
  expiresAt: Date;
  format: ReportFormat;
}

/** Why a report request was refused. */
export type ReportLinkFailure = 'malformed' | 'bad-signature' | 'expired';

/** The parts of a report request the link put there: path parameters and the `a`, `e` and `s` query values. */
export interface ReportRequestParams {
  importId: string;
  format: string;
  a?: string;
  e?: string;
  s?: string;
}

/** Keys shorter than this are refused, so a missing or truncated secret can never produce forgeable links. */
export const MIN_REPORT_KEY_BYTES = 32;

/** Bumped if the signed text ever changes, so old links fail cleanly instead of verifying by accident. */
const SIGNATURE_VERSION = 'v1';

const importIdSchema = z.string().regex(/^imp_[a-z0-9]+$/);
const accountIdSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/);

const requestSchema = z.object({
  importId: importIdSchema,
  format: z.enum(REPORT_FORMATS),
  a: accountIdSchema,
  // Unix seconds; twelve digits reach far beyond any expiry we issue while keeping Date arithmetic exact.
  e: z.string().regex(/^\d{1,12}$/),
  // Unpadded base64url of a 32-byte HMAC-SHA256 is always 43 characters.
  s: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
});

function checkKey(key: Buffer): void {
  if (key.length < MIN_REPORT_KEY_BYTES) {
    throw new Error(`The report link key must be at least ${MIN_REPORT_KEY_BYTES} bytes.`);
  }
}

function signature(
  key: Buffer,
  importId: string,
  accountId: string,
  expiresSeconds: string,
  format: ReportFormat,
): string {
  // Newline-separated fields: none of them may contain a newline, so no two claims sign the same text. The
  // format is signed too, so a report link cannot be turned into a fix-file link or back.
  const text = [SIGNATURE_VERSION, importId, accountId, expiresSeconds, format].join('\n');
  return createHmac('sha256', key).update(text, 'utf8').digest('base64url');
}

/**
 * The path and query of a signed link to the report, to be appended to the bot's public URL, e.g.
 * `/reports/imp_abc.csv?a=acct1&e=1767225600&s=…` (`/reports/imp_abc.fix.csv?…` for the fix file). Throws
 * when the import or account id is not one a link can carry, or when the key is too short.
 */
export function signReportPath(claims: ReportLinkClaims, key: Buffer): string {
  checkKey(key);
  const importId = importIdSchema.parse(claims.importId);
  const accountId = accountIdSchema.parse(claims.accountId);
  const format = z.enum(REPORT_FORMATS).parse(claims.format);
  const expires = String(Math.floor(claims.expiresAt.getTime() / 1000));
  const query = new URLSearchParams({
    a: accountId,
    e: expires,
    s: signature(key, importId, accountId, expires, format),
  });
  return `/reports/${importId}.${format}?${query.toString()}`;
}

/**
 * Checks a report request against the key. The signature is checked before the expiry, so only an authentic
 * link is ever told it has expired; a forged one learns nothing beyond `bad-signature`.
 */
export function verifyReportRequest(
  params: ReportRequestParams,
  key: Buffer,
  now: Date = new Date(),
): { ok: true; claims: ReportLinkClaims } | { ok: false; reason: ReportLinkFailure } {
  checkKey(key);
  const parsed = requestSchema.safeParse(params);
  if (!parsed.success) return { ok: false, reason: 'malformed' };
  const { importId, format, a: accountId, e, s } = parsed.data;

  // Comparing the encoded text rather than decoded bytes: base64url's last character carries two unused
  // bits, and decoding would let four different strings pass as the same signature.
  const expected = Buffer.from(signature(key, importId, accountId, e, format), 'utf8');
  const given = Buffer.from(s, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'bad-signature' };
  }

  const expiresAt = new Date(Number(e) * 1000);
  if (now.getTime() >= expiresAt.getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, claims: { importId, accountId, expiresAt, format } };
}
