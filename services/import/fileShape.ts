import { pipeline } from 'node:stream';
import { AppError } from '../errors';
import { mapColumns, resolveField, normalizeHeader } from './columns';
import type { Delimiter } from './delimiter';
import { createDecoderStream, type TextEncoding } from './encoding';
import type { FileSource } from './fileSource';
import type { FileRow, TextFileLayout } from './userFileReader';

/**
 * How a user file lays out its values:
 * - `table`: a header line naming the columns, then one line per user (the usual CSV);
 * - `email-list`: nothing but email addresses, one per line or separated by commas, semicolons or
 *   whitespace (even all on one line), with an optional header such as "Email";
 * - `run-together`: a header and its rows all on one line (or the header, then every row on a second line),
 *   which is re-flowed into rows of the header's column count once the administrator confirms it.
 */
export type FileShape = 'table' | 'email-list' | 'run-together';

/** An email list's layout: the leading tokens that are its header ("Email", "Email Address"), skipped. */
export interface EmailListLayout {
  headerTokens: number;
  /** The header as written, or null when the list has none. */
  header: string | null;
}

/** A run-together file's layout: where the values are and how they re-flow. */
export interface RunTogetherLayout {
  /** The header's column count: every re-flowed row has this many values. */
  columns: number;
  /** Values after the header (trailing empty ones left by a final delimiter not counted). */
  values: number;
  /** Rows the values re-flow into: values / columns. */
  rows: number;
  /** True when the header is a line of its own and the rows are all on the next line. */
  headerOnOwnLine: boolean;
  /** The first re-flowed rows, values trimmed and shortened, for the administrator to check. */
  sample: string[][];
}

/** What shape detection adds to a file's layout; for a table nothing is added. */
export interface ShapedLayout {
  shape: Exclude<FileShape, 'table'>;
  headers: string[];
  emailList?: EmailListLayout;
  runTogether?: RunTogetherLayout;
}

/** Email lists are recognised from their first tokens: enough to see the pattern, cheap to look at. */
const LIST_SAMPLE_TOKENS = 50;
/** The share of those tokens that must contain an @. */
const LIST_MIN_AT_SHARE = 0.8;
/** Tokens longer than this are kept only in part (they are no address anyway), so memory stays bounded. */
const MAX_TOKEN_CHARS = 1000;
/** Cells of each line kept while looking for a run-together header and its first rows. */
const KEPT_CELLS = 1024;
/** Re-flowed rows shown to the administrator. */
export const REFLOW_SAMPLE_ROWS = 3;
const SAMPLE_CELL_CHARS = 80;
/** A byte-order mark, or a UTF-8 one misread as Windows-1252, stuck to the first value. */
const BOM_REMNANT = /^(?:\ufeff|\u00ef\u00bb\u00bf)+/;

/** Header words an email list may start with, besides the Email ID column's own names and aliases. */
const LIST_HEADERS = new Set(['emails', 'emailids', 'emailaddresses', 'mails', 'addresses']);

/** True for "name@domain.tld"; written without a regular expression, which would backtrack on long cells. */
function looksLikeEmail(cell: string): boolean {
  const value = cell.trim();
  const at = value.indexOf('@');
  const dot = value.lastIndexOf('.');
  return (
    at > 0 && at === value.lastIndexOf('@') && dot > at + 1 && dot < value.length - 1 && !/\s/.test(value)
  );
}

function isListHeader(phrase: string): boolean {
  return resolveField(phrase) === 'email' || LIST_HEADERS.has(normalizeHeader(phrase));
}

/** One token of an email list and where it is. */
export interface ListToken {
  text: string;
  /** Physical line, from 1. */
  line: number;
  /** Position among the tokens of its line, from 1. */
  item: number;
  /** True when it is the only token on its line. */
  alone: boolean;
}

function isSeparator(ch: string): boolean {
  return ch === ',' || ch === ';' || /\s/.test(ch);
}

/** Quotes and angle brackets around an address ("a@x.com", <a@x.com>) are not part of it. */
function cleanToken(token: string): string {
  return token.replace(/^["'<]+/, '').replace(/[">']+$/, '');
}

/**
 * Splits text into tokens at runs of commas, semicolons and whitespace, one chunk at a time, remembering
 * the line and the position on the line of each. A token is handed out once the next one (or the end of
 * its line) shows whether it was alone on its line. Holds at most one token of {@link MAX_TOKEN_CHARS}.
 */
export class ListTokenizer {
  private line = 1;
  private item = 0;
  private current = '';
  private inToken = false;
  private pendingCr = false;
  private held?: ListToken;

  push(chunk: string): ListToken[] {
    const out: ListToken[] = [];
    let start = -1;
    for (let i = 0; i < chunk.length; i++) {
      const ch = chunk.charAt(i);
      if (!isSeparator(ch)) {
        this.pendingCr = false;
        if (!this.inToken) {
          this.inToken = true;
          this.item++;
          // The token before this one shares the line with it, so it was not alone.
          if (this.held) {
            if (this.held.line === this.line) this.held.alone = false;
            out.push(this.held);
            this.held = undefined;
          }
        }
        if (start < 0) start = i;
        continue;
      }
      if (start >= 0) {
        this.append(chunk.slice(start, i));
        start = -1;
      }
      if (this.inToken) this.endToken();
      if (ch === '\n' || ch === '\r') {
        const crlf = ch === '\n' && this.pendingCr;
        this.pendingCr = ch === '\r';
        if (crlf) continue;
        this.newLine(out);
      } else {
        this.pendingCr = false;
      }
    }
    if (start >= 0) this.append(chunk.slice(start));
    return out;
  }

  end(): ListToken[] {
    if (this.inToken) this.endToken();
    const out: ListToken[] = [];
    if (this.held) out.push(this.held);
    this.held = undefined;
    return out;
  }

  private append(part: string): void {
    const room = MAX_TOKEN_CHARS - this.current.length;
    if (room > 0) this.current += part.slice(0, room);
  }

  private endToken(): void {
    this.inToken = false;
    const text = cleanToken(this.current);
    this.current = '';
    if (text === '') {
      this.item--;
      return;
    }
    this.held = { text, line: this.line, item: this.item, alone: this.item === 1 };
  }

  private newLine(out: ListToken[]): void {
    if (this.held) {
      out.push(this.held);
      this.held = undefined;
    }
    this.line++;
    this.item = 0;
  }
}

function tokenizeList(text: string): ListToken[] {
  const tokenizer = new ListTokenizer();
  return [...tokenizer.push(text), ...tokenizer.end()];
}

/** Where a list token is, as the administrator finds it in the file. */
export function describeListPosition(token: Pick<ListToken, 'line' | 'item' | 'alone'>): string {
  return token.alone ? `line ${token.line}` : `item ${token.item} on line ${token.line}`;
}

/**
 * Recognises an email list from the start of the file: its first {@link LIST_SAMPLE_TOKENS} tokens, after
 * an optional header ("Email", "E-mail", "Email Address", "Email ID"…), are mostly (80%) something with an
 * @ and none of them is another column's name. A first line without any @ must be such a header, or the
 * file is a table.
 */
export function detectEmailList(sample: string): EmailListLayout | undefined {
  const tokens = tokenizeList(sample);
  const first = tokens[0];
  if (!first) return undefined;
  const firstLine = tokens.filter((t) => t.line === first.line);
  let headerTokens = 0;
  if (!firstLine.some((t) => t.text.includes('@'))) {
    if (!isListHeader(firstLine.map((t) => t.text).join(' '))) return undefined;
    headerTokens = firstLine.length;
  } else {
    for (let n = Math.min(3, firstLine.length - 1); n >= 1; n--) {
      const words = firstLine.slice(0, n);
      if (words.every((t) => !t.text.includes('@')) && isListHeader(words.map((t) => t.text).join(' '))) {
        headerTokens = n;
        break;
      }
    }
  }
  const data = tokens.slice(headerTokens, headerTokens + LIST_SAMPLE_TOKENS).map((t) => t.text);
  if (data.length === 0) return undefined;
  const withAt = data.filter((t) => t.includes('@')).length;
  if (withAt < data.length * LIST_MIN_AT_SHARE) return undefined;
  if (data.some((t) => !t.includes('@') && resolveField(t) !== undefined)) return undefined;
  const header =
    headerTokens === 0
      ? null
      : tokens
          .slice(0, headerTokens)
          .map((t) => t.text)
          .join(' ');
  return { headerTokens, header };
}

/** Decodes the file and hands out its text a chunk at a time; the file is closed if the reader stops early. */
async function* decodedChunks(source: FileSource, encoding: TextEncoding): AsyncGenerator<string> {
  const text = createDecoderStream(encoding);
  // A read error destroys `text` and surfaces in the loop below, so the callback has nothing left to do.
  pipeline(source.open(), text, () => undefined);
  try {
    for await (const chunk of text as AsyncIterable<string>) yield chunk as string;
  } finally {
    text.destroy();
  }
}

/**
 * The addresses of an email list, one row each, read as a stream. Row numbers are line numbers as long as
 * each line holds one address (the header's line and blank lines count, as in a table); every further
 * address on a line takes the next number, so numbers stay unique and in order. An address whose row
 * number is not its line number carries `where` ("item 7 on line 3", or "line 9" further down).
 */
export async function* readEmailList(source: FileSource, layout: TextFileLayout): AsyncGenerator<FileRow> {
  const skip = layout.emailList?.headerTokens ?? 0;
  const tokenizer = new ListTokenizer();
  let seen = 0;
  let row = 0;
  let lastLine = 0;
  function* rows(tokens: ListToken[]): Generator<FileRow> {
    for (const token of tokens) {
      if (seen++ < skip) continue;
      // Lines without an address (the header's, blank ones) since the last address count as rows.
      if (token.line > lastLine) row += token.line - lastLine - 1;
      lastLine = token.line;
      row++;
      const located = token.alone && row === token.line;
      yield { row, cells: [token.text], ...(located ? {} : { where: describeListPosition(token) }) };
    }
  }
  for await (const chunk of decodedChunks(source, layout.encoding)) yield* rows(tokenizer.push(chunk));
  yield* rows(tokenizer.end());
}

/** A value of a delimited file, and whether it ends its record (line). */
interface Cell {
  value: string;
  endsRecord: boolean;
}

/** Raised when the file ends inside a quoted value. */
class UnclosedQuote extends Error {}

/**
 * Splits delimited text into values one chunk at a time, with RFC 4180 quoting as papaparse reads it: a
 * value that starts with a double quote runs to the matching closing quote, across delimiters and line
 * breaks ("" inside is a quote), and what follows the closing quote up to the delimiter is kept. Unlike
 * papaparse's record parser, it never holds more than one value, so a file whose rows are all on one line
 * streams with bounded memory. CRLF and CR line ends count as LF, inside quotes too.
 */
class CellTokenizer {
  private value = '';
  private inQuotes = false;
  private quoteSeen = false;
  private fieldStart = true;
  private pendingCr = false;
  /** Something (a value or a delimiter) is on the current line. */
  private lineHasContent = false;

  constructor(private readonly delimiter: Delimiter) {}

  push(chunk: string): Cell[] {
    const out: Cell[] = [];
    for (let i = 0; i < chunk.length; i++) {
      let ch = chunk.charAt(i);
      if (this.pendingCr) {
        this.pendingCr = false;
        if (ch === '\n') continue;
      }
      if (ch === '\r') {
        this.pendingCr = true;
        ch = '\n';
      }
      if (this.inQuotes) {
        if (ch === '"') {
          if (chunk.charAt(i + 1) === '"') {
            this.value += '"';
            i++;
          } else if (i + 1 === chunk.length) {
            // A quote at the end of a chunk: the next chunk says whether it is doubled.
            this.quoteSeen = true;
            this.inQuotes = false;
          } else {
            this.inQuotes = false;
          }
        } else {
          this.value += ch;
        }
        continue;
      }
      if (this.quoteSeen) {
        this.quoteSeen = false;
        if (ch === '"') {
          this.value += '"';
          this.inQuotes = true;
          continue;
        }
      }
      if (ch === this.delimiter) {
        out.push({ value: this.value, endsRecord: false });
        this.value = '';
        this.fieldStart = true;
        this.lineHasContent = true;
      } else if (ch === '\n') {
        if (this.lineHasContent || this.value !== '') out.push({ value: this.value, endsRecord: true });
        this.value = '';
        this.fieldStart = true;
        this.lineHasContent = false;
      } else if (ch === '"' && this.fieldStart) {
        this.inQuotes = true;
        this.fieldStart = false;
        this.lineHasContent = true;
      } else {
        this.value += ch;
        this.fieldStart = false;
        this.lineHasContent = true;
      }
    }
    return out;
  }

  end(): Cell[] {
    if (this.inQuotes) throw new UnclosedQuote();
    if (!this.lineHasContent && this.value === '') return [];
    const last = { value: this.value, endsRecord: true };
    this.value = '';
    this.lineHasContent = false;
    return [last];
  }
}

async function* cellsOf(
  chunks: AsyncIterable<string> | Iterable<string>,
  delimiter: Delimiter,
): AsyncGenerator<Cell> {
  const tokenizer = new CellTokenizer(delimiter);
  for await (const chunk of chunks) yield* tokenizer.push(chunk);
  yield* tokenizer.end();
}

function unclosedQuote(name: string): AppError {
  return new AppError(
    'file-unreadable',
    `"${name}" opens a quoted value with a double quote (") that is never closed, so the rest of the file ` +
      'would be read as that one value. Add the missing closing quote, or remove the stray quote, and upload ' +
      'the file again.',
    { file: name },
  );
}

/** What a look at a line (record) of the file keeps: how many values, the first ones, and which are blank. */
interface RecordSummary {
  count: number;
  /** The first {@link KEPT_CELLS} values. */
  cells: string[];
  /** Values that look like an email address. */
  emails: number;
  /** How many values at its end are blank. */
  trailingBlank: number;
}

/**
 * Summarises the file's first lines with content, stopping as soon as a third one starts: a run-together
 * file has one or two lines, and a table is given up on after reading three.
 */
async function scanRecords(
  chunks: AsyncIterable<string> | Iterable<string>,
  delimiter: Delimiter,
): Promise<{ records: RecordSummary[]; more: boolean }> {
  const records: RecordSummary[] = [];
  let current: RecordSummary = { count: 0, cells: [], emails: 0, trailingBlank: 0 };
  let blank = true;
  for await (const cell of cellsOf(chunks, delimiter)) {
    current.count++;
    if (current.cells.length < KEPT_CELLS) current.cells.push(cell.value);
    if (cell.value.trim() === '') current.trailingBlank++;
    else {
      blank = false;
      current.trailingBlank = 0;
      if (looksLikeEmail(cell.value)) current.emails++;
    }
    if (!cell.endsRecord) continue;
    if (!blank) {
      if (records.length === 2) return { records, more: true };
      records.push(current);
    }
    current = { count: 0, cells: [], emails: 0, trailingBlank: 0 };
    blank = true;
  }
  return { records, more: false };
}

const trimHeader = (cell: string, i: number) => (i === 0 ? cell.replace(BOM_REMNANT, '') : cell).trim();

/** The header at the start of a one-line file: it ends where the first row's email address starts. */
function leadingHeader(cells: string[]): string[] | undefined {
  const firstEmail = cells.findIndex(looksLikeEmail);
  for (let width = 2; width <= firstEmail; width++) {
    const header = cells.slice(0, width).map(trimHeader);
    const email = mapColumns(header).columns.email;
    if (email && width + email.index === firstEmail) return header;
  }
  return undefined;
}

function sampleRows(values: string[], columns: number): string[][] {
  const rows: string[][] = [];
  for (let start = 0; rows.length < REFLOW_SAMPLE_ROWS && start + columns <= values.length; start += columns)
    rows.push(
      values
        .slice(start, start + columns)
        .map((v) =>
          v.trim().length > SAMPLE_CELL_CHARS ? `${v.trim().slice(0, SAMPLE_CELL_CHARS - 1)}…` : v.trim(),
        ),
    );
  return rows;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Why values that do not fill whole rows cannot be re-flowed, with the numbers. */
function misfitError(name: string, values: number, columns: number): AppError {
  const fewer = Math.floor(values / columns);
  const options =
    fewer === 0
      ? `1 row would need ${columns}`
      : `${plural(fewer, 'row')} would need ${fewer * columns}, ${fewer + 1} rows ${(fewer + 1) * columns}`;
  return new AppError(
    'file-run-together',
    `"${name}" has its rows run together on one line, and they cannot be told apart: the line has ` +
      `${values} values after the ${columns}-column header; ${values} is not a multiple of ${columns} ` +
      `(${options}), so I cannot tell where rows end. A value is probably missing or extra: put each user on ` +
      'a line of its own (or fix the count) and upload the file again.',
    { file: name, values, columns },
  );
}

/**
 * Recognises a file whose rows are run together on one line: either one line holding the header and then
 * its rows, or a header line followed by one line holding several rows. The values after the header must
 * fill whole rows of the header's width; when they do not, the file is refused with the numbers
 * (AppError `file-run-together`), since any guess would import garbage.
 */
async function detectRunTogether(
  source: FileSource,
  encoding: TextEncoding,
  sample: string,
  delimiter: Delimiter,
): Promise<ShapedLayout | undefined> {
  // The start of the file rules out the usual table cheaply; only one or two lines are read in full.
  try {
    if ((await scanRecords([sample], delimiter)).more) return undefined;
  } catch (err) {
    // The sample may end inside a quoted value that goes on: the whole file tells.
    if (!(err instanceof UnclosedQuote)) throw err;
  }
  let scan;
  try {
    scan = await scanRecords(decodedChunks(source, encoding), delimiter);
  } catch (err) {
    // The table reader explains unclosed quotes with their row.
    if (err instanceof UnclosedQuote) return undefined;
    throw err;
  }
  if (scan.more) return undefined;
  const [first, second] = scan.records;
  if (!first) return undefined;
  let headers: string[];
  let values: number;
  let trailingBlank: number;
  let rowValues: string[];
  if (!second) {
    const header = leadingHeader(first.cells);
    if (!header) return undefined;
    headers = header;
    values = first.count - header.length;
    trailingBlank = first.trailingBlank;
    rowValues = first.cells.slice(header.length);
  } else {
    headers = first.cells.map(trimHeader);
    if (headers.length < 2 || first.count > KEPT_CELLS) return undefined;
    // One data line with the header's width (give or take a stray delimiter) is an ordinary table.
    if (second.emails < 2 || second.count < 2 * headers.length - 1) return undefined;
    if (!mapColumns(headers).columns.email) return undefined;
    values = second.count;
    trailingBlank = second.trailingBlank;
    rowValues = second.cells;
  }
  const columns = headers.length;
  if (values === 0) return undefined;
  // A delimiter after the last value leaves empty values that belong to no row.
  const extra = values % columns;
  if (extra !== 0 && trailingBlank >= extra && values - extra > 0) values -= extra;
  else if (extra !== 0) throw misfitError(source.name, values, columns);
  return {
    shape: 'run-together',
    headers,
    runTogether: {
      columns,
      values,
      rows: values / columns,
      headerOnOwnLine: second !== undefined,
      sample: sampleRows(rowValues, columns),
    },
  };
}

/**
 * Looks at the start of a file (its decoded `sample`, the first 64 KB) for the shapes other than a table:
 * an email list first, then rows run together on one line. Returns undefined for a table, which is read
 * as before. An email list is decided from the sample alone; a run-together file, which has one or two
 * lines, is read through once to count its values, with bounded memory.
 */
export async function detectShape(
  source: FileSource,
  encoding: TextEncoding,
  sample: string,
  delimiter: Delimiter,
): Promise<ShapedLayout | undefined> {
  const list = detectEmailList(sample);
  if (list) return { shape: 'email-list', headers: [list.header ?? 'Email'], emailList: list };
  return detectRunTogether(source, encoding, sample, delimiter);
}

/**
 * The values of the lines with content: a line of nothing but blanks and delimiters (the ",,," Excel leaves
 * behind) gives none. Blank values at the start of a line are held back until a value with content shows
 * the line is not blank; after that every value of the line is handed out.
 */
async function* contentCells(cells: AsyncIterable<Cell>): AsyncGenerator<Cell> {
  let held = 0;
  let lineHasContent = false;
  for await (const cell of cells) {
    if (!lineHasContent && cell.value.trim() === '') {
      held = cell.endsRecord ? 0 : held + 1;
      continue;
    }
    if (!lineHasContent) {
      lineHasContent = true;
      for (; held > 0; held--) yield { value: '', endsRecord: false };
    }
    yield cell;
    if (cell.endsRecord) lineHasContent = false;
  }
}

/**
 * The rows of a run-together file, re-flowed: the values after the header, `columns` at a time, numbered
 * from 2 as a spreadsheet would show them once re-flowed (the header is row 1). Blank lines are skipped,
 * and so are the empty values a final delimiter leaves.
 */
export async function* readReflowedRows(source: FileSource, layout: TextFileLayout): AsyncGenerator<FileRow> {
  const shape = layout.runTogether;
  if (!shape) throw new Error('readReflowedRows needs a run-together layout');
  const { columns } = shape;
  let inHeaderLine = shape.headerOnOwnLine;
  let headerLeft = shape.headerOnOwnLine ? 0 : columns;
  let values: string[] = [];
  let row = 1;
  try {
    for await (const cell of contentCells(
      cellsOf(decodedChunks(source, layout.encoding), layout.delimiter),
    )) {
      if (inHeaderLine) {
        if (cell.endsRecord) inHeaderLine = false;
        continue;
      }
      if (headerLeft > 0) {
        headerLeft--;
        continue;
      }
      values.push(cell.value);
      if (values.length < columns) continue;
      row++;
      const cells = values;
      values = [];
      if (cells.some((c) => c.trim() !== '')) yield { row, cells };
    }
  } catch (err) {
    if (err instanceof UnclosedQuote) throw unclosedQuote(layout.name);
    throw err;
  }
}
