import { createHash } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import type { CellValue, Row } from 'exceljs';
import { format as formatWithNumFmt } from 'numfmt';
import { AppError, isAppError } from '../errors';
import { tooLargeError } from './encoding';
import type { FileSource } from './fileSource';
import type { FileRow, WorkbookFileLayout } from './userFileReader';

/**
 * Excel workbooks (.xlsx) as user files: recognised by their content, read one worksheet at a time with
 * exceljs's streaming reader, every cell turned into the text Excel shows for it.
 *
 * A workbook is read in passes over the {@link FileSource}, which can be read from the start as often as
 * needed, so nothing is parked on disk or held whole in memory: one pass hashes and measures the file; one
 * reads the workbook's parts that every sheet needs (its sheet list, number formats and shared strings) and
 * skips the sheets; and each read of the rows streams the archive again up to the one sheet wanted and parses
 * it row by row. (A single pass cannot work in general: Excel and exceljs both store the shared strings and
 * styles after the sheets, and exceljs's own reader then copies each sheet to a temporary file.)
 */

/** What a file's first bytes say it is: a ZIP archive (an .xlsx) or an OLE2 compound file (.xls, encrypted). */
export type WorkbookContainer = 'zip' | 'ole2';

/** One worksheet of a workbook, in workbook order. */
export interface SheetInfo {
  name: string;
  /** Hidden sheets are not read unless asked for by name. */
  hidden: boolean;
}

/** A record of the sheet: `row` is the row number Excel shows, `cells` the text of its cells, trimmed. */
export interface SheetRecord {
  row: number;
  cells: string[];
}

const MIB = 1024 * 1024;
/**
 * How far a part of the workbook may expand when unzipped, as a multiple of the file's size (with a floor for
 * small files). Real sheets compress about 5 to 20 times; a "ZIP bomb" expands thousands of times.
 */
const MAX_EXPANSION = 200;
const MIN_EXPANDED_BYTES = 64 * MIB;

/** exceljs's reader options: only what a user list needs, hyperlinks as their text. */
const READER_OPTIONS = {
  sharedStrings: 'cache',
  hyperlinks: 'ignore',
  styles: 'cache',
  worksheets: 'emit',
  entries: 'ignore',
} as const;

// ---------------------------------------------------------------------------------------------------------
// Recognising workbooks

/**
 * The kind of workbook a file is, from the error `detectEncoding` gives when the file starts with a
 * ZIP signature (an .xlsx, or another archive, which reading then rejects) or an OLE2 one (an Excel 97-2003
 * .xls or a password-protected workbook); null for any other error. The text reader sees the signature in
 * its first pass, so text files pay nothing for workbook support.
 */
export function workbookContainer(err: unknown): WorkbookContainer | null {
  if (!isAppError(err, 'file-binary')) return null;
  const kind = err.details?.kind;
  return kind === 'zip' || kind === 'ole2' ? kind : null;
}

/** The directory entries whose presence marks an encrypted (password-protected) Office document. */
const ENCRYPTION_STREAMS = ['EncryptionInfo', 'EncryptedPackage'].map((name) =>
  Buffer.from(`${name}\u0000`, 'utf16le'),
);
const DIRECTORY_ENTRY_BYTES = 128;
const OLE2_HEADER_BYTES = 512;
const STREAM_OBJECT = 2;

/**
 * True when the 128 bytes at `at` are an OLE2 (MS-CFB) directory entry for a stream named EncryptionInfo or
 * EncryptedPackage: the name in UTF-16LE with its terminator, the matching name length at offset 64, object
 * type "stream" at 66 and a valid red/black colour at 67. Directory entries always start at a multiple of 128
 * bytes in the file, so only those offsets are tried.
 */
function isEncryptionEntry(data: Buffer, at: number): boolean {
  if (data[at + 66] !== STREAM_OBJECT || (data[at + 67] ?? 2) > 1) return false;
  const nameBytes = data.readUInt16LE(at + 64);
  return ENCRYPTION_STREAMS.some(
    (name) => nameBytes === name.length && data.subarray(at, at + name.length).equals(name),
  );
}

function legacyExcelError(name: string): AppError {
  return new AppError(
    'file-legacy-excel',
    `"${name}" is an older Excel file (.xls). Open it in Excel and save it as .xlsx or CSV, then send it again.`,
    { file: name, kind: 'xls' },
  );
}

function passwordProtectedError(name: string): AppError {
  return new AppError(
    'file-password-protected',
    `"${name}" is password-protected. Remove the password (File › Info › Protect Workbook) or save it as ` +
      'CSV, and send it again.',
    { file: name, kind: 'encrypted' },
  );
}

/**
 * Explains an OLE2 file, which is never read: a password-protected workbook (Excel keeps an encrypted .xlsx
 * in an OLE2 file with EncryptionInfo and EncryptedPackage streams) or else an Excel 97-2003 workbook.
 * Streams the file once, looking only at directory entries, within the size limit.
 */
async function rejectOle2(source: FileSource, maxBytes: number): Promise<never> {
  let offset = 0;
  let bytes = 0;
  let carry = Buffer.alloc(0);
  for await (const chunk of source.open()) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buffer.length;
    if (bytes > maxBytes) throw tooLargeError(source, maxBytes);
    const data = carry.length > 0 ? Buffer.concat([carry, buffer]) : buffer;
    let at = 0;
    for (; at + DIRECTORY_ENTRY_BYTES <= data.length; at += DIRECTORY_ENTRY_BYTES) {
      if (offset + at >= OLE2_HEADER_BYTES && isEncryptionEntry(data, at)) {
        throw passwordProtectedError(source.name);
      }
    }
    offset += at;
    carry = Buffer.from(data.subarray(at));
  }
  throw legacyExcelError(source.name);
}

// ---------------------------------------------------------------------------------------------------------
// exceljs's streaming reader, driven pass by pass

/**
 * The parts of exceljs 4.4's `stream.xlsx.WorkbookReader` this module relies on beyond its typings: the
 * caches it fills from the workbook's shared parts, and the per-part parsers `parse()` dispatches to, which
 * are replaced per instance to skip parts a pass does not need. exceljs is pinned to 4.4.0 for this reason.
 */
interface ReaderInternals {
  sharedStrings?: unknown[];
  workbookRels?: Array<{ Id: string; Type?: string; Target: string }>;
  model?: { sheets?: Array<{ name: string; id: number; rId: string; state?: string }> };
  properties?: { model?: { date1904?: boolean } };
  styles?: unknown;
  parse(): AsyncIterable<{ eventType: string; value: unknown }>;
  _parseSharedStrings(entry: NodeJS.ReadableStream): AsyncGenerator<unknown>;
  _parseStyles(entry: NodeJS.ReadableStream): Promise<void>;
  _parseWorkbook(entry: NodeJS.ReadableStream): Promise<void>;
  _parseRels(entry: NodeJS.ReadableStream): Promise<void>;
  _parseWorksheet(
    iterator: AsyncIterable<Buffer>,
    sheetNo: string,
  ): Generator<{ eventType: string; value: unknown }>;
}

/** A worksheet as exceljs's streaming reader hands it out: an async iterable of rows. */
type SheetReader = AsyncIterable<Row>;

/** The shared parts of one workbook, read once per inspection and reused by each read of its rows. */
interface WorkbookParts {
  sheets: Array<SheetInfo & { sheetNo: string }>;
  sharedStrings: unknown[];
  workbookRels: NonNullable<ReaderInternals['workbookRels']>;
  model: NonNullable<ReaderInternals['model']>;
  properties: ReaderInternals['properties'];
  styles: unknown;
  date1904: boolean;
  expandedLimit: number;
}

/** Parts are cached per source, refreshed by every inspection, so a plan or commit reads them once. */
const partsCache = new WeakMap<FileSource, WorkbookParts>();

type ExcelModule = typeof import('exceljs');
let excelModule: Promise<ExcelModule> | undefined;
/** exceljs is loaded on the first workbook, so text files and start-up never pay for it. */
function loadExcel(): Promise<ExcelModule> {
  excelModule ??= import('exceljs');
  return excelModule;
}

/**
 * A stream of the source's bytes for exceljs. A read error must end the stream exceljs reads (its unzipper
 * would otherwise wait for the rest forever); the error is kept and reported instead of the unzipper's.
 * Destroying the returned stream stops reading the source.
 */
function feed(source: FileSource): { stream: PassThrough; error: () => unknown } {
  const input = source.open() as Readable;
  const stream = new PassThrough();
  let failure: unknown;
  input.on('error', (err) => {
    failure = err;
    stream.end();
  });
  stream.on('close', () => {
    if (typeof input.destroy === 'function') input.destroy();
  });
  input.pipe(stream);
  return { stream, error: () => failure };
}

function unreadableError(name: string): AppError {
  return new AppError(
    'file-unreadable',
    `"${name}" looks like an Excel workbook (.xlsx) but could not be read: it is damaged or incomplete. Open ` +
      'it in Excel, save it again as .xlsx or CSV, and send it again.',
    { file: name, kind: 'zip' },
  );
}

function notWorkbookError(name: string): AppError {
  return new AppError(
    'file-binary',
    `"${name}" is a ZIP archive but not an Excel workbook (.xlsx). Binary (.xlsb) and OpenDocument (.ods) ` +
      'spreadsheets are not read either: open the file in Excel, save it as .xlsx or CSV, and send it again.',
    { file: name, kind: 'zip' },
  );
}

function expandedTooLarge(name: string): AppError {
  return new AppError(
    'file-too-large',
    `"${name}" expands to far more data than a workbook of its size holds when unzipped, so it was not read. ` +
      'Open it in Excel, save it again as .xlsx or CSV, and send it again.',
    { file: name, kind: 'zip' },
  );
}

/** The bytes of `chunks`, failing once more than `limit` have passed. */
async function* capped(chunks: AsyncIterable<Buffer>, limit: number, name: string): AsyncGenerator<Buffer> {
  let total = 0;
  for await (const chunk of chunks) {
    total += chunk.length;
    if (total > limit) throw expandedTooLarge(name);
    yield chunk;
  }
}

/** Runs one pass of exceljs over the source, turning its failures into messages for the administrator. */
async function* pass<T>(
  source: FileSource,
  setUp: (reader: ReaderInternals) => void,
  consume: (events: AsyncIterable<{ eventType: string; value: unknown }>) => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const ExcelJS = await loadExcel();
  const input = feed(source);
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(
    input.stream,
    READER_OPTIONS,
  ) as unknown as ReaderInternals;
  setUp(reader);
  try {
    yield* consume(reader.parse());
    if (input.error() !== undefined) throw input.error();
  } catch (err) {
    if (input.error() !== undefined) throw input.error();
    if (err instanceof AppError) throw err;
    throw unreadableError(source.name);
  } finally {
    input.stream.destroy();
  }
}

/** The sheet part a worksheet's relationship points at ("worksheets/sheet2.xml" → "2"); null for others. */
function sheetNumber(target: string | undefined): string | null {
  const match = /(?:^|\/)worksheets\/sheet(\d+)\.xml$/.exec(target ?? '');
  return match?.[1] ?? null;
}

/**
 * Reads the workbook's sheet list, number formats and shared strings in one streaming pass, skipping the
 * sheets themselves. Throws `file-binary` for a ZIP archive that is not a workbook and `file-unreadable` for
 * one that is damaged.
 */
async function readParts(source: FileSource): Promise<WorkbookParts> {
  const expandedLimit = Math.max(source.bytes * MAX_EXPANSION, MIN_EXPANDED_BYTES);
  let captured: ReaderInternals | undefined;
  const run = pass(
    source,
    (reader) => {
      captured = reader;
      // With these set, exceljs hands each sheet to _parseWorksheet as it comes instead of copying it to a
      // temporary file to wait for the shared strings; this pass skips the sheets altogether. The real
      // values replace these as the parts are read.
      reader.sharedStrings = [];
      reader.workbookRels = [];
      reader._parseWorksheet = function* () {
        yield* [];
      };
      const parseSharedStrings = reader._parseSharedStrings.bind(reader);
      reader._parseSharedStrings = (entry) =>
        parseSharedStrings(Readable.from(capped(entry as AsyncIterable<Buffer>, expandedLimit, source.name)));
    },
    async function* (events): AsyncGenerator<never> {
      // Nothing comes out: sheets and hyperlinks are skipped in this pass.
      for await (const _event of events);
      yield* [];
    },
  );
  for await (const _nothing of run);
  const reader = captured;
  if (!reader?.model || !reader.workbookRels) throw notWorkbookError(source.name);
  const rels = reader.workbookRels;
  const sheets = (reader.model.sheets ?? []).flatMap((sheet) => {
    const rel = rels.find((r) => r.Id === sheet.rId);
    const sheetNo = sheetNumber(rel?.Target);
    return sheetNo === null
      ? []
      : [{ name: sheet.name, hidden: sheet.state !== undefined && sheet.state !== 'visible', sheetNo }];
  });
  if (sheets.length === 0) throw notWorkbookError(source.name);
  return {
    sheets,
    sharedStrings: reader.sharedStrings ?? [],
    workbookRels: rels,
    model: reader.model,
    properties: reader.properties,
    styles: reader.styles,
    date1904: reader.properties?.model?.date1904 === true,
    expandedLimit,
  };
}

/**
 * Streams one sheet's rows as text, parsing only that sheet's part with the cached shared parts. Rows Excel
 * stores without any value (formatted but empty) come back with no cells.
 */
function sheetRecords(
  source: FileSource,
  parts: WorkbookParts,
  sheetNo: string,
): AsyncGenerator<SheetRecord> {
  return pass(
    source,
    (reader) => {
      Object.assign(reader, {
        sharedStrings: parts.sharedStrings,
        workbookRels: parts.workbookRels,
        model: parts.model,
        properties: parts.properties,
        styles: parts.styles,
      });
      reader._parseSharedStrings = async function* () {};
      reader._parseStyles = async () => undefined;
      reader._parseWorkbook = async () => undefined;
      reader._parseRels = async () => undefined;
      const parseWorksheet = reader._parseWorksheet.bind(reader);
      reader._parseWorksheet = function* (iterator, partNo) {
        if (partNo === sheetNo)
          yield* parseWorksheet(capped(iterator, parts.expandedLimit, source.name), partNo);
      };
    },
    async function* (events) {
      for await (const { eventType, value } of events) {
        if (eventType !== 'worksheet') continue;
        for await (const row of value as SheetReader) {
          yield { row: row.number, cells: rowText(row, parts.date1904) };
        }
        return; // the sheet is read; the rest of the archive is not
      }
    },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Cell values as the text Excel shows

/**
 * exceljs's names for the built-in formats Excel shows in the computer's own date style (ids 14 and 22),
 * written in ISO form instead so that 3/4/2024 is never read as April in one place and March in another.
 */
const DEFAULT_DATE_FORMATS: ReadonlyMap<string, string> = new Map([
  ['mm-dd-yy', 'yyyy-mm-dd'],
  ['m/d/yy "h":mm', 'yyyy-mm-dd hh:mm'],
  ['m/d/yy h:mm', 'yyyy-mm-dd hh:mm'],
]);
const MS_PER_DAY = 24 * 60 * 60 * 1000;
/** Days from Excel's day 0 (1899-12-30 in the 1900 date system) to 1970-01-01. */
const UNIX_EPOCH_SERIAL = 25569;
/** The 1904 date system counts from 1904-01-01, 1462 days later. */
const DATE_1904_OFFSET = 1462;

/**
 * A number in Excel's General format, but never in scientific notation for whole numbers, so a phone number or
 * employee id stored as a number keeps all its digits (Excel shows "4.47701E+11" for 447700900123).
 */
function generalText(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return value.toFixed(0);
  // Fifteen significant digits, as Excel keeps, drop binary noise such as 0.30000000000000004.
  return String(Number(value.toPrecision(15)));
}

/** A number as its cell's number format shows it: leading zeros, plus signs, dates, percentages… */
function numberText(value: number, numFmt: string | undefined): string {
  if (!Number.isFinite(value)) return '';
  const format = numFmt?.trim() ?? '';
  if (format === '' || /^general$/i.test(format) || format === '@') return generalText(value);
  try {
    return formatWithNumFmt(DEFAULT_DATE_FORMATS.get(format) ?? format, value, { locale: 'en-US' });
  } catch {
    return generalText(value);
  }
}

/** exceljs turns date-formatted numbers into Dates (UTC); back to the serial number Excel stored. */
function dateSerial(date: Date, date1904: boolean): number {
  return date.getTime() / MS_PER_DAY + UNIX_EPOCH_SERIAL - (date1904 ? DATE_1904_OFFSET : 0);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * The text Excel shows for a cell value: numbers and dates in the cell's number format, booleans as TRUE or
 * FALSE, formulas as their last calculated result, rich text and hyperlinks as their text; errors (#N/A…)
 * and empty cells as "".
 */
export function cellText(value: CellValue | unknown, numFmt: string | undefined, date1904 = false): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return numberText(value, numFmt);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? '' : numberText(dateSerial(value, date1904), numFmt);
  }
  if (!isRecord(value)) return '';
  if (Array.isArray(value.richText)) {
    return value.richText
      .map((run: unknown) => (isRecord(run) && typeof run.text === 'string' ? run.text : ''))
      .join('');
  }
  if ('formula' in value || 'sharedFormula' in value) {
    const result = value.result;
    // A formula whose result is an error (#N/A, #REF!…) is stored with it as its value.
    return isRecord(result) && 'error' in result ? '' : cellText(result, numFmt, date1904);
  }
  if ('error' in value) return '';
  if ('text' in value) return cellText(value.text, numFmt, date1904);
  return '';
}

/** A row's cells as text, trimmed, in column order, without the empty cells after the last value. */
function rowText(row: Row, date1904: boolean): string[] {
  const cells: string[] = [];
  row.eachCell((cell, column) => {
    cells[column - 1] = cellText(cell.value, cell.numFmt, date1904).trim();
  });
  let end = cells.length;
  while (end > 0 && !cells[end - 1]) end--;
  return Array.from({ length: end }, (_, i) => cells[i] ?? '');
}

// ---------------------------------------------------------------------------------------------------------
// Inspecting and reading

/** Hashes and measures the file in one pass, failing as soon as it is over the limit. */
async function hashSource(source: FileSource, maxBytes: number): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source.open()) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buffer.length;
    if (bytes > maxBytes) throw tooLargeError(source, maxBytes);
    hash.update(buffer);
  }
  return { bytes, sha256: hash.digest('hex') };
}

function sheetList(sheets: readonly SheetInfo[]): string {
  return sheets.map((s) => `"${s.name}"${s.hidden ? ' (hidden)' : ''}`).join(', ');
}

/**
 * The worksheet to read: the one named (any case, surrounding spaces ignored), else the first one that is
 * not hidden. Throws `file-sheet-not-found` listing the sheets when the name matches none.
 */
function chooseSheet(name: string, parts: WorkbookParts, wanted: string | undefined) {
  if (wanted !== undefined) {
    const key = wanted.trim().toLowerCase();
    const found = parts.sheets.find((s) => s.name.trim().toLowerCase() === key);
    if (found) return found;
    throw new AppError(
      'file-sheet-not-found',
      `"${name}" has no sheet named "${wanted.trim()}". Its sheets are: ${sheetList(parts.sheets)}.`,
      { file: name, sheet: wanted, sheets: parts.sheets.map((s) => s.name) },
    );
  }
  // Excel always keeps one sheet visible; a workbook written otherwise is read from its first sheet.
  return parts.sheets.find((s) => !s.hidden) ?? (parts.sheets[0] as WorkbookParts['sheets'][number]);
}

/** True for "name@domain.tld"; written without a regular expression, which would backtrack on long cells. */
function looksLikeEmail(cell: string): boolean {
  const at = cell.indexOf('@');
  const dot = cell.lastIndexOf('.');
  return at > 0 && at === cell.lastIndexOf('@') && dot > at + 1 && dot < cell.length - 1 && !/\s/.test(cell);
}

const isBlank = (cells: readonly string[]) => cells.every((cell) => cell === '');

/** The header of the sheet read, checked as a text file's is: present, naming columns, not data. */
function checkHeader(
  name: string,
  sheet: string,
  sheets: string[],
  header: SheetRecord | undefined,
): string[] {
  const where = `The sheet "${sheet}" of "${name}"`;
  const example = 'for example: Email ID, First Name, Last Name';
  const others = sheets.filter((s) => s !== sheet);
  const hint =
    others.length === 0
      ? ''
      : ` The workbook's other sheets: ${others.map((s) => `"${s}"`).join(', ')}; the users may be on one of those.`;
  if (!header) {
    throw new AppError(
      'file-no-header',
      `${where} is empty. Its first row with content must name the columns, ${example}.${hint}`,
      { file: name, sheet, sheets },
    );
  }
  if (!header.cells.some((cell) => /[\p{L}\p{N}]/u.test(cell))) {
    throw new AppError(
      'file-no-header',
      `${where} has no header row: row ${header.row} names no columns. The first row with content must name ` +
        `the columns, ${example}.${hint}`,
      { file: name, sheet, sheets, row: header.row },
    );
  }
  const email = header.cells.find(looksLikeEmail);
  if (email !== undefined) {
    throw new AppError(
      'file-no-header',
      `${where} has no header row: row ${header.row} holds data ("${email}") instead of column names. Insert a ` +
        `first row naming the columns, ${example}.${hint}`,
      { file: name, sheet, sheets, row: header.row },
    );
  }
  return header.cells;
}

/**
 * Works out how to read a workbook: its size and checksum (failing with `file-too-large` over `maxBytes`, as
 * for text files), its worksheets and the one to read (`sheet`, matched in any case, else the first one not
 * hidden), and that sheet's header, its first row with content. The layout has encoding `xlsx` and no
 * delimiter.
 *
 * Throws `file-legacy-excel` for an Excel 97-2003 file, `file-password-protected` for an encrypted workbook,
 * `file-sheet-not-found` for a sheet name the workbook does not have, `file-no-header` when the sheet has no
 * header row, `file-binary` for a ZIP archive that is not a workbook and `file-unreadable` for a damaged one.
 */
export async function inspectWorkbook(
  source: FileSource,
  container: WorkbookContainer,
  options: { maxBytes: number; sheet?: string },
): Promise<WorkbookFileLayout> {
  if (source.bytes > options.maxBytes) throw tooLargeError(source, options.maxBytes);
  if (container === 'ole2') return rejectOle2(source, options.maxBytes);
  const { bytes, sha256 } = await hashSource(source, options.maxBytes);
  const parts = await readParts(source);
  partsCache.set(source, parts);
  const sheet = chooseSheet(source.name, parts, options.sheet);
  const sheets = parts.sheets.map((s) => s.name);
  let header: SheetRecord | undefined;
  for await (const record of sheetRecords(source, parts, sheet.sheetNo)) {
    if (!isBlank(record.cells)) {
      header = record;
      break; // stops reading the archive
    }
  }
  return {
    name: source.name,
    bytes,
    sha256,
    encoding: 'xlsx',
    bom: false,
    delimiter: null,
    headers: checkHeader(source.name, sheet.name, sheets, header),
    sheet: sheet.name,
    sheets,
  };
}

/**
 * Streams the data rows of the workbook's sheet `layout.sheet`, read afresh each time the result is
 * iterated: the header (its first row with content) is not returned, nor are rows without any value, and
 * `row` is the row number Excel shows. Cells are the text Excel shows, trimmed ({@link cellText}).
 */
export function readWorkbookRows(source: FileSource, layout: WorkbookFileLayout): AsyncIterable<FileRow> {
  const { sheet } = layout;
  return {
    [Symbol.asyncIterator]: async function* () {
      let parts = partsCache.get(source);
      if (!parts) {
        parts = await readParts(source);
        partsCache.set(source, parts);
      }
      const chosen = chooseSheet(source.name, parts, sheet);
      let headerSeen = false;
      for await (const record of sheetRecords(source, parts, chosen.sheetNo)) {
        if (isBlank(record.cells)) continue;
        if (!headerSeen) {
          headerSeen = true;
          continue;
        }
        yield record;
      }
    },
  };
}
