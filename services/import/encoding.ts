import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { TextDecoder } from 'node:util';
import { AppError } from '../errors';
import type { FileSource } from './fileSource';

/** The text encodings user files arrive in: UTF-8, Excel's "Unicode Text" (UTF-16) and legacy Windows ANSI. */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252';

/** What one pass over a file's bytes found out. */
export interface EncodingInfo {
  encoding: TextEncoding;
  /** True when the file starts with a byte-order mark (which the decoder drops). */
  bom: boolean;
  /** Hex sha256 of the raw bytes, so an import can tell whether the same file was uploaded again. */
  sha256: string;
  bytes: number;
}

/** Enough for the longest signature and for a reliable guess at UTF-16 written without a byte-order mark. */
const HEAD_BYTES = 1024;
/** Control characters are counted only at the start: binary formats show themselves early. */
const CONTROL_SNIFF_CHARS = 64 * 1024;
/** Real text files have essentially no control characters besides tabs and line breaks. */
const MAX_CONTROL_RATIO = 0.1;
const MIB = 1024 * 1024;
/** How a UTF-8 byte-order mark looks once decoded as Windows-1252. */
const UTF8_BOM_AS_WINDOWS_1252 = '\u00ef\u00bb\u00bf';
const SAVE_AS_CSV =
  'choose File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)", and upload the saved .csv file';

const BOMS: ReadonlyArray<{ bytes: number[]; encoding: TextEncoding }> = [
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bytes: [0xff, 0xfe], encoding: 'utf-16le' },
  { bytes: [0xfe, 0xff], encoding: 'utf-16be' },
];

const SIGNATURES: ReadonlyArray<{ bytes: number[]; kind: string; message: (name: string) => string }> = [
  {
    bytes: [0x50, 0x4b, 0x03, 0x04],
    kind: 'zip',
    message: (name) =>
      `"${name}" is an Excel workbook (.xlsx) or another ZIP archive, not a CSV or text file. ` +
      `Open it in Excel, ${SAVE_AS_CSV}.`,
  },
  {
    bytes: [0x50, 0x4b, 0x05, 0x06],
    kind: 'zip',
    message: (name) =>
      `"${name}" is an empty ZIP archive, not a CSV or text file. Upload the user list as a .csv file.`,
  },
  {
    bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    kind: 'ole2',
    message: (name) =>
      `"${name}" is an Excel 97-2003 workbook (.xls) or another Office document, not a CSV or text file. ` +
      `Open it in Excel, ${SAVE_AS_CSV}.`,
  },
  {
    bytes: [0x25, 0x50, 0x44, 0x46, 0x2d],
    kind: 'pdf',
    message: (name) =>
      `"${name}" is a PDF document, not a CSV or text file. Export the user list as CSV from the spreadsheet ` +
      `or system it came from, and upload that file.`,
  },
  { bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], kind: 'png', message: imageMessage('PNG') },
  { bytes: [0x47, 0x49, 0x46, 0x38, 0x37, 0x61], kind: 'gif', message: imageMessage('GIF') },
  { bytes: [0x47, 0x49, 0x46, 0x38, 0x39, 0x61], kind: 'gif', message: imageMessage('GIF') },
  { bytes: [0xff, 0xd8, 0xff], kind: 'jpeg', message: imageMessage('JPEG') },
];

function imageMessage(format: string): (name: string) => string {
  return (name) =>
    `"${name}" is a ${format} image, not a CSV or text file. Upload the user list as a .csv or .txt file.`;
}

function startsWith(buffer: Buffer, bytes: number[]): boolean {
  return buffer.length >= bytes.length && bytes.every((b, i) => buffer[i] === b);
}

function formatMegabytes(bytes: number): string {
  const mb = bytes / MIB;
  return String(Number(mb >= 1 ? mb.toFixed(1) : mb.toPrecision(2)));
}

function isUtf16(encoding: TextEncoding): boolean {
  return encoding === 'utf-16le' || encoding === 'utf-16be';
}

/**
 * Recognises UTF-16 saved without a byte-order mark by its pattern of zero bytes; left undetected, such a
 * file would be rejected as binary because of those zeros.
 */
function guessBomlessUtf16(head: Buffer): TextEncoding | undefined {
  const pairs = Math.floor(Math.min(head.length, HEAD_BYTES) / 2);
  if (pairs < 2) return undefined;
  let little = 0;
  let big = 0;
  for (let i = 0; i < pairs; i++) {
    const first = head[2 * i];
    const second = head[2 * i + 1];
    if (first !== 0 && second === 0) little++;
    else if (first === 0 && second !== 0) big++;
  }
  if (little >= pairs / 2 && big * 10 <= little) return 'utf-16le';
  if (big >= pairs / 2 && little * 10 <= big) return 'utf-16be';
  return undefined;
}

/** Control characters other than tab, line feed, vertical tab, form feed and carriage return. */
function isControl(code: number): boolean {
  return (code < 0x20 && (code < 0x09 || code > 0x0d)) || (code >= 0x7f && code <= 0x9f);
}

function binaryError(name: string, kind: string, message?: string): AppError {
  return new AppError(
    'file-binary',
    message ??
      `"${name}" contains binary data, so it is not a CSV or text file. Upload the user list saved as CSV ` +
        `(in Excel: File > Save As > "CSV UTF-8 (Comma delimited) (*.csv)").`,
    { file: name, kind },
  );
}

/**
 * Follows the bytes of one file as they stream past and decides its encoding, rejecting binary and empty
 * files as early as it can tell.
 */
class ContentSniffer {
  private head: Buffer[] = [];
  private headBytes = 0;
  private encoding: TextEncoding | undefined;
  private bom = false;
  private decoder: TextDecoder | undefined;
  /** The last bytes seen, re-read as Windows-1252 if UTF-8 turns out invalid while they were still pending. */
  private tail = Buffer.alloc(0);
  private sawText = false;
  private sniffedChars = 0;
  private controlChars = 0;

  constructor(private readonly name: string) {}

  push(chunk: Buffer): void {
    if (this.encoding !== undefined) {
      this.inspect(chunk);
      return;
    }
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes >= HEAD_BYTES) this.decideFromHead();
  }

  finish(bytes: number): { encoding: TextEncoding; bom: boolean } {
    if (this.encoding === undefined) this.decideFromHead();
    this.account(this.decode(undefined));
    if (bytes === 0) {
      throw new AppError(
        'file-empty',
        `"${this.name}" is empty (0 bytes). Save the user list again, check that it has rows, and upload it.`,
        { file: this.name },
      );
    }
    if (!this.sawText) {
      throw new AppError(
        'file-empty',
        `"${this.name}" has no content: it holds only blank lines, spaces or a byte-order mark. ` +
          `Upload a file with a header row and one row per user.`,
        { file: this.name },
      );
    }
    this.checkControlRatio();
    return { encoding: this.encoding ?? 'utf-8', bom: this.bom };
  }

  private decideFromHead(): void {
    const head = Buffer.concat(this.head);
    this.head = [];
    const signature = SIGNATURES.find((s) => startsWith(head, s.bytes));
    if (signature) throw binaryError(this.name, signature.kind, signature.message(this.name));
    const bom = BOMS.find((b) => startsWith(head, b.bytes));
    this.bom = bom !== undefined;
    this.encoding = bom?.encoding ?? guessBomlessUtf16(head) ?? 'utf-8';
    // Only UTF-8 is a guess to be proven; ignoreBOM=false makes every decoder drop its own byte-order mark.
    this.decoder = new TextDecoder(this.encoding, { fatal: this.encoding === 'utf-8' });
    this.inspect(head);
  }

  private inspect(chunk: Buffer): void {
    if (!isUtf16(this.encoding ?? 'utf-8') && chunk.includes(0)) throw binaryError(this.name, 'nul');
    this.account(this.decode(chunk));
    this.tail =
      chunk.length >= 3 ? Buffer.from(chunk.subarray(-3)) : Buffer.concat([this.tail, chunk]).subarray(-3);
  }

  private decode(chunk: Buffer | undefined): string {
    if (!this.decoder) return '';
    try {
      return chunk ? this.decoder.decode(chunk, { stream: true }) : this.decoder.decode();
    } catch {
      // Only the strict UTF-8 decoder throws: the file is legacy Windows text, so read on as Windows-1252.
      this.encoding = 'windows-1252';
      this.decoder = new TextDecoder('windows-1252');
      return this.decoder.decode(chunk ? Buffer.concat([this.tail, chunk]) : this.tail, { stream: true });
    }
  }

  private account(text: string): void {
    if (!this.sawText && /\S/.test(text)) this.sawText = true;
    if (this.sniffedChars >= CONTROL_SNIFF_CHARS) return;
    const end = Math.min(text.length, CONTROL_SNIFF_CHARS - this.sniffedChars);
    for (let i = 0; i < end; i++) {
      if (isControl(text.charCodeAt(i))) this.controlChars++;
    }
    this.sniffedChars += end;
    if (this.sniffedChars >= CONTROL_SNIFF_CHARS) this.checkControlRatio();
  }

  private checkControlRatio(): void {
    if (this.sniffedChars > 0 && this.controlChars / this.sniffedChars > MAX_CONTROL_RATIO) {
      throw binaryError(this.name, 'control-characters');
    }
  }
}

/** The error for a file over the size limit, naming the limit (and the file's size when it is known). */
export function tooLargeError(source: Pick<FileSource, 'name' | 'bytes'>, maxBytes: number): AppError {
  const limit = formatMegabytes(maxBytes);
  const size = formatMegabytes(source.bytes);
  const sizeText = source.bytes > maxBytes && size !== limit ? ` (it is ${size} MB)` : '';
  return new AppError(
    'file-too-large',
    `"${source.name}" is larger than the ${limit} MB limit${sizeText}. Split the users into smaller files ` +
      `of at most ${limit} MB, each with the header row, and import them one after another.`,
    { file: source.name, maxBytes },
  );
}

/**
 * Reads the file once, computing its sha256 and size and deciding its encoding: a byte-order mark wins;
 * otherwise the bytes must be valid UTF-8, failing which they are taken as Windows-1252.
 *
 * Throws {@link AppError} `file-too-large` as soon as more than `maxBytes` have been read, `file-binary`
 * for spreadsheets, documents, images and other non-text data, and `file-empty` when there is nothing but
 * whitespace.
 */
export async function detectEncoding(source: FileSource, maxBytes: number): Promise<EncodingInfo> {
  if (source.bytes > maxBytes) throw tooLargeError(source, maxBytes);
  const hash = createHash('sha256');
  const sniffer = new ContentSniffer(source.name);
  let bytes = 0;
  // Leaving this loop early (by throwing) destroys the stream, so an oversized file is not read to its end.
  for await (const chunk of source.open()) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    bytes += buffer.length;
    if (bytes > maxBytes) throw tooLargeError(source, maxBytes);
    hash.update(buffer);
    sniffer.push(buffer);
  }
  const { encoding, bom } = sniffer.finish(bytes);
  return { encoding, bom, sha256: hash.digest('hex'), bytes };
}

/**
 * Decodes bytes into text. Drops a leading byte-order mark, and carries over the bytes of a character split
 * between two chunks so it is decoded whole.
 */
class DecoderStream extends Transform {
  private readonly decoder: TextDecoder;
  /** Start of the text held back until it is long enough to tell whether it is a misread UTF-8 BOM. */
  private start: string | undefined;

  constructor(encoding: TextEncoding) {
    super({ readableObjectMode: true });
    this.decoder = new TextDecoder(encoding);
    // A Windows-1252 file can start with a UTF-8 BOM when it was saved as UTF-8 and then edited as ANSI.
    this.start = encoding === 'windows-1252' ? '' : undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.pushText(this.decoder.decode(chunk, { stream: true }), false);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    this.pushText(this.decoder.decode(), true);
    callback();
  }

  private pushText(text: string, final: boolean): void {
    if (this.start !== undefined) {
      this.start += text;
      if (this.start.length < UTF8_BOM_AS_WINDOWS_1252.length && !final) return;
      text = this.start.startsWith(UTF8_BOM_AS_WINDOWS_1252)
        ? this.start.slice(UTF8_BOM_AS_WINDOWS_1252.length)
        : this.start;
      this.start = undefined;
    }
    if (text !== '') this.push(text);
  }
}

/** A stream that takes raw bytes in `encoding` and emits string chunks without the byte-order mark. */
export function createDecoderStream(encoding: TextEncoding): Transform {
  return new DecoderStream(encoding);
}
