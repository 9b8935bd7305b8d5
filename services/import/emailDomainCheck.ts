/**
 * Checks of an email address's domain beyond syntax: a likely typo of a common mail domain ("gmial.com",
 * "gmail.con"), and, when the account limits them, a domain outside the account's allowed domains. Neither
 * makes a row invalid: the plan flags such rows and the administrator decides whether they are imported.
 */

/** Why an address is flagged. */
export type EmailFlag =
  | { kind: 'likely-typo'; suggestion: string }
  /** `suggestion` names the allowed domain the address probably meant, when it is a near miss of one. */
  | { kind: 'outside-allowed'; allowed: string[]; suggestion?: string };

/**
 * Consumer mail domains, most used first (a typo close to several is suggested the first). Being listed also
 * means "valid as written": gmx.com and gmx.de, mail.com and email.com are all real.
 */
export const COMMON_MAIL_DOMAINS: readonly string[] = [
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'yahoo.com',
  'ymail.com',
  'rocketmail.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aol.com',
  'protonmail.com',
  'protonmail.ch',
  'proton.me',
  'pm.me',
  'gmx.com',
  'gmx.net',
  'gmx.de',
  'web.de',
  't-online.de',
  'mail.com',
  'email.com',
  'zoho.com',
  'yandex.com',
  'yandex.ru',
  'mail.ru',
  'comcast.net',
  'verizon.net',
  'sbcglobal.net',
  'att.net',
  'hotmail.co.uk',
  'yahoo.co.uk',
  'live.co.uk',
  'outlook.de',
  'hotmail.de',
  'yahoo.de',
  'hotmail.fr',
  'yahoo.fr',
  'orange.fr',
  'laposte.net',
  'libero.it',
];

/** Real domains one edit away from a common one, which must not be called typos of it. */
const NOT_TYPOS: ReadonlySet<string> = new Set(['cloud.com', 'online.de']);

/**
 * Restricted Damerau-Levenshtein (optimal string alignment) distance: insertions, deletions, substitutions
 * and swaps of two neighbouring characters each cost 1. Stops early once the distance exceeds `max`.
 */
export function editDistance(a: string, b: string, max = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (beforePrevious[j - 2] ?? 0) + 1);
      current.push(d);
      rowMin = Math.min(rowMin, d);
    }
    if (rowMin > max) return max + 1;
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** First label and the rest: "hotmail.co.uk" → ["hotmail", "co.uk"]. */
function split(domain: string): [name: string, rest: string] {
  const dot = domain.indexOf('.');
  return dot < 0 ? [domain, ''] : [domain.slice(0, dot), domain.slice(dot + 1)];
}

/**
 * Edits allowed in the first label: none below 5 characters (aol/aon, msn/ms, me/ge, gmx/gm are all real
 * domains), 1 up to 7, 2 from 8 ("googlemail").
 */
function nameEdits(name: string): number {
  return name.length < 5 ? 0 : name.length < 8 ? 1 : 2;
}

/**
 * The domain among `candidates` that `domain` is most likely a slip of, if any: the same first label within
 * {@link nameEdits} edits, and the rest equal or one edit away (".con", ".cmo", ".co", ".comm" for ".com").
 * Two two-letter country endings are never a slip of each other (hotmail.be and hotmail.de are both real).
 */
function nearestDomain(domain: string, candidates: readonly string[]): string | undefined {
  const [name, rest] = split(domain);
  let best: { domain: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === domain) return undefined;
    const [knownName, knownRest] = split(candidate);
    const restDistance = rest === knownRest ? 0 : editDistance(rest, knownRest, 1);
    if (restDistance > 1) continue;
    if (restDistance === 1 && rest.length === 2 && knownRest.length === 2) continue;
    const nameDistance = name === knownName ? 0 : editDistance(name, knownName, nameEdits(knownName));
    if (nameDistance > nameEdits(knownName)) continue;
    const distance = nameDistance + restDistance;
    if (distance > 0 && (!best || distance < best.distance)) best = { domain: candidate, distance };
  }
  return best?.domain;
}

/** Suggestions by domain: a file's rows share few domains, so each is compared with the list once. */
const typoCache = new Map<string, string | null>();
const TYPO_CACHE_SIZE = 10_000;

function likelyTypoOf(domain: string): string | undefined {
  let suggestion = typoCache.get(domain);
  if (suggestion === undefined) {
    suggestion = NOT_TYPOS.has(domain) ? null : (nearestDomain(domain, COMMON_MAIL_DOMAINS) ?? null);
    if (typoCache.size >= TYPO_CACHE_SIZE) typoCache.clear();
    typoCache.set(domain, suggestion);
  }
  return suggestion ?? undefined;
}

/** The domain of an address, lower-case; '' when it has none. */
export function emailDomain(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0
    ? ''
    : email
        .slice(at + 1)
        .trim()
        .toLowerCase();
}

/** True when `domain` is one of `allowed` or a subdomain of one (both lower-case). */
export function isWithinDomains(domain: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => domain === a || domain.endsWith(`.${a}`));
}

/**
 * Flags an address whose domain is probably mistyped or, when `allowedDomains` is given and not empty, lies
 * outside them (an allowed domain covers its subdomains). Case-insensitive. Undefined for an address that
 * looks fine; an address inside the allowed domains is never flagged.
 */
export function checkEmailDomain(email: string, allowedDomains?: readonly string[]): EmailFlag | undefined {
  const domain = emailDomain(email);
  if (domain === '') return undefined;
  const allowed = (allowedDomains ?? []).map((d) => d.trim().toLowerCase()).filter((d) => d !== '');
  if (allowed.length > 0) {
    if (isWithinDomains(domain, allowed)) return undefined;
    const suggestion = nearestDomain(domain, allowed);
    return { kind: 'outside-allowed', allowed, ...(suggestion ? { suggestion } : {}) };
  }
  const suggestion = likelyTypoOf(domain);
  return suggestion ? { kind: 'likely-typo', suggestion } : undefined;
}

/** A flag as plans list it (one object per row). */
export interface EmailFlagView {
  kind: EmailFlag['kind'];
  suggestion?: string;
  allowed?: readonly string[];
}

/** What a flag means, in a sentence fragment: "gmial.com looks like a typo of gmail.com". */
export function describeEmailFlag(email: string, flag: EmailFlagView): string {
  const domain = emailDomain(email);
  if (flag.kind === 'likely-typo') return `${domain} looks like a typo of ${flag.suggestion ?? '?'}`;
  const allowed = (flag.allowed ?? []).join(', ');
  return (
    `${domain} is outside the account's allowed domains (${allowed})` +
    (flag.suggestion ? ` and looks like a typo of ${flag.suggestion}` : '')
  );
}
