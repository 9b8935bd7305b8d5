import { z } from 'zod';
import { AppError } from '../errors';
import { IMPORT_FIELDS, resolveField, type MappingOverrides } from './columns';
import { parseAction, REQUESTED_ACTIONS, type RequestedAction } from './rowRules';

/** The choices an administrator can make about one import. */
export interface ImportOptions {
  /** Action for rows whose User Status is empty. */
  defaultAction?: RequestedAction;
  /** Field → file header (or null to leave the field unmapped), overriding detection. */
  mapping?: MappingOverrides;
  /** Create Update rows for unknown emails as New instead of skipping them. */
  createMissingOnUpdate?: boolean;
  /**
   * What happens to rows whose email is flagged (a likely typo of a common domain, or outside the account's
   * allowed domains): imported as usual, or skipped. Undecided, they are imported and the plan asks.
   */
  flaggedEmails?: FlaggedEmailChoice;
  /**
   * The admin confirmed that a file whose rows run together on one line is re-flowed into rows of the
   * header's width. Without it such a file is planned but not imported.
   */
  reflow?: boolean;
  /**
   * For an Excel workbook: the worksheet to read, by name in any case. Absent: the first sheet that is not
   * hidden. Naming a sheet for a text file is an error.
   */
  sheet?: string;
}

/** Excel limits sheet names to 31 characters; a little slack costs nothing. */
const MAX_SHEET_NAME = 100;

export const FLAGGED_EMAIL_CHOICES = ['import', 'skip'] as const;
export type FlaggedEmailChoice = (typeof FLAGGED_EMAIL_CHOICES)[number];

const importOptionsSchema = z
  .object({
    defaultAction: z.enum(REQUESTED_ACTIONS).optional(),
    mapping: z.partialRecord(z.enum(IMPORT_FIELDS), z.string().min(1).nullable()).optional(),
    createMissingOnUpdate: z.boolean().optional(),
    flaggedEmails: z.enum(FLAGGED_EMAIL_CHOICES).optional(),
    reflow: z.boolean().optional(),
    sheet: z.string().trim().min(1).max(MAX_SHEET_NAME).optional(),
  })
  .strict();

/** Validates options arriving from outside (CLI flags, card submissions, stored jobs). */
export function parseImportOptions(input: unknown): ImportOptions {
  const parsed = importOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`);
    throw new AppError('option-invalid', `Invalid import options: ${problems.join('; ')}`);
  }
  return parsed.data as ImportOptions;
}

/** Parses a default status typed by an admin ("New", "activate"…). */
export function parseDefaultStatus(text: string): RequestedAction {
  const action = parseAction(text);
  if (!action) {
    throw new AppError(
      'option-invalid',
      `"${text}" is not a User Status. Use New, Update, Delete or Activate.`,
    );
  }
  return action;
}

/** Parses what to do with flagged emails ("import" or "skip", any case). */
export function parseFlaggedChoice(text: string): FlaggedEmailChoice {
  const choice = text.trim().toLowerCase();
  if (!(FLAGGED_EMAIL_CHOICES as readonly string[]).includes(choice)) {
    throw new AppError(
      'option-invalid',
      `"${text}" is not a choice for flagged emails. Use import (import them as they are) or skip.`,
    );
  }
  return choice as FlaggedEmailChoice;
}

/** Parses a worksheet name given by an admin (`--sheet Staff`): trimmed, not empty. */
export function parseSheetName(text: string): string {
  const name = text.trim();
  if (name === '' || name.length > MAX_SHEET_NAME) {
    throw new AppError(
      'option-invalid',
      name === ''
        ? 'The sheet name is empty. Name the worksheet to read, e.g. --sheet Staff.'
        : `That sheet name is longer than ${MAX_SHEET_NAME} characters; Excel's are at most 31.`,
    );
  }
  return name;
}

/** Parses `field=Header` (e.g. `workPhone=Business Phone`, `work phone=Mobile`, `title=` to unmap). */
export function parseMappingAssignment(text: string): MappingOverrides {
  const eq = text.indexOf('=');
  if (eq <= 0) {
    throw new AppError(
      'mapping-invalid',
      `"${text}" is not a mapping. Write it as field=Header, e.g. workPhone=Mobile.`,
    );
  }
  const field = resolveField(text.slice(0, eq).trim());
  if (!field) {
    throw new AppError(
      'mapping-invalid',
      `"${text.slice(0, eq).trim()}" is not a field. Fields: ${IMPORT_FIELDS.join(', ')}.`,
    );
  }
  const header = text.slice(eq + 1).trim();
  return { [field]: header === '' ? null : header };
}
