import { AppError } from '../errors';
import type { UserDirectory } from '../users/userDirectory';
import { FIELD_LABELS, mapColumns, type ColumnMapping } from './columns';
import { EmailKeyMap } from './emailKeySet';
import type { FileSource } from './fileSource';
import type { ImportOptions } from './importOptions';
import { decideRow, type RowDecision } from './rowDecision';
import { checkRow, type ParsedRow } from './rowRules';
import { inspectUserFile, readRows, type FileLayout } from './userFileReader';

/** A file that has been inspected and indexed, ready to be planned or committed. */
export interface PreparedImport {
  accountId: string;
  source: FileSource;
  layout: FileLayout;
  mapping: ColumnMapping;
  options: ImportOptions;
  /** Data rows in the file, blank lines excluded. */
  dataRows: number;
  /** For each email, the last row that passed the row checks: that row wins over earlier ones. */
  lastRowByEmail: EmailKeyMap;
  /** Every email the account already has. */
  accountEmails: EmailKeyMap;
}

/** Rows per batch: large enough to amortise round trips, small enough that a batch's results stay small. */
export const DEFAULT_BATCH_SIZE = 2500;

/** The file as history and plans describe it. */
export interface ImportFileSummary {
  name: string;
  bytes: number;
  sha256: string;
  encoding: FileLayout['encoding'];
  delimiter: string;
  rows: number;
}

export function summarizeFile(prepared: Pick<PreparedImport, 'layout' | 'dataRows'>): ImportFileSummary {
  const { name, bytes, sha256, encoding, delimiter } = prepared.layout;
  return { name, bytes, sha256, encoding, delimiter, rows: prepared.dataRows };
}

/**
 * Reads the file's layout, maps its columns and makes one streaming pass to find, for each email, the row
 * that wins. Writes nothing.
 */
export async function prepareImport(
  directory: UserDirectory,
  source: FileSource,
  accountId: string,
  options: ImportOptions,
  maxBytes: number,
): Promise<PreparedImport> {
  const layout = await inspectUserFile(source, { maxBytes });
  const mapping = mapColumns(layout.headers, options.mapping);
  if (!mapping.columns.email) {
    throw new AppError(
      'file-no-email-column',
      `No column holds the ${FIELD_LABELS.email}. The file's columns are: ${layout.headers.map((h) => `"${h}"`).join(', ')}. ` +
        'Name the email column "Email ID" or choose it explicitly (email=<header>).',
      { headers: layout.headers },
    );
  }
  const [accountEmails, indexed] = await Promise.all([
    directory.emailKeys(accountId),
    indexLastRows(source, layout, mapping, options),
  ]);
  return { accountId, source, layout, mapping, options, accountEmails, ...indexed };
}

async function indexLastRows(
  source: FileSource,
  layout: FileLayout,
  mapping: ColumnMapping,
  options: ImportOptions,
) {
  const lastRowByEmail = new EmailKeyMap();
  let dataRows = 0;
  for await (const { row, cells } of readRows(source, layout)) {
    dataRows++;
    const check = checkRow(row, cells, mapping, options.defaultAction);
    if (check.ok) lastRowByEmail.set(check.value.email, row);
  }
  return { lastRowByEmail, dataRows };
}

/**
 * Streams the file again and decides every row, a batch at a time, against the account as it is now. Used
 * by the plan and by the commit alike, so the admin is shown exactly what will be done.
 */
export async function* decideInBatches(
  directory: UserDirectory,
  prepared: PreparedImport,
  batchSize: number,
): AsyncGenerator<RowDecision[]> {
  let pending: Array<RowDecision | ParsedRow> = [];
  const flush = async (): Promise<RowDecision[]> => {
    const candidates = pending.filter(
      (item): item is ParsedRow => !('kind' in item) && prepared.accountEmails.has(item.email),
    );
    const existing = await directory.findByEmails(
      prepared.accountId,
      candidates.map((c) => c.email),
    );
    const decided = pending.map((item) =>
      'kind' in item
        ? item
        : decideRow(item, existing.get(item.email), {
            createMissingOnUpdate: prepared.options.createMissingOnUpdate ?? false,
          }),
    );
    pending = [];
    return decided;
  };

  for await (const { row, cells } of readRows(prepared.source, prepared.layout)) {
    const check = checkRow(row, cells, prepared.mapping, prepared.options.defaultAction);
    if (!check.ok) {
      pending.push({ kind: 'ignore', problem: check.problem });
    } else {
      const winner = prepared.lastRowByEmail.get(check.value.email);
      if (winner !== undefined && winner !== row) {
        pending.push({
          kind: 'ignore',
          problem: {
            row,
            email: check.value.email,
            code: 'duplicate-email',
            message: `The same email appears again at row ${winner}; the later row is used.`,
          },
        });
      } else {
        pending.push(check.value);
      }
    }
    if (pending.length >= batchSize) yield await flush();
  }
  if (pending.length > 0) yield await flush();
}
