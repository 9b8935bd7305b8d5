import type { Writable } from 'node:stream';
import { FIELD_LABELS, IMPORT_FIELDS } from '../import/columns';
import { actionLabel } from '../import/rowRules';
import type { ImportHistory } from './importHistory';
import type { ImportRecord, RowResult } from './importRecord';
import { csvCell, write } from './rowReport';

/**
 * The fix file: the rows of an import that were not imported (ignored or failed), with the columns of the
 * standard template and a last "Problem" column saying why, for the admin to correct and send back. It is
 * made from history alone (files are not kept): each problem row records its values as written. Sent back,
 * the "Problem" column is recognised and skipped (`KNOWN_UNREAD_HEADERS` in columns.ts), so the file imports
 * like any other: rows now right are imported, rows still wrong are reported again.
 */

/** The header of the reason column; the importer knows it and does not read it. */
export const FIX_PROBLEM_HEADER = 'Problem';

/** The fix file's columns: the template's, in its order, then the reason. */
export const FIX_FILE_COLUMNS: readonly string[] = [
  ...IMPORT_FIELDS.map((field) => FIELD_LABELS[field]),
  FIX_PROBLEM_HEADER,
];

/** What a fix file is read from: an import's row results in row order. */
export type FixFileHistory = Pick<ImportHistory, 'rowResults'>;

/** Excel reads a CSV without a byte order mark in the local code page and garbles names such as "Zoë". */
const UTF8_BOM = '\uFEFF';

/** True for the rows a fix file gives back: those ignored or failed. */
export function isFixRow(result: RowResult): boolean {
  return result.outcome === 'ignored' || result.outcome === 'failed';
}

/**
 * One fix-file line's values, unescaped. Rows recorded before problem rows kept their values give back what
 * history has: the email and the User Status asked for.
 */
export function fixRowValues(result: RowResult): string[] {
  const fields = result.fields ?? {
    email: result.email,
    ...(result.action ? { status: actionLabel(result.action) } : {}),
  };
  const why = result.reason ?? result.code ?? result.outcome;
  return [...IMPORT_FIELDS.map((field) => fields[field] ?? ''), `Row ${result.row}: ${why}`];
}

/**
 * Streams the fix file of `record` as UTF-8 CSV with a byte order mark: the header line, then one line per
 * ignored or failed row in row order, every cell quoted as RFC 4180 needs and neutralised against formula
 * injection (the importer takes that apostrophe off again). Only the header when every row was imported.
 * Resolves to the number of rows written.
 */
export async function writeFixCsv(
  history: FixFileHistory,
  record: Pick<ImportRecord, '_id' | 'outcomes'>,
  out: Writable,
): Promise<number> {
  await write(out, UTF8_BOM + FIX_FILE_COLUMNS.map(csvCell).join(',') + '\r\n');
  if (record.outcomes.ignored + record.outcomes.failed === 0) return 0;
  let count = 0;
  for await (const result of history.rowResults(record._id)) {
    if (!isFixRow(result)) continue;
    await write(out, fixRowValues(result).map(csvCell).join(',') + '\r\n');
    count++;
  }
  return count;
}

/**
 * The download name of a fix file, from the imported file's name: "users.csv" gives "users-fix-rows.csv".
 * Only letters, digits, "_" and "-" are kept (accents dropped, anything else a "-"), so the name is safe in
 * a Content-Disposition header and on any file system; "import-fix-rows.csv" when nothing is left.
 */
export function fixFileName(fileName: string): string {
  const base = (fileName.split(/[\\/]/).pop() ?? '')
    .replace(/\.[^.]*$/, '')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, 60)
    .replace(/[-_]+$/, '');
  return `${base || 'import'}-fix-rows.csv`;
}
