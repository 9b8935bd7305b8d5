import { randomBytes } from 'node:crypto';
import {
  signReportPath,
  verifyReportRequest,
  type ReportLinkClaims,
  type ReportRequestParams,
} from '../../services/history/reportLinks';

const KEY = randomBytes(32);
const NOW = new Date('2030-01-01T00:00:00Z');
const CLAIMS: ReportLinkClaims = {
  importId: 'imp_m1abc2def3',
  accountId: 'tenant.1:acct-A_b',
  expiresAt: new Date('2030-01-04T00:00:00.750Z'),
  format: 'csv',
};

/** Reads a signed path back into the request parameters the route hands to verifyReportRequest. */
function requestOf(signedPath: string): ReportRequestParams {
  const url = new URL(signedPath, 'https://bot.example.com');
  const match = /^\/reports\/([^/]+)\.([^./]+)$/.exec(url.pathname);
  if (!match) throw new Error(`unexpected path ${url.pathname}`);
  return {
    importId: match[1] ?? '',
    format: match[2] ?? '',
    a: url.searchParams.get('a') ?? undefined,
    e: url.searchParams.get('e') ?? undefined,
    s: url.searchParams.get('s') ?? undefined,
  };
}

/** Replaces one character of `text`, at `index`, with a different one from the same alphabet. */
function flipChar(text: string, index: number): string {
  const c = text[index];
  const replacement = c === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('signReportPath', () => {
  it('makes a /reports path with the account, the expiry in seconds and a base64url signature', () => {
    const signed = signReportPath(CLAIMS, KEY);
    expect(signed).toMatch(
      /^\/reports\/imp_m1abc2def3\.csv\?a=tenant\.1%3Aacct-A_b&e=1893715200&s=[A-Za-z0-9_-]{43}$/,
    );
  });

  it('signs the same claims the same way, and different keys differently', () => {
    expect(signReportPath(CLAIMS, KEY)).toBe(signReportPath({ ...CLAIMS }, KEY));
    expect(signReportPath(CLAIMS, randomBytes(32))).not.toBe(signReportPath(CLAIMS, KEY));
  });

  it('refuses ids a link cannot carry and keys that are too short', () => {
    expect(() => signReportPath({ ...CLAIMS, importId: '../etc/passwd' }, KEY)).toThrow();
    expect(() => signReportPath({ ...CLAIMS, accountId: 'a b' }, KEY)).toThrow();
    expect(() => signReportPath({ ...CLAIMS, accountId: 'x'.repeat(101) }, KEY)).toThrow();
    expect(() => signReportPath(CLAIMS, Buffer.alloc(0))).toThrow(/at least 32 bytes/);
    expect(() => signReportPath(CLAIMS, randomBytes(31))).toThrow(/at least 32 bytes/);
  });
});

describe('verifyReportRequest', () => {
  const signed = requestOf(signReportPath(CLAIMS, KEY));

  it('accepts the link it signed and gives back its claims, to the second', () => {
    expect(verifyReportRequest(signed, KEY, NOW)).toEqual({
      ok: true,
      claims: { ...CLAIMS, expiresAt: new Date('2030-01-04T00:00:00Z') },
    });
  });

  it('uses the current time by default', () => {
    const future = requestOf(signReportPath({ ...CLAIMS, expiresAt: new Date(Date.now() + 60_000) }, KEY));
    expect(verifyReportRequest(future, KEY).ok).toBe(true);
    const past = requestOf(signReportPath({ ...CLAIMS, expiresAt: new Date(Date.now() - 1000) }, KEY));
    expect(verifyReportRequest(past, KEY)).toEqual({ ok: false, reason: 'expired' });
  });

  it('treats a link as expired from its expiry second on', () => {
    const expiry = new Date('2030-01-04T00:00:00Z');
    expect(verifyReportRequest(signed, KEY, new Date(expiry.getTime() - 1)).ok).toBe(true);
    expect(verifyReportRequest(signed, KEY, expiry)).toEqual({ ok: false, reason: 'expired' });
    expect(verifyReportRequest(signed, KEY, new Date('2031-01-01'))).toEqual({
      ok: false,
      reason: 'expired',
    });
  });

  it.each<[string, Partial<ReportRequestParams>]>([
    ['another import id', { importId: 'imp_m1abc2def4' }],
    ['another account', { a: 'tenant.1:acct-A_c' }],
    ['an account differing only in case', { a: 'TENANT.1:acct-A_b' }],
    ['a later expiry', { e: '1893801600' }],
    ['an earlier expiry', { e: '1893715199' }],
    ['a changed first signature character', { s: flipChar(signed.s ?? '', 0) }],
    ['a changed last signature character', { s: flipChar(signed.s ?? '', 42) }],
    ['another link’s signature', { s: requestOf(signReportPath({ ...CLAIMS, importId: 'imp_x' }, KEY)).s }],
  ])('rejects %s as a bad signature', (_label, change) => {
    expect(verifyReportRequest({ ...signed, ...change }, KEY, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('checks the signature before the expiry, so a forged link is never told it expired', () => {
    const late = new Date('2031-01-01');
    expect(verifyReportRequest({ ...signed, a: 'someone-else' }, KEY, late)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
  });

  it('signs the fix file as its own format: valid as fix.csv, not as csv, and a report link not as fix.csv', () => {
    const path = signReportPath({ ...CLAIMS, format: 'fix.csv' }, KEY);
    const url = new URL(path, 'https://bot.example.com');
    expect(url.pathname).toBe('/reports/imp_m1abc2def3.fix.csv');
    const params: ReportRequestParams = {
      importId: CLAIMS.importId,
      format: 'fix.csv',
      a: url.searchParams.get('a') ?? undefined,
      e: url.searchParams.get('e') ?? undefined,
      s: url.searchParams.get('s') ?? undefined,
    };
    expect(verifyReportRequest(params, KEY, NOW)).toEqual({
      ok: true,
      claims: { ...CLAIMS, format: 'fix.csv', expiresAt: new Date('2030-01-04T00:00:00Z') },
    });
    expect(verifyReportRequest({ ...params, format: 'csv' }, KEY, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyReportRequest({ ...signed, format: 'fix.csv' }, KEY, NOW)).toEqual({
      ok: false,
      reason: 'bad-signature',
    });
    expect(verifyReportRequest({ ...params, format: 'fix.json' }, KEY, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('rejects a link checked with a different key as a bad signature', () => {
    expect(verifyReportRequest(signed, randomBytes(32), NOW)).toEqual({ ok: false, reason: 'bad-signature' });
  });

  it.each<[string, Partial<ReportRequestParams>]>([
    ['another format', { format: 'json' }],
    ['an upper-case format', { format: 'CSV' }],
    ['no format', { format: '' }],
    ['an import id of another shape', { importId: 'IMP_M1ABC2DEF3' }],
    ['an import id with a path', { importId: '../imp_m1abc2def3' }],
    ['no account', { a: undefined }],
    ['an empty account', { a: '' }],
    ['an account with a space', { a: 'acct 1' }],
    ['an account too long', { a: 'a'.repeat(101) }],
    ['no expiry', { e: undefined }],
    ['an expiry that is not a number', { e: 'tomorrow' }],
    ['a negative expiry', { e: '-1' }],
    ['a fractional expiry', { e: '1893715200.5' }],
    ['no signature', { s: undefined }],
    ['a truncated signature', { s: (signed.s ?? '').slice(0, 42) }],
    ['a signature with padding', { s: `${signed.s}=` }],
    ['a standard-base64 signature', { s: `+${(signed.s ?? '').slice(1)}` }],
  ])('rejects %s as malformed', (_label, change) => {
    expect(verifyReportRequest({ ...signed, ...change }, KEY, NOW)).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });
});
