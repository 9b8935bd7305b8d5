/**
 * A small structured logger writing JSON lines to stderr, so stdout stays clean for CLI output.
 * Values under keys that usually hold secrets or personal data are masked before they are written.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SENSITIVE_KEY = /pass(word)?|secret|token|authorization|cookie|email|phone|uri|url/i;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
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
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (SENSITIVE_KEY.test(key)) {
    return typeof value === 'string' && URI_LIKE.test(value) ? redactUri(value) : '***';
  }
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

/** Creates a logger that writes at or above `level` to `sink` (stderr by default). */
export function createLogger(
  level: LogLevel = 'info',
  sink: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const write = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVEL_ORDER[lvl] < LEVEL_ORDER[level]) return;
    // Reserved keys last, so a field can never disguise a line's level or message.
    const { time: _t, level: _l, message: _m, ...rest } = redact(fields ?? {});
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, message, ...rest }));
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
  };
}

/** A logger that drops everything; for tests and quiet CLI runs. */
export const silentLogger: Logger = createLogger('error', () => undefined);
