import { pipeline, Transform, type TransformCallback } from 'node:stream';
import Papa from 'papaparse';
import { AppError } from '../errors';
import { detectDelimiter, type Delimiter } from './delimiter';
import { createDecoderStream, detectEncoding, type TextEncoding } from './encoding';
import type { FileSource } from './fileSource';
import { inspectWorkbook, readWorkbookRows, workbookContainer } from './workbookReader';
import {
  detectShape,
  readEmailList,
  readReflowedRows,
  type EmailListLayout,
  type FileShape,
  type RunTogetherLayout,
} from './fileShape';

/** Everything needed to read a user file's rows, found by {@link inspectUserFile}: a text file or a workbook. */
export type FileLayout = TextFileLayout | WorkbookFileLayout;

/** A text file's layout (CSV, TXT). */
export interface TextFileLayout {
  name: string;
  bytes: number;
  sha256: string;
  encoding: TextEncoding;
  bom: boolean;
  delimiter: Delimiter;
  /** The header record's cells, trimmed, in file order (empty strings for empty header cells). */
  headers: string[];
  /** How the values are laid out ({@link detectShape}); absent: 'table'. */
  shape?: FileShape;
  /** For an email list: the header tokens to skip. */
  emailList?: EmailListLayout;
  /** For rows run together on one line: how they re-flow. */
  runTogether?: RunTogetherLayout;
  sheet?: undefined;
  sheets?: undefined;
}

/** An Excel workbook's layout (see `workbookReader.ts`): one worksheet is read, like a table. */
export interface WorkbookFileLayout {
  name: string;
  bytes: number;
  sha256: string;
  encoding: 'xlsx';
  bom: false;
  delimiter: null;
  /** The header row's cells, as Excel shows them, trimmed, in column order. */
  headers: string[];
  /** The worksheet read. */
  sheet: string;
  /** Every worksheet of the workbook, in workbook order. */
  sheets: string[];
  shape?: undefined;
  emailList?: undefined;
  runTogether?: undefined;
}

/** One data record: `row` is the row number a spreadsheet shows for it (the header is row 1). */
export interface FileRow {
  row: number;
  cells: string[];
  /** Where the row is when its number alone does not say (an email list's "item 7 on line 3"). */
  where?: string;
}

/** How much decoded text the delimiter and header are worked out from. */
const SAMPLE_CHARS = 64 * 1024;
/** A byte-order mark, or a UTF-8 one misread as Windows-1252, stuck to the first header. */
const BOM_REMNANT = /^(?:\ufeff|\u00ef\u00bb\u00bf)+/;

/**
 * Turns CRLF and lone CR line ends into LF. Papaparse splits records on one line end per input, while
 * files mix them (rows appended on another system) or use old Mac CRs; after this, LF is the only one.
 * Line breaks inside quoted values become LF too. A CR at the end of a chunk is held back in case an LF
 * follows it.
 */
class LineEndNormalizer extends Transform {
  private pendingCr = false;

  constructor() {
    super({ objectMode: true });
  }

  override _transform(chunk: string, _encoding: BufferEncoding, callback: TransformCallback): void {
    let text = this.pendingCr ? `\r${chunk}` : chunk;
    this.pendingCr = text.endsWith('\r');
    if (this.pendingCr) text = text.slice(0, -1);
    if (text !== '') this.push(normalizeLineEnds(text));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pendingCr) this.push('\n');
    callback();
  }
}

function normalizeLineEnds(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** True for "name@domain.tld"; written without a regular expression, which would backtrack on long cells. */
function looksLikeEmail(cell: string): boolean {
  const at = cell.indexOf('@');
  const dot = cell.lastIndexOf('.');
  return at > 0 && at === cell.lastIndexOf('@') && dot > at + 1 && dot < cell.length - 1 && !/\s/.test(cell);
}

function isBlankRecord(cells: readonly string[]): boolean {
  return cells.every((cell) => cell.trim() === '');
}

/**
 * The first `SAMPLE_CHARS` of decoded text, cut back to the last line break when the file goes on, so the
 * sample holds only whole lines.
 */
async function readSample(source: FileSource, encoding: TextEncoding): Promise<string> {
  const text = createDecoderStream(encoding);
  // A read error destroys `text` and surfaces in the loop below, so the callback has nothing left to do.
  pipeline(source.open(), text, () => undefined);
  const parts: string[] = [];
  let length = 0;
  let truncated = false;
  for await (const part of text as AsyncIterable<string>) {
    parts.push(part);
    length += part.length;
    if (length >= SAMPLE_CHARS) {
      truncated = true;
      break; // destroys the decoder and, through the pipeline, the file stream
    }
  }
  const sample = normalizeLineEnds(parts.join(''));
  if (!truncated) return sample;
  const lastBreak = sample.lastIndexOf('\n');
  return lastBreak > 0 ? sample.slice(0, lastBreak + 1) : sample;
}

function noHeaderError(name: string, message: string): AppError {
  return new AppError('file-no-header', message, { file: name });
}

/** The header: the first record with any content, trimmed, without a byte-order mark stuck to it. */
function parseHeader(name: string, sample: string, delimiter: Delimiter): string[] {
  const parsed = Papa.parse<string[]>(sample, {
    delimiter,
    quoteChar: '"',
    newline: '\n',
    header: false,
  });
  const records = parsed.data;
  const record = records.find((cells) => !isBlankRecord(cells));
  if (!record) {
    throw noHeaderError(
      name,
      `"${name}" has no header row: its first lines are empty. The first line must name the columns, ` +
        `for example: Email ID,First Name,Last Name.`,
    );
  }
  // A quote opened in the header and never closed swallows the rest of the sample into one "header" cell;
  // say so plainly instead of echoing the file's data back as column names.
  const headerIndex = records.indexOf(record);
  if (
    parsed.errors.some((e) => e.code === 'MissingQuotes' && (e.row === undefined || e.row === headerIndex))
  ) {
    throw new AppError(
      'file-unreadable',
      `Row 1 of "${name}" (the header) opens a quoted value with a double quote (") that is never closed, ` +
        'so the rest of the file would be read as that one value. Add the missing closing quote, or remove ' +
        'the stray quote, and upload the file again.',
      { file: name, row: 1 },
    );
  }
  const headers = record.map((cell, i) => (i === 0 ? cell.replace(BOM_REMNANT, '') : cell).trim());
  if (!headers.some((cell) => /[\p{L}\p{N}]/u.test(cell))) {
    throw noHeaderError(
      name,
      `"${name}" has no header row: its first line names no columns. The first line must name the ` +
        `columns, for example: Email ID,First Name,Last Name.`,
    );
  }
  const email = headers.find(looksLikeEmail);
  if (email !== undefined) {
    throw noHeaderError(
      name,
      `"${name}" has no header row: its first line holds data ("${email}") instead of column names. ` +
        `Add a first line naming the columns, for example: Email ID,First Name,Last Name.`,
    );
  }
  return headers;
}

/**
 * Works out how to read a user file: one full pass for encoding, size and checksum (see
 * {@link detectEncoding}), then a look at its first 64 KB for the delimiter and the header record.
 *
 * Throws {@link AppError} `file-no-header` when the file has no record with content or its first record
 * is plainly data, `file-run-together` when its rows run together on one line in a count of values that
 * does not fill whole rows, besides the errors of {@link detectEncoding}.
 *
 * A workbook (an .xlsx, or an OLE2 file: .xls or password-protected), which {@link detectEncoding} recognises
 * by its first bytes and refuses as text, is left to {@link inspectWorkbook}, which reads the worksheet `options.sheet` or the first visible one.
 * Naming a sheet for a text file is `option-invalid`.
 */
export async function inspectUserFile(
  source: FileSource,
  options: { maxBytes: number; sheet?: string },
): Promise<FileLayout> {
  let info;
  try {
    info = await detectEncoding(source, options.maxBytes);
  } catch (err) {
    // Workbooks are recognised by their signature, whatever the file is called, and read as workbooks.
    const container = workbookContainer(err);
    if (!container) throw err;
    return inspectWorkbook(source, container, options);
  }
  if (options.sheet !== undefined) {
    throw new AppError(
      'option-invalid',
      `"${source.name}" is a text file, not an Excel workbook, so it has no sheet "${options.sheet}" to choose.`,
      { file: source.name },
    );
  }
  const sample = await readSample(source, info.encoding);
  const delimiter = detectDelimiter(sample);
  // An email list or rows run together on one line are recognised before a header is looked for.
  const shaped = await detectShape(source, info.encoding, sample, delimiter);
  const headers = shaped?.headers ?? parseHeader(source.name, sample, delimiter);
  return {
    name: source.name,
    bytes: info.bytes,
    sha256: info.sha256,
    encoding: info.encoding,
    bom: info.bom,
    delimiter,
    headers,
    ...(shaped ? { ...shaped, headers } : {}),
  };
}

/** What papaparse's core parser returns for one piece of text (its typings leave it untyped). */
interface ParsedText {
  data: string[][];
  errors: { code: string }[];
  meta: { cursor: number };
}

/** Raised by {@link parseRecords} when the file ends inside a quoted value. */
class UnclosedQuote extends Error {}

/**
 * Parses decoded text into records, one chunk at a time, with papaparse's core parser: each round parses
 * the unfinished record left from the last round plus the new chunk, keeps the complete records and
 * carries the unfinished one forward. Pulling chunks only as records are consumed is what keeps memory
 * flat. (Papaparse's own NODE_STREAM_INPUT duplex also applies backpressure, but pauses its parser every
 * 16 records when read by an async iterator, which made it about 15 times slower.)
 */
async function* parseRecords(chunks: AsyncIterable<string>, delimiter: Delimiter): AsyncGenerator<string[]> {
  const parser = new Papa.Parser({ delimiter, quoteChar: '"', newline: '\n' });
  let pending = '';
  for await (const chunk of chunks) {
    pending += chunk;
    // Records end at line breaks, so a chunk without one cannot complete any.
    if (!chunk.includes('\n')) continue;
    const parsed = parser.parse(pending, 0, true) as ParsedText;
    pending = pending.slice(parsed.meta.cursor);
    yield* parsed.data;
  }
  if (pending === '') return;
  const parsed = parser.parse(pending, 0, false) as ParsedText;
  if (!parsed.errors.some((e) => e.code === 'MissingQuotes')) {
    yield* parsed.data;
    return;
  }
  // The unclosed record is the last one; papaparse would return it holding the rest of the file.
  yield* parsed.data.slice(0, -1);
  throw new UnclosedQuote();
}

async function* iterateRows(source: FileSource, layout: TextFileLayout): AsyncGenerator<FileRow> {
  const text = new LineEndNormalizer();
  // A read error destroys `text` and surfaces in the loop below, so the callback has nothing left to do.
  pipeline(source.open(), createDecoderStream(layout.encoding), text, () => undefined);
  let row = 0;
  let headerSeen = false;
  try {
    for await (const record of parseRecords(text as AsyncIterable<string>, layout.delimiter)) {
      row++;
      if (isBlankRecord(record)) continue;
      if (!headerSeen) {
        headerSeen = true;
        continue;
      }
      yield { row, cells: record };
    }
  } catch (err) {
    if (!(err instanceof UnclosedQuote)) throw err;
    throw new AppError(
      'file-unreadable',
      `Row ${row + 1} of "${layout.name}" opens a quoted value with a double quote (") that is never closed, ` +
        `so the rest of the file would be read as that one value. Add the missing closing quote, or remove ` +
        `the stray quote, and upload the file again.`,
      { file: layout.name, row: row + 1 },
    );
  } finally {
    // A consumer that stops early must not leave the file open.
    text.destroy();
  }
}

/**
 * Streams the data records of the file, in file order, read afresh each time the result is iterated. The
 * header is the first record with content, as {@link inspectUserFile} found it, and is not returned.
 *
 * Row numbers are those a spreadsheet shows: a record whose quoted values span several lines is one row,
 * and blank records (nothing but spaces and delimiters, such as the ",,," Excel leaves behind) are not
 * returned but still counted. Cells are returned as parsed, untrimmed, with line breaks inside quoted
 * values as "\n".
 *
 * Throws {@link AppError} `file-unreadable` when the file ends inside a quoted value (a stray or unclosed
 * double quote), after returning the rows before it, since everything after the quote would be lost.
 *
 * An email list gives one row per address ({@link readEmailList}), a run-together file its re-flowed rows
 * ({@link readReflowedRows}).
 */
export function readRows(source: FileSource, layout: FileLayout): AsyncIterable<FileRow> {
  if (layout.encoding === 'xlsx') return readWorkbookRows(source, layout);
  if (layout.shape === 'email-list') return { [Symbol.asyncIterator]: () => readEmailList(source, layout) };
  if (layout.shape === 'run-together')
    return { [Symbol.asyncIterator]: () => readReflowedRows(source, layout) };
  return { [Symbol.asyncIterator]: () => iterateRows(source, layout) };
}
