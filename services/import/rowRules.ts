import { PROFILE_FIELDS, type Profile } from '../users/userTypes';
import type { ColumnMapping, ImportField } from './columns';

/** The four values the User Status column may hold. */
export const REQUESTED_ACTIONS = ['new', 'update', 'delete', 'activate'] as const;
export type RequestedAction = (typeof REQUESTED_ACTIONS)[number];

/** Why a row is ignored. Stable codes: the CLI, the bot and reports rely on them. */
export type ProblemCode =
  | 'invalid-email'
  | 'missing-field'
  | 'unknown-status'
  | 'duplicate-email'
  | 'not-found'
  /** The email was flagged (likely typo, outside the allowed domains) and the admin chose to skip those. */
  | 'flagged-email';

export interface RowProblem {
  row: number;
  email: string;
  code: ProblemCode;
  message: string;
  /** The field a `missing-field` problem is about. */
  field?: ImportField;
  /** The User Status the row asked for, when it is known. */
  action?: RequestedAction;
  /** Where the row is when its number does not say (an email list's "item 7 on line 3"); `message` starts with it. */
  where?: string;
  /**
   * The row's non-empty cells for each mapped field, as written (trimmed), so a fix file can give the row
   * back from history alone. Only commits record them ({@link rowFields}); plans leave them out.
   */
  fields?: Partial<Record<ImportField, string>>;
}

/** A row that passed the checks that need nothing but the row itself. */
export interface ParsedRow {
  row: number;
  email: string;
  action: RequestedAction;
  /** Only the non-empty profile values: blank cells never erase stored values. */
  profile: Profile;
}

export type RowCheck = { ok: true; value: ParsedRow } | { ok: false; problem: RowProblem };

// Deliberately practical rather than RFC 5322-complete: one @, a local part of the characters mail systems
// accept, and a dot-separated domain whose last label is 2+ letters. Checked piecewise so no pattern can
// backtrack badly on a hostile cell.
const LOCAL_PART = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/i;
const DOMAIN_LABEL = /^[a-z0-9-]{1,63}$/i;
const TOP_LEVEL_LABEL = /^[a-z]{2,63}$/i;

/** True when `email` (already trimmed) is an address we accept. */
export function isValidEmail(email: string): boolean {
  if (email.length > 254) return false;
  const parts = email.split('@');
  if (parts.length !== 2) return false;
  const [local = '', domain = ''] = parts;
  if (!LOCAL_PART.test(local) || local.startsWith('.') || local.endsWith('.') || local.includes('..'))
    return false;
  const labels = domain.split('.');
  return (
    labels.length >= 2 &&
    labels.every((label) => DOMAIN_LABEL.test(label) && !label.startsWith('-') && !label.endsWith('-')) &&
    TOP_LEVEL_LABEL.test(labels[labels.length - 1] ?? '')
  );
}

/** Parses a User Status value; undefined when it is not one of the four. */
export function parseAction(value: string): RequestedAction | undefined {
  const normalized = value.trim().toLowerCase();
  return (REQUESTED_ACTIONS as readonly string[]).includes(normalized)
    ? (normalized as RequestedAction)
    : undefined;
}

/** The display form of an action, as the original console spells it. */
export function actionLabel(action: RequestedAction): string {
  return action.charAt(0).toUpperCase() + action.slice(1);
}

/**
 * A cell's value, trimmed. A leading apostrophe before = + - @ is the one our own CSV files (reports, fix
 * files) add against formula injection, so it is taken off again: a corrected fix file imports "+1 555…",
 * not "'+1 555…".
 */
function cell(cells: string[], mapping: ColumnMapping, field: ImportField): string {
  const column = mapping.columns[field];
  const value = column === undefined ? '' : (cells[column.index] ?? '').trim();
  return /^'[=+\-@\t\r]/.test(value) ? value.slice(1).trim() : value;
}

/** The row's non-empty cell for each mapped field, as {@link checkRow} reads it: what a problem row keeps. */
export function rowFields(cells: string[], mapping: ColumnMapping): Partial<Record<ImportField, string>> {
  const fields: Partial<Record<ImportField, string>> = {};
  for (const field of Object.keys(mapping.columns) as ImportField[]) {
    const value = cell(cells, mapping, field);
    if (value !== '') fields[field] = value;
  }
  return fields;
}

/**
 * Applies the checks that depend on the row alone: a valid email, a known status (or the default status
 * when the cell is empty). Name checks need to know whether the row creates a user and happen in the plan.
 */
export function checkRow(
  row: number,
  cells: string[],
  mapping: ColumnMapping,
  defaultAction: RequestedAction | undefined,
): RowCheck {
  const rawEmail = cell(cells, mapping, 'email');
  const email = rawEmail.toLowerCase();
  const rawStatus = cell(cells, mapping, 'status');
  // Known even when the row fails, so the report can say what the ignored row asked for.
  const action = rawStatus === '' ? defaultAction : parseAction(rawStatus);
  const fail = (code: ProblemCode, message: string, field?: ImportField): RowCheck => ({
    ok: false,
    problem: { row, email, code, message, ...(field ? { field } : {}), ...(action ? { action } : {}) },
  });
  if (rawEmail === '') return fail('missing-field', 'Email ID is empty.', 'email');
  if (!isValidEmail(rawEmail))
    return fail('invalid-email', `"${truncate(rawEmail)}" is not a valid email address.`);
  if (rawStatus === '' && !action) {
    return fail(
      'missing-field',
      'User Status is empty (expected New, Update, Delete or Activate).',
      'status',
    );
  }
  if (!action) {
    return fail(
      'unknown-status',
      `User Status "${truncate(rawStatus)}" is not one of New, Update, Delete or Activate.`,
    );
  }

  const profile: Profile = {};
  for (const field of PROFILE_FIELDS) {
    const value = cell(cells, mapping, field);
    if (value !== '') profile[field] = value;
  }
  return { ok: true, value: { row, email, action, profile } };
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
