import * as chrono from 'chrono-node/en';

type ParsedComponents = chrono.ParsedResult['start'];

/**
 * Finds the period a message mentions ("yesterday", "last week", "since March 3", "in October", "between 1
 * and 5 May") and turns it into the instants it starts and ends, as an administrator means them: a day, week
 * (Monday to Sunday), month or year gives its first and last millisecond; "since"/"after" gives only a start,
 * "until"/"before" only an end. Dates without a year are taken in the past, since questions are about imports
 * that happened.
 */

/** A period found in a text, and where: `start` to `end` (exclusive) are offsets into that text. */
export interface FoundPeriod {
  from?: Date;
  to?: Date;
  start: number;
  end: number;
}

type Unit = 'hour' | 'day' | 'week' | 'month' | 'year';

/** A calendar position in the administrator's own time (as UTC fields of a shifted Date). */
interface Wall {
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
  hour: number;
}

const MS_PER_MINUTE = 60_000;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
/** "between 1 and 5 May", "from the 3rd to the 9th of October 2025". */
const DAYS_THEN_MONTH =
  // eslint-disable-next-line security/detect-unsafe-regex -- optional words only, no nested ambiguity; input is capped (MAX_MESSAGE_LENGTH)
  /\b(?:between|from)\s+(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s*(?:and|to|until|till|through|thru|-|–)\s*(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b(?:,?\s+(\d{4})\b)?/i;
/** "between May 1 and 5", "from October 3rd to 9th, 2025". */
const MONTH_THEN_DAYS =
  // eslint-disable-next-line security/detect-unsafe-regex -- optional words only, no nested ambiguity; input is capped (MAX_MESSAGE_LENGTH)
  /\b(?:between|from)\s+(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\s+(\d{1,2})(?:st|nd|rd|th)?\s*(?:and|to|until|till|through|thru|-|–)\s*(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(\d{4})\b)?/i;

const COUNT_WORDS: Record<string, number> = {
  a: 1,
  an: 1,
  one: 1,
  two: 2,
  three: 3,
  four: 4,
  five: 5,
  six: 6,
  seven: 7,
  eight: 8,
  nine: 9,
  ten: 10,
  eleven: 11,
  twelve: 12,
  fourteen: 14,
  thirty: 30,
};
/** "past 7 days", "last two weeks", "the past month": a rolling period ending today. */
const ROLLING =
  // eslint-disable-next-line security/detect-unsafe-regex -- optional words only, no nested ambiguity; input is capped (MAX_MESSAGE_LENGTH)
  /\b(?:last|past|previous)\s+(?:(\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|thirty)\s+)?(day|week|month|year)s?\b/i;
/** "last week", "this month", "previous year": a calendar period. */
const CALENDAR = /\b(last|previous|this|current)\s+(week|month|year)\b/i;
/** "in 2025", "since 2024". */
const YEAR = /\b(?:in|during|for|of|since|from|after|before|until|till)\s+((?:19|20)\d{2})\b/i;

/** Words before a date that make it an open start ("since March 3") or an open end ("until May 5"). */
const OPEN_START = /\b(since|after|starting|starting\s+from|starting\s+on|as\s+of|beginning)\s*$/i;
const OPEN_END = /\b(until|till|til|up\s+to|through|thru|before)\s*$/i;
const ONWARDS = /^\s*(?:on|onwards?|and\s+later)\b/i;

/** Short words chrono reads as dates that are usually something else, unless a date word comes before. */
const AMBIGUOUS = /^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|may|march|jan|dec)\.?$/i;
const DATE_PREPOSITION =
  /\b(?:on|in|since|from|until|till|before|after|during|of|for|between|and|to|through|last|this|next|early|late|mid)\s*$/i;

/**
 * The first period mentioned in `text`, relative to `now` in the administrator's time zone, or undefined.
 * Pass a text where emails, file names and import numbers are blanked out (see entities.ts).
 */
export function findPeriod(message: string, now: Date, utcOffsetMinutes = 0): FoundPeriod | undefined {
  // "yesterdays import" is often typed without its apostrophe; the same length keeps every offset valid.
  const text = message.replace(/\b(yesterday|today)s\b/gi, '$1 ');
  const clock = new Clock(now, utcOffsetMinutes);
  const found: FoundPeriod[] = [];
  let rest = text;
  for (const finder of [daysRange, rollingPeriod, calendarPeriod, yearPeriod]) {
    const period = finder(rest, clock);
    if (!period) continue;
    found.push(period);
    rest = blank(rest, period.start, period.end);
  }
  const parsed = chronoPeriod(rest, clock);
  if (parsed) found.push(parsed);
  found.sort((a, b) => a.start - b.start);
  const first = found[0];
  return first && openEnded(text, first);
}

/** "since X" keeps only the start, "until X" only the end (of X), "before X" ends just before X. */
function openEnded(text: string, period: FoundPeriod): FoundPeriod {
  const before = text.slice(Math.max(0, period.start - 20), period.start);
  const after = text.slice(period.end, period.end + 12);
  const opensStart = OPEN_START.exec(before);
  if (opensStart || ONWARDS.test(after)) {
    const since =
      opensStart?.[1]?.toLowerCase() === 'after'
        ? period.to && new Date(period.to.getTime() + 1)
        : period.from;
    return { start: period.start, end: period.end, ...(since ? { from: since } : {}) };
  }
  const opensEnd = OPEN_END.exec(before);
  if (opensEnd) {
    const until =
      opensEnd[1]?.toLowerCase() === 'before'
        ? period.from && new Date(period.from.getTime() - 1)
        : period.to;
    return { start: period.start, end: period.end, ...(until ? { to: until } : {}) };
  }
  return period;
}

function blank(text: string, start: number, end: number): string {
  return text.slice(0, start) + ' '.repeat(end - start) + text.slice(end);
}

/** Calendar arithmetic in the administrator's time zone. */
class Clock {
  /** Now, as the administrator's wall clock (read with the UTC getters). */
  private readonly wallNow: Date;

  constructor(
    readonly now: Date,
    readonly offsetMinutes: number,
  ) {
    this.wallNow = new Date(now.getTime() + offsetMinutes * MS_PER_MINUTE);
  }

  get today(): Wall {
    const w = this.wallNow;
    return {
      year: w.getUTCFullYear(),
      month: w.getUTCMonth() + 1,
      day: w.getUTCDate(),
      hour: w.getUTCHours(),
    };
  }

  /** The instant at which this wall-clock time happens (fields may overflow: day 0, month 13…). */
  instant(year: number, month: number, day = 1, hour = 0): Date {
    return new Date(Date.UTC(year, month - 1, day, hour) - this.offsetMinutes * MS_PER_MINUTE);
  }

  /** The first and last millisecond of the hour, day, week, month or year containing `at`. */
  range(unit: Unit, at: Wall): { from: Date; to: Date } {
    const { year, month, day, hour } = at;
    let from: Date;
    let next: Date;
    switch (unit) {
      case 'hour':
        from = this.instant(year, month, day, hour);
        next = this.instant(year, month, day, hour + 1);
        break;
      case 'day':
        from = this.instant(year, month, day);
        next = this.instant(year, month, day + 1);
        break;
      case 'week': {
        // Weeks start on Monday.
        const weekday = (new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 6) % 7;
        from = this.instant(year, month, day - weekday);
        next = this.instant(year, month, day - weekday + 7);
        break;
      }
      case 'month':
        from = this.instant(year, month);
        next = this.instant(year, month + 1);
        break;
      case 'year':
        from = this.instant(year, 1);
        next = this.instant(year + 1, 1);
        break;
    }
    return { from, to: new Date(next.getTime() - 1) };
  }

  /** `at` moved by a number of units (months and years keep the day where the month has it). */
  shift(at: Wall, unit: Exclude<Unit, 'hour'>, by: number): Wall {
    const moved = new Date(Date.UTC(at.year, at.month - 1, at.day));
    if (unit === 'day') moved.setUTCDate(moved.getUTCDate() + by);
    else if (unit === 'week') moved.setUTCDate(moved.getUTCDate() + 7 * by);
    else if (unit === 'month') moved.setUTCMonth(moved.getUTCMonth() + by);
    else moved.setUTCFullYear(moved.getUTCFullYear() + by);
    return { year: moved.getUTCFullYear(), month: moved.getUTCMonth() + 1, day: moved.getUTCDate(), hour: 0 };
  }
}

function monthNumber(word: string): number {
  return MONTHS.indexOf(word.slice(0, 3).toLowerCase() as (typeof MONTHS)[number]) + 1;
}

/** The year to read a yearless day in: this year, or last year when that day is still to come. */
function pastYear(clock: Clock, month: number, day: number): number {
  const { year } = clock.today;
  return clock.instant(year, month, day) > clock.now ? year - 1 : year;
}

function daysRange(text: string, clock: Clock): FoundPeriod | undefined {
  const a = DAYS_THEN_MONTH.exec(text);
  const b = a ? undefined : MONTH_THEN_DAYS.exec(text);
  const match = a ?? b;
  if (!match) return undefined;
  const [first, second, month] = a ? [a[1], a[2], a[3]] : [b?.[2], b?.[3], b?.[1]];
  const m = monthNumber(month ?? '');
  const d1 = Number(first);
  const d2 = Number(second);
  if (m < 1 || d1 < 1 || d2 < d1 || d2 > 31) return undefined;
  const year = match[4] ? Number(match[4]) : pastYear(clock, m, d1);
  return {
    from: clock.range('day', { year, month: m, day: d1, hour: 0 }).from,
    to: clock.range('day', { year, month: m, day: d2, hour: 0 }).to,
    start: match.index,
    end: match.index + match[0].length,
  };
}

function rollingPeriod(text: string, clock: Clock): FoundPeriod | undefined {
  const match = ROLLING.exec(text);
  if (!match) return undefined;
  const [, count, unitWord] = match;
  const unit = (unitWord ?? 'day').toLowerCase() as 'day' | 'week' | 'month' | 'year';
  // "last week" without a number is the calendar week (see CALENDAR); "past week" is the last 7 days.
  if (count === undefined && !/^past/i.test(match[0])) return undefined;
  const n =
    count === undefined ? 1 : /^\d/.test(count) ? Number(count) : (COUNT_WORDS[count.toLowerCase()] ?? 1);
  if (n < 1) return undefined;
  const today = clock.today;
  const first = clock.shift(clock.shift(today, unit, -n), 'day', 1);
  return {
    from: clock.range('day', first).from,
    to: clock.range('day', today).to,
    start: match.index,
    end: match.index + match[0].length,
  };
}

function calendarPeriod(text: string, clock: Clock): FoundPeriod | undefined {
  const match = CALENDAR.exec(text);
  if (!match) return undefined;
  const unit = (match[2] ?? 'week').toLowerCase() as 'week' | 'month' | 'year';
  const back = /^(last|previous)$/i.test(match[1] ?? '') ? -1 : 0;
  const { from, to } = clock.range(unit, clock.shift(clock.today, unit, back));
  return { from, to, start: match.index, end: match.index + match[0].length };
}

function yearPeriod(text: string, clock: Clock): FoundPeriod | undefined {
  const match = YEAR.exec(text);
  if (!match?.[1]) return undefined;
  const { from, to } = clock.range('year', { year: Number(match[1]), month: 1, day: 1, hour: 0 });
  const start = match.index + match[0].length - match[1].length;
  return { from, to, start, end: start + match[1].length };
}

/** The most precise unit the words gave: "May 3" a day, "October" a month, "2 hours ago" an hour. */
function unitOf(c: ParsedComponents, text: string): Unit | undefined {
  const dated = c.isCertain('day') || c.isCertain('weekday') || c.isCertain('month') || c.isCertain('year');
  if (c.isCertain('hour')) {
    // A bare "at 7" is more often a count than a time; a time needs am/pm or minutes, or a day with it.
    return dated || /\d\s*(?:am|pm)\b|\d:\d\d/i.test(text) ? 'hour' : undefined;
  }
  if (c.isCertain('day') || c.isCertain('weekday')) return 'day';
  if (c.isCertain('month')) return 'month';
  if (c.isCertain('year')) return 'year';
  // "this morning", "tonight": chrono knows only the part of the day.
  return 'day';
}

function wallOf(c: ParsedComponents): Wall {
  return {
    year: c.get('year') ?? 1970,
    month: c.get('month') ?? 1,
    day: c.get('day') ?? 1,
    hour: c.get('hour') ?? 0,
  };
}

/** A date chrono reads, unless it is a false friend ("now", "sat", "may" without a date word before it). */
function chronoPeriod(text: string, clock: Clock): FoundPeriod | undefined {
  const results = chrono.parse(
    text,
    { instant: clock.now, timezone: clock.offsetMinutes },
    { forwardDate: false },
  );
  for (const result of results) {
    const words = result.text.trim();
    if (/^(?:right|just)?\s*now$/i.test(words)) continue;
    if (AMBIGUOUS.test(words) && !DATE_PREPOSITION.test(text.slice(0, result.index))) continue;
    const unit = unitOf(result.start, words);
    if (!unit) continue;
    let start = wallOf(result.start);
    let end = result.end ? wallOf(result.end) : start;
    const endUnit = result.end ? (unitOf(result.end, words) ?? unit) : unit;
    // Questions are about the past: a yearless date still to come is last year's, a bare weekday last week's.
    const ahead = clock.range(unit, start).from > clock.now;
    if (ahead && !result.start.isCertain('year') && result.start.isCertain('month')) {
      start = { ...start, year: start.year - 1 };
      end = { ...end, year: end.year - 1 };
    } else if (ahead && result.start.isCertain('weekday') && !result.start.isCertain('day')) {
      start = clock.shift(start, 'week', -1);
      end = clock.shift(end, 'week', -1);
    }
    return {
      from: clock.range(unit, start).from,
      to: clock.range(endUnit, end).to,
      start: result.index,
      end: result.index + result.text.length,
    };
  }
  return undefined;
}
