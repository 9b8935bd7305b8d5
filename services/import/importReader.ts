import { AppError } from '../errors';
import type { UserDirectory } from '../users/userDirectory';
import { FIELD_LABELS, mapColumns, type ColumnMapping } from './columns';
import { EmailKeyMap } from './emailKeySet';
import type { FileSource } from './fileSource';
import type { ImportOptions } from './importOptions';
import type { FileShape } from './fileShape';
import { decideRow, type RowDecision } from './rowDecision';
import { checkRow, rowFields, type ParsedRow, type RequestedAction, type RowProblem } from './rowRules';
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
  /** The delimiter of a text file; null for a workbook. */
  delimiter: string | null;
  rows: number;
  /** For a workbook: the worksheet read, and all of its worksheets in workbook order. */
  sheet?: string;
  sheets?: string[];
  /** How the file lays out its values; absent: a table (and on imports recorded before shapes existed). */
  shape?: Exclude<FileShape, 'table'>;
}

export function summarizeFile(prepared: Pick<PreparedImport, 'layout' | 'dataRows'>): ImportFileSummary {
  const { name, bytes, sha256, encoding, delimiter, shape, sheet, sheets } = prepared.layout;
  return {
    name,
    bytes,
    sha256,
    encoding,
    delimiter,
    rows: prepared.dataRows,
    ...(shape && shape !== 'table' ? { shape } : {}),
    ...(sheet !== undefined ? { sheet, sheets } : {}),
  };
}

/** For a workbook with other sheets, a hint that the users may be on one of those. */
function otherSheets(layout: FileLayout): string {
  const others = (layout.sheets ?? []).filter((name) => name !== layout.sheet);
  return others.length === 0
    ? ''
    : ` The workbook's other sheets: ${others.map((name) => `"${name}"`).join(', ')}; the users may be on one ` +
        'of those.';
}

/** An email list's one column: the addresses. */
function emailListMapping(layout: FileLayout): ColumnMapping {
  return { columns: { email: { header: layout.headers[0] ?? 'Email', index: 0 } }, ignoredColumns: [] };
}

/**
 * The User Status of rows that give none: an email list has no status column and every address on it is
 * someone to invite, so it is New whatever the options say; otherwise the admin's default, if any.
 */
export function statusDefault(layout: FileLayout, options: ImportOptions): RequestedAction | undefined {
  return layout.shape === 'email-list' ? 'new' : options.defaultAction;
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
  const layout = await inspectUserFile(source, { maxBytes, sheet: options.sheet });
  const mapping =
    layout.shape === 'email-list' ? emailListMapping(layout) : mapColumns(layout.headers, options.mapping);
  if (!mapping.columns.email) {
    throw new AppError(
      'file-no-email-column',
      `No column holds the ${FIELD_LABELS.email}. The ${layout.sheet !== undefined ? `sheet "${layout.sheet}"` : 'file'}'s columns are: ${layout.headers.map((h) => `"${h}"`).join(', ')}. ` +
        'Name the email column "Email ID" or choose it explicitly (email=<header>).' +
        otherSheets(layout),
      {
        headers: layout.headers,
        ...(layout.sheet !== undefined ? { sheet: layout.sheet, sheets: layout.sheets } : {}),
      },
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
  const defaultAction = statusDefault(layout, options);
  for await (const { row, cells } of readRows(source, layout)) {
    dataRows++;
    const check = checkRow(row, cells, mapping, defaultAction);
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
  // Where each pending row is, in step with `pending`, when its row number does not say (email lists).
  let pendingWhere: Array<string | undefined> = [];
  const emailList = prepared.layout.shape === 'email-list';
  const defaultAction = statusDefault(prepared.layout, prepared.options);
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
              // An email list invites people to complete their profile, names and all.
              namesOptional: emailList,
            });
      const located = locate(decision, pendingWhere[i]);
      const cells = pendingCells[i];
      return located.kind === 'ignore' && cells
        ? { ...located, problem: { ...located.problem, fields: rowFields(cells, prepared.mapping) } }
        : located;
    });
    pending = [];
    pendingCells = [];
    pendingWhere = [];
    return decided;
  };

  for await (const { row, cells, where } of readRows(prepared.source, prepared.layout)) {
    const check = checkRow(row, cells, prepared.mapping, defaultAction);
    if (keepFields) pendingCells.push(cells);
    pendingWhere.push(where);
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
            message: emailList
              ? 'The same address is listed again later; it counts once.'
              : `The same email appears again at row ${winner}; the later row is used.`,
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

/**
 * A decision about a row whose number does not say where it is (an email list's address): a problem's
 * message starts with where the row is ("item 7 on line 3: …"), and both kinds carry `where`.
 */
function locate(decision: RowDecision, where: string | undefined): RowDecision {
  if (where === undefined) return decision;
  if (decision.kind === 'apply') return { ...decision, where };
  const problem: RowProblem = {
    ...decision.problem,
    where,
    message: `${where}: ${decision.problem.message}`,
  };
  return { ...decision, problem };
}
