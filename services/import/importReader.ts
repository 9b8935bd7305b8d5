import { AppError } from '../errors';
import type { UserDirectory } from '../users/userDirectory';
import { FIELD_LABELS, mapColumns, type ColumnMapping } from './columns';
import { EmailKeyMap } from './emailKeySet';
import type { FileSource } from './fileSource';
import type { ImportOptions } from './importOptions';
import { decideRow, type RowDecision } from './rowDecision';
import { checkRow, rowFields, type ParsedRow } from './rowRules';
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
  /** The account's allowed email domains (empty: any); rows creating users elsewhere are flagged. */
  allowedDomains?: readonly string[];
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
  allowedDomains: readonly string[] = [],
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
  return { accountId, source, layout, mapping, options, accountEmails, allowedDomains, ...indexed };
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
 * by the plan and by the commit alike, so the admin is shown exactly what will be done. With `keepFields`
 * (the commit) every ignored row's problem carries the row's cells as written ({@link rowFields}), so a fix
 * file can be made from history; plans leave them out to stay small.
 */
export async function* decideInBatches(
  directory: UserDirectory,
  prepared: PreparedImport,
  batchSize: number,
  { keepFields = false }: { keepFields?: boolean } = {},
): AsyncGenerator<RowDecision[]> {
  let pending: Array<RowDecision | ParsedRow> = [];
  // The cells of each pending row, in step with `pending`, only when the problems are to keep them.
  let pendingCells: string[][] = [];
  const flush = async (): Promise<RowDecision[]> => {
    const candidates = pending.filter(
      (item): item is ParsedRow => !('kind' in item) && prepared.accountEmails.has(item.email),
    );
    const existing = await directory.findByEmails(
      prepared.accountId,
      candidates.map((c) => c.email),
    );
    const decided = pending.map((item, i): RowDecision => {
      const decision =
        'kind' in item
          ? item
          : decideRow(item, existing.get(item.email), {
              createMissingOnUpdate: prepared.options.createMissingOnUpdate ?? false,
              allowedDomains: prepared.allowedDomains,
              flaggedEmails: prepared.options.flaggedEmails,
            });
      const cells = pendingCells[i];
      return decision.kind === 'ignore' && cells
        ? { ...decision, problem: { ...decision.problem, fields: rowFields(cells, prepared.mapping) } }
        : decision;
    });
    pending = [];
    pendingCells = [];
    return decided;
  };

  for await (const { row, cells } of readRows(prepared.source, prepared.layout)) {
    const check = checkRow(row, cells, prepared.mapping, prepared.options.defaultAction);
    if (keepFields) pendingCells.push(cells);
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
