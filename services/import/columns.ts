import { AppError } from '../errors';
import { PROFILE_FIELDS } from '../users/userTypes';

/** The fields an import understands, in the order they are shown to the administrator. */
export const IMPORT_FIELDS = ['email', ...PROFILE_FIELDS, 'status'] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

/** Each field's name as the administrator knows it from the original console's template. */
export const FIELD_LABELS: Record<ImportField, string> = {
  email: 'Email ID',
  firstName: 'First Name',
  lastName: 'Last Name',
  alternateId: 'Alternate ID',
  workPhone: 'Work Phone',
  title: 'Title',
  department: 'Department',
  status: 'User Status',
};

/** A file column feeding a field: its header as written in the file and its zero-based position. */
export interface MappedColumn {
  header: string;
  index: number;
}

/** Which column feeds which field, and the headers of the columns the import will not read. */
export interface ColumnMapping {
  columns: Partial<Record<ImportField, MappedColumn>>;
  ignoredColumns: string[];
}

/** Corrections from the administrator: the header that feeds a field, or null to leave the field out. */
export type MappingOverrides = Partial<Record<ImportField, string | null>>;

/**
 * Header names seen in real exports (Excel, Entra ID / Azure AD, HR systems), normalised, from the best
 * match down. When two columns match the same field, the one with the better-ranked name feeds it.
 */
const ALIASES: Record<ImportField, readonly (readonly string[])[]> = {
  email: [
    ['emailid', 'email'],
    ['emailaddress', 'mail', 'mailaddress', 'workemail', 'businessemail', 'primaryemail', 'useremail'],
    ['userprincipalname', 'upn'],
  ],
  firstName: [['firstname'], ['givenname', 'forename', 'fname', 'first']],
  lastName: [['lastname'], ['surname', 'familyname', 'lname', 'last']],
  alternateId: [
    ['alternateid'],
    ['altid', 'employeeid', 'employeenumber', 'employeeno', 'empid', 'externalid', 'staffid'],
  ],
  workPhone: [
    ['workphone'],
    ['businessphone', 'officephone', 'workphonenumber', 'businessphonenumber', 'officephonenumber'],
    ['phone', 'phonenumber', 'telephone', 'telephonenumber', 'tel'],
    ['mobile', 'mobilephone', 'mobilenumber', 'cellphone', 'cell'],
  ],
  title: [['title'], ['jobtitle'], ['position', 'role']],
  department: [['department'], ['dept'], ['division', 'team']],
  status: [
    ['userstatus', 'status'],
    ['action', 'operation'],
  ],
};

/**
 * Headers the import knows and deliberately does not read, normalised, with why. They are not "unknown"
 * columns, so plans do not list them as ignored: "Problem" is the reason column of the fix file the bot
 * gives back (`services/history/fixFile.ts`), which comes back corrected with it still in place.
 */
export const KNOWN_UNREAD_HEADERS: ReadonlyMap<string, string> = new Map([
  ['problem', 'the reason column of a fix file; not imported'],
  ['problems', 'the reason column of a fix file; not imported'],
]);

/** Normalised name → the field it means and how good a match it is (0 is best). */
const ALIAS_INDEX: ReadonlyMap<string, { field: ImportField; rank: number }> = new Map(
  IMPORT_FIELDS.flatMap((field) =>
    ALIASES[field].flatMap((names, rank) => names.map((name) => [name, { field, rank }] as const)),
  ),
);

/**
 * Reduces a header to a key that ignores case, accents, spaces and punctuation, so "E-mail", "EMAIL" and
 * "e_mail" compare equal.
 */
export function normalizeHeader(header: string): string {
  return header
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, '');
}

/**
 * The field a name refers to, whether written as the field's name ("workPhone"), its label ("Work Phone")
 * or a common header alias ("Business Phone"); undefined when it is none of these.
 */
export function resolveField(name: string): ImportField | undefined {
  const key = normalizeHeader(name);
  return (
    IMPORT_FIELDS.find(
      (field) => normalizeHeader(field) === key || normalizeHeader(FIELD_LABELS[field]) === key,
    ) ?? ALIAS_INDEX.get(key)?.field
  );
}

function describeColumn(headers: readonly string[], index: number): string {
  const header = headers[index] ?? '';
  return header.trim() === '' ? `(column ${index + 1}, no header)` : header;
}

function listHeaders(headers: readonly string[]): string {
  return headers.map((_, i) => `"${describeColumn(headers, i)}"`).join(', ');
}

/** Picks, for each field, the column whose header is the best-ranked alias; the first such column on a tie. */
function automaticMapping(headers: readonly string[]): Map<ImportField, number> {
  const best = new Map<ImportField, { index: number; rank: number }>();
  headers.forEach((header, index) => {
    const match = ALIAS_INDEX.get(normalizeHeader(header));
    if (!match) return;
    const current = best.get(match.field);
    if (!current || match.rank < current.rank) best.set(match.field, { index, rank: match.rank });
  });
  return new Map([...best].map(([field, { index }]) => [field, index]));
}

function invalidMapping(message: string, headers: readonly string[]): AppError {
  return new AppError('mapping-invalid', message, { headers: [...headers] });
}

/** Applies the administrator's corrections on top of the automatic mapping. */
function applyOverrides(
  headers: readonly string[],
  mapping: Map<ImportField, number>,
  overrides: MappingOverrides,
): void {
  const claimedBy = new Map<number, ImportField>();
  for (const [field, header] of Object.entries(overrides) as [string, string | null | undefined][]) {
    if (!(IMPORT_FIELDS as readonly string[]).includes(field)) {
      throw invalidMapping(
        `"${field}" is not a field the import knows. The fields are: ${IMPORT_FIELDS.join(', ')}.`,
        headers,
      );
    }
    const target = field as ImportField;
    if (header === undefined) continue;
    if (header === null) {
      mapping.delete(target);
      continue;
    }
    const key = normalizeHeader(header);
    const index = key === '' ? -1 : headers.findIndex((h) => normalizeHeader(h) === key);
    if (index < 0) {
      throw invalidMapping(
        `The file has no column "${header}" to use for ${FIELD_LABELS[target]}. ` +
          `Its columns are: ${listHeaders(headers)}.`,
        headers,
      );
    }
    const rival = claimedBy.get(index);
    if (rival) {
      throw invalidMapping(
        `Column "${headers[index]}" cannot feed both ${FIELD_LABELS[rival]} and ${FIELD_LABELS[target]}. ` +
          `Map each field to a different column.`,
        headers,
      );
    }
    claimedBy.set(index, target);
    // The column moves: whichever field had it automatically loses it.
    for (const [other, otherIndex] of mapping) {
      if (otherIndex === index && other !== target) mapping.delete(other);
    }
    mapping.set(target, index);
  }
}

/**
 * Decides which column feeds each field, from the headers and the administrator's overrides. Every column
 * that feeds no field, including one that lost its field to a better-named column, is listed in
 * `ignoredColumns` by its header, or as "(column N, no header)" when its header cell is empty; except the
 * {@link KNOWN_UNREAD_HEADERS} (a fix file's "Problem"), which are skipped without a mention.
 *
 * Throws {@link AppError} `mapping-invalid` when an override names a header the file does not have, an
 * unknown field, or gives one column to two fields.
 */
export function mapColumns(headers: string[], overrides: MappingOverrides = {}): ColumnMapping {
  const mapping = automaticMapping(headers);
  applyOverrides(headers, mapping, overrides);
  const columns: Partial<Record<ImportField, MappedColumn>> = {};
  for (const field of IMPORT_FIELDS) {
    const index = mapping.get(field);
    if (index !== undefined) columns[field] = { header: headers[index] ?? '', index };
  }
  const used = new Set(mapping.values());
  const ignoredColumns = headers.flatMap((header, index) =>
    used.has(index) || KNOWN_UNREAD_HEADERS.has(normalizeHeader(header))
      ? []
      : [describeColumn(headers, index)],
  );
  return { columns, ignoredColumns };
}
