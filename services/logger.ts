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

/** Replaces credentials in a connection string, e.g. `mongodb://user:pw@host` → `mongodb://***@host`. */
export function redactUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

function redact(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) {
      out[key] = { name: value.name, message: value.message };
    } else if (typeof value === 'string' && SENSITIVE_KEY.test(key)) {
      out[key] = /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? redactUri(value) : '***';
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** Creates a logger that writes at or above `level` to `sink` (stderr by default). */
export function createLogger(
  level: LogLevel = 'info',
  sink: (line: string) => void = (line) => process.stderr.write(line + '\n'),
): Logger {
  const write = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LEVEL_ORDER[lvl] < LEVEL_ORDER[level]) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, message, ...redact(fields ?? {}) }));
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
