import { findPeriod } from './dates';
import type { Entities } from './recognizer';

/**
 * Exact entities in an administrator's message: an email address, an import number or id, a user file's
 * name and a period. Each is found once, in that order, and blanked out before the next is looked for, so an
 * email's domain or a file name ("report-2025-05-01.csv") is never read as a date or an import number.
 */

export type EntityKind = 'email' | 'importRef' | 'fileName' | 'period';

/** Where an entity was found: `start` to `end` (exclusive) are offsets into the message. */
export interface EntitySpan {
  kind: EntityKind;
  start: number;
  end: number;
}

export interface Extraction {
  entities: Entities;
  /** In the order they appear in the message. */
  spans: EntitySpan[];
}

export interface ExtractOptions {
  /** The reference for relative dates; default: now. */
  now?: Date;
  /** The administrator's offset from UTC in minutes; default 0. */
  utcOffsetMinutes?: number;
}

/** Only this much of a message is read: questions are short, and it bounds the cost of every pattern. */
export const MAX_MESSAGE_LENGTH = 1000;

const EMAIL = /[a-z0-9._%+'-]+@[a-z0-9.-]+\.[a-z]{2,}/i;

/** A file name in straight or curly quotes or backticks; it may contain spaces. */
const QUOTED_FILE = /(?<![\w])["'“”‘’`]([^"'“”‘’`\n]{1,200}?\.(?:csv|txt|tsv|xlsx|xls))["'“”‘’`](?![\w])/i;
/** A file name written as one word: "users.csv", "new_hires-2025.xlsx". */
const BARE_FILE = /(?<![\w.@/\\-])[\w][\w.()+-]{0,200}\.(?:csv|txt|tsv|xlsx|xls)(?![\w])/i;

/** An import id as the product makes them (`imp_` then letters and digits). */
const IMPORT_ID = /\bimp_[a-z0-9]{4,40}\b/i;
/**
 * "import 12", "import number 12", "import no. 12", "import #12", also with common typos of "import". A number
 * followed by what it counts ("import 50 users") is not an import number.
 */
const IMPORT_NUMBER =
  // eslint-disable-next-line security/detect-unsafe-regex -- optional words only, no nested ambiguity; input is capped (MAX_MESSAGE_LENGTH)
  /\b(?:import|imprt|improt|imoprt|inport|imort|upload)s?\s*(?:(?:number|num|nr|no)\.?\s*)?#?\s*(\d{1,9})\b(?!\s*(?:users?|people|persons?|rows?|lines?|records?|employees?|accounts?|members?|names?|staff|new|more|of|%|[.,]\d))/i;
/** "#12". */
const HASH_NUMBER = /#\s?(\d{1,9})\b/;

/** Finds the entities of one message. Never throws; what is not there is left out. */
export function extractEntities(message: string, options: ExtractOptions = {}): Extraction {
  const text = message.slice(0, MAX_MESSAGE_LENGTH);
  const now = options.now ?? new Date();
  const spans: EntitySpan[] = [];
  const entities: Entities = {};
  let rest = text;

  const take = (kind: EntityKind, start: number, end: number): void => {
    spans.push({ kind, start, end });
    rest = rest.slice(0, start) + ' '.repeat(end - start) + rest.slice(end);
  };

  const email = first(EMAIL, rest);
  if (email) {
    const address = email[0].replace(/^[.'-]+|[.-]+$/g, '');
    const start = email.index + email[0].indexOf(address);
    entities.email = address.toLowerCase();
    take('email', start, start + address.length);
  }

  const quoted = first(QUOTED_FILE, rest);
  const bare = quoted ? undefined : first(BARE_FILE, rest);
  if (quoted?.[1]?.trim()) {
    entities.fileName = quoted[1].trim();
    take('fileName', quoted.index, quoted.index + quoted[0].length);
  } else if (bare) {
    entities.fileName = bare[0];
    take('fileName', bare.index, bare.index + bare[0].length);
  }

  const id = first(IMPORT_ID, rest);
  const numbered = id ? undefined : earliest(first(IMPORT_NUMBER, rest), first(HASH_NUMBER, rest));
  if (id) {
    entities.importRef = id[0].toLowerCase();
    take('importRef', id.index, id.index + id[0].length);
  } else if (numbered?.[1]) {
    entities.importRef = String(Number(numbered[1]));
    take('importRef', numbered.index, numbered.index + numbered[0].length);
  }

  const period = findPeriod(rest, now, options.utcOffsetMinutes ?? 0);
  if (period && (period.from || period.to)) {
    if (period.from) entities.from = period.from.toISOString();
    if (period.to) entities.to = period.to.toISOString();
    spans.push({ kind: 'period', start: period.start, end: period.end });
  }

  spans.sort((a, b) => a.start - b.start);
  return { entities, spans };
}

function first(pattern: RegExp, text: string): RegExpExecArray | undefined {
  return pattern.exec(text) ?? undefined;
}

function earliest(
  a: RegExpExecArray | undefined,
  b: RegExpExecArray | undefined,
): RegExpExecArray | undefined {
  if (!a) return b;
  if (!b) return a;
  return a.index <= b.index ? a : b;
}
