import type { Activity } from 'botbuilder';

/**
 * The administrator's offset from UTC in minutes, so that "yesterday" and "today" mean their days. Teams and
 * Web Chat send the local time with each message (`localTimestamp`, with its offset) and often the zone name
 * (`localTimezone`); UTC when neither can be read.
 */
export function utcOffsetOf(activity: Partial<Activity>, now = new Date()): number {
  const stamp: unknown =
    (activity as { rawLocalTimestamp?: unknown }).rawLocalTimestamp ?? activity.localTimestamp;
  if (typeof stamp === 'string') {
    const match = /([+-])(\d{2}):?(\d{2})$/.exec(stamp.trim());
    if (match) {
      const minutes = Number(match[2]) * 60 + Number(match[3]);
      if (minutes <= 14 * 60) return match[1] === '-' ? -minutes : minutes;
    }
    if (/Z$/i.test(stamp.trim())) return 0;
  }
  const zone = activity.localTimezone;
  if (typeof zone === 'string' && zone.length <= 64) {
    try {
      const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
        .formatToParts(now)
        .find((p) => p.type === 'timeZoneName')?.value;
      // eslint-disable-next-line security/detect-unsafe-regex -- optional groups only, on a short zone offset Intl produced
      const match = /GMT([+-])(\d{1,2}):?(\d{2})?/.exec(parts ?? '');
      if (match) {
        const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
        return match[1] === '-' ? -minutes : minutes;
      }
      if (parts === 'GMT') return 0;
    } catch {
      // An unknown zone name: fall back to UTC rather than fail the question.
    }
  }
  return 0;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 24 * 60 * 60 * 1000;

/** A moment as the administrator's wall clock shows it (its UTC fields are their local fields). */
function local(date: Date, utcOffsetMinutes: number): Date {
  return new Date(date.getTime() + utcOffsetMinutes * 60_000);
}

/** "today", "yesterday", "Nov 3" or "Nov 3, 2025", in the administrator's time zone. */
export function describeDay(date: Date, now: Date, utcOffsetMinutes: number): string {
  const day = local(date, utcOffsetMinutes);
  const today = local(now, utcOffsetMinutes);
  const dayIndex = (d: Date) => Math.floor(d.getTime() / DAY_MS);
  const diff = dayIndex(today) - dayIndex(day);
  if (diff === 0) return 'today';
  if (diff === 1) return 'yesterday';
  const month = `${MONTHS[day.getUTCMonth()] ?? ''} ${day.getUTCDate()}`;
  return day.getUTCFullYear() === today.getUTCFullYear() ? month : `${month}, ${day.getUTCFullYear()}`;
}

/** "today 14:05", "Nov 3 09:30", in the administrator's time zone. */
export function describeMoment(date: Date, now: Date, utcOffsetMinutes: number): string {
  const t = local(date, utcOffsetMinutes);
  const hh = String(t.getUTCHours()).padStart(2, '0');
  const mm = String(t.getUTCMinutes()).padStart(2, '0');
  return `${describeDay(date, now, utcOffsetMinutes)} ${hh}:${mm}`;
}

/** "since Nov 3", "until Nov 30", "from Nov 3 to Nov 9", or "" when the period is open on both ends. */
export function describePeriod(
  from: Date | undefined,
  to: Date | undefined,
  now: Date,
  utcOffsetMinutes: number,
): string {
  const day = (d: Date) => describeDay(d, now, utcOffsetMinutes);
  if (from && to) {
    const a = day(from);
    const b = day(to);
    return a === b ? (a === 'today' || a === 'yesterday' ? a : `on ${a}`) : `from ${a} to ${b}`;
  }
  if (from) return `since ${day(from)}`;
  if (to) return `until ${day(to)}`;
  return '';
}
