import pino from 'pino';

/**
 * Structured JSON logs (pino) on stderr, so stdout stays clean for CLI output. Values under keys that usually
 * hold secrets or personal data are masked, and so are email addresses and phone numbers anywhere in a
 * message or a value, before anything is written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const SENSITIVE_KEY = /pass(word)?|secret|token|authorization|cookie|email|phone|uri|url/i;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `bindings` (a correlation id, a job id) to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

const EMAIL_IN_TEXT = /[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[a-z]{2,}/gi;
/**
 * Phone numbers as people write them: 9 to 12 digits, optionally after a plus, in groups. Dates
 * (2026-11-25), times and long ids do not fit the groups, and a digit right before or after stops a match.
 */
const PHONE_IN_TEXT = /(?<![\w-])\(?\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?![\w-])/g;
/** The same with a country code in front (+44 20 7946 0958); a separate pattern keeps both linear. */
const INTERNATIONAL_PHONE_IN_TEXT =
  /(?<![\w-])\+\d{1,3}[\s.-]?\(?\d{2,4}\)?[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?![\w-])/g;

/** Masks email addresses and phone numbers in free text (messages, error texts, values). */
export function maskPersonalData(text: string): string {
  return text
    .replace(EMAIL_IN_TEXT, '[email]')
    .replace(INTERNATIONAL_PHONE_IN_TEXT, '[phone]')
    .replace(PHONE_IN_TEXT, '[phone]');
}

/** Replaces credentials in a URI, e.g. `mongodb://user:p@ss@host/db` → `mongodb://***@host/db`. */
export function redactUri(uri: string): string {
  const start = uri.indexOf('//');
  if (start === -1) return uri;
  const authorityEnd = uri.slice(start + 2).search(/[/?#]/);
  const authority =
    authorityEnd === -1 ? uri.slice(start + 2) : uri.slice(start + 2, start + 2 + authorityEnd);
  const at = authority.lastIndexOf('@');
  return at === -1 ? uri : `${uri.slice(0, start + 2)}***${uri.slice(start + 2 + at)}`;
}

const URI_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

function redactValue(key: string, value: unknown, depth: number): unknown {
  if (value instanceof Error) return { name: value.name, message: maskPersonalData(value.message) };
  if (SENSITIVE_KEY.test(key)) {
    return typeof value === 'string' && URI_LIKE.test(value) ? redactUri(value) : '***';
  }
  if (typeof value === 'string') return maskPersonalData(value);
  if (depth > 4) return '[…]';
  if (Array.isArray(value)) return value.map((item) => redactValue(key, item, depth + 1));
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(k, v, depth + 1)]));
  }
  return value;
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([key, value]) => [key, redactValue(key, value, 0)]));
}

/** Creates a logger that writes at or above `level` to `sink` (stderr by default), one JSON line per call. */
export function createLogger(level: LogLevel = 'info', sink?: (line: string) => void): Logger {
  const destination = sink
    ? { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) }
    : pino.destination({ fd: 2, sync: true });
  const base = pino(
    {
      level,
      base: null,
      messageKey: 'message',
      timestamp: () => `,"time":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
      // Values arrive already reduced by redact(); pino's own error serializer would add stacks back.
      serializers: { err: (value: unknown) => value },
    },
    destination,
  );
  return wrap(base);
}

function wrap(p: pino.Logger): Logger {
  const write = (lvl: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    // Reserved keys are dropped from fields, so a field can never disguise a line's time, level or message.
    const { time: _t, level: _l, message: _m, ...rest } = redact(fields ?? {});
    p[lvl](rest, maskPersonalData(message));
  };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (bindings) => {
      const { time: _t, level: _l, message: _m, ...rest } = redact(bindings);
      return wrap(p.child(rest));
    },
  };
}

/** A logger that drops everything; for tests and quiet CLI runs. */
export const silentLogger: Logger = createLogger('error', () => undefined);
