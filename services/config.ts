import path from 'node:path';
import { z } from 'zod';
import { AppError } from './errors';
import { NLU_ENGINES, type NluEngine } from './understanding/nluEngines';

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses sizes such as `20MB`, `512 KB` or `1048576`; NaN when the text is not one. */
function parseByteSize(text: string): number {
  const match = /^([\d.]+) ?([a-z]*)$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  const amount = Number(match?.[1]);
  return match && unit !== undefined && Number.isFinite(amount) ? Math.floor(amount * unit) : NaN;
}

const byteSize = z
  .string()
  .transform(parseByteSize)
  .refine((n) => Number.isFinite(n) && n > 0, 'must be a positive size such as 20MB, 512KB or 1048576');

const nluEngine = z
  .string()
  .trim()
  .toLowerCase()
  .transform((v) => v || 'local')
  .pipe(z.enum(NLU_ENGINES, { error: `must be one of: ${NLU_ENGINES.join(', ')}` }))
  .default('local');

const configSchema = z.object({
  MONGODB_URI: optionalString.refine(
    (v) => v === undefined || /^mongodb(\+srv)?:\/\//.test(v),
    'must start with mongodb:// or mongodb+srv://',
  ),
  MONGODB_DB: z
    .string()
    .trim()
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'must be letters, digits and underscores, starting with a letter')
    .default('enrollment'),
  DATA_DIR: z.string().trim().min(1, 'must not be empty').default('./data'),
  CACHE_DIR: z.string().trim().min(1, 'must not be empty').default('./.cache'),
  EMBEDDED_DB: z.enum(['auto', 'mongodb', 'ferretdb']).default('auto'),
  SMTP_URL: optionalString.refine(
    (v) => v === undefined || /^smtps?:\/\//.test(v),
    'must start with smtp:// or smtps://',
  ),
  MAIL_FROM: z
    .string()
    .trim()
    .regex(/^[^\r\n]*<?[^\s@<>]+@[^\s@<>]+>?$/, 'must be an address such as "Acme IT <it@acme.com>"')
    .default('Enrollment Assistant <no-reply@enrollment.local>'),
  INVITE_URL_BASE: z
    .string()
    .trim()
    .url('must be an absolute URL such as https://app.example.com/invite')
    .refine((v) => /^https?:\/\//.test(v), 'must be an http or https URL')
    .default('http://localhost:3978/invite'),
  ACCOUNT_NAME: z.string().trim().min(1).default('your account'),
  INVITE_TTL_DAYS: optionalString
    .transform((v) => (v === undefined ? 14 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 365, 'must be a whole number of days from 1 to 365'),
  INVITE_REMINDER_DAYS: optionalString
    .transform((v) => (v === undefined ? 0 : Number(v)))
    .refine(
      (n) => Number.isInteger(n) && n >= 0 && n <= 365,
      'must be a whole number of days from 1 to 365, or 0 for no reminders',
    ),
  MAX_FILE_SIZE: byteSize.default(20 * 1024 * 1024),
  PORT: optionalString
    .transform((v) => (v === undefined ? 3978 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 0 && n <= 65535, 'must be a whole number from 0 to 65535'),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  LOCAL_CHANNEL: z.enum(['auto', 'on', 'off']).default('auto'),
  PUBLIC_URL: optionalString
    .refine(
      (v) => v === undefined || URL.canParse(v),
      'must be an absolute URL such as https://bot.example.com',
    )
    .refine((v) => v === undefined || /^https?:\/\//i.test(v), 'must be an http or https URL')
    .refine((v) => v === undefined || !/[?#]/.test(v), 'must not have a query or fragment')
    // Links are built as publicUrl + '/reports/…', so a trailing slash would double up.
    .transform((v) => v?.replace(/\/+$/, '')),
  REPORT_LINK_SECRET: optionalString.refine(
    (v) => v === undefined || v.length >= 32,
    'must be at least 32 characters',
  ),
  REPORT_LINK_TTL: optionalString
    .transform((v) => (v === undefined ? 72 : Number(v)))
    .refine(
      (n) => Number.isInteger(n) && n >= 1 && n <= 720,
      'must be a whole number of hours from 1 to 720',
    ),
  UNDO_WINDOW_DAYS: optionalString
    .transform((v) => (v === undefined ? 14 : Number(v)))
    .refine((n) => Number.isInteger(n) && n >= 1 && n <= 365, 'must be a whole number of days from 1 to 365'),
  NLU_ENGINE: nluEngine,
});

/** The validated settings the whole product runs with. */
export interface Config {
  mongodbUri: string | undefined;
  mongodbDb: string;
  dataDir: string;
  cacheDir: string;
  embeddedDb: 'auto' | 'mongodb' | 'ferretdb';
  smtpUrl: string | undefined;
  mailFrom: string;
  inviteUrlBase: string;
  accountName: string;
  /** How many days an invitation link works after the message carrying it was sent. */
  inviteTtlDays: number;
  /** Days after sending that an unaccepted invitation is sent once more as a reminder; 0 sends none. */
  inviteReminderDays: number;
  maxFileBytes: number;
  port: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * The built-in Web Chat page and Direct Line endpoint for local use and demos: `auto` serves them when the
   * bot runs without a Microsoft app id.
   */
  localChannel: 'auto' | 'on' | 'off';
  /** The address administrators' browsers reach the bot at, without a trailing slash; report links use it. */
  publicUrl: string;
  /** The report-link signing key when configured; otherwise the secret shared through the database is used. */
  reportLinkSecret: string | undefined;
  /** How long a report link works, in hours. */
  reportLinkTtlHours: number;
  /** How many days after an import it may still be undone. */
  undoWindowDays: number;
  /** Which engine understands administrators' questions ({@link NluEngine}). */
  nluEngine: NluEngine;
}

function configError(error: z.ZodError): AppError {
  const lines = error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  return new AppError('config-invalid', `Invalid configuration:\n  ${lines.join('\n  ')}`, {
    settings: error.issues.map((i) => i.path.join('.')),
  });
}

/**
 * Reads only `NLU_ENGINE`, for what needs nothing else (understanding a message offline): a bad value
 * elsewhere in the configuration does not stop it.
 */
export function loadNluEngine(env: NodeJS.ProcessEnv = process.env): NluEngine {
  const parsed = z.object({ NLU_ENGINE: nluEngine }).safeParse(env);
  if (!parsed.success) throw configError(parsed.error);
  return parsed.data.NLU_ENGINE;
}

/**
 * Reads the settings from environment variables. A bad or missing value throws an {@link AppError}
 * `config-invalid` whose message names every offending setting and what is wrong with it.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) throw configError(parsed.error);
  const c = parsed.data;
  return {
    mongodbUri: c.MONGODB_URI,
    mongodbDb: c.MONGODB_DB,
    dataDir: path.resolve(c.DATA_DIR),
    cacheDir: path.resolve(c.CACHE_DIR),
    embeddedDb: c.EMBEDDED_DB,
    smtpUrl: c.SMTP_URL,
    mailFrom: c.MAIL_FROM,
    inviteUrlBase: c.INVITE_URL_BASE,
    accountName: c.ACCOUNT_NAME,
    inviteTtlDays: c.INVITE_TTL_DAYS,
    inviteReminderDays: c.INVITE_REMINDER_DAYS,
    maxFileBytes: c.MAX_FILE_SIZE,
    port: c.PORT,
    logLevel: c.LOG_LEVEL,
    localChannel: c.LOCAL_CHANNEL,
    publicUrl: c.PUBLIC_URL ?? `http://localhost:${c.PORT}`,
    reportLinkSecret: c.REPORT_LINK_SECRET,
    reportLinkTtlHours: c.REPORT_LINK_TTL,
    undoWindowDays: c.UNDO_WINDOW_DAYS,
    nluEngine: c.NLU_ENGINE,
  };
}
