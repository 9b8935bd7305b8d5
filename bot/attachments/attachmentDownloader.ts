import net from 'node:net';
import { z } from 'zod';
import { AppError } from '../../services/errors';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';

/**
 * Picks the one file an administrator sent to the bot and downloads it into memory, safely:
 *
 * - only https links (plain http only to this machine, and only in local mode) or inline `data:` links;
 * - only hosts on an allowlist (`*.example.com` matches subdomains only, never `example.com` itself);
 * - IP-literal hosts are refused, except loopback in local mode;
 * - redirects are followed by hand, at most {@link MAX_REDIRECTS}, and each target is checked like the
 *   original link;
 * - the size limit is enforced on the declared Content-Length and again while streaming;
 * - the whole download is aborted after a timeout.
 *
 * The attachment's name is only a display name: nothing is written to disk. Error messages name the host,
 * never the full link, which may carry an access token.
 */

/** Why an attachment could not be used; stable so the bot can react without parsing prose. */
export type AttachmentErrorCode =
  | 'attachment-missing'
  | 'attachment-not-allowed'
  | 'attachment-unsupported'
  | 'attachment-too-large'
  | 'attachment-failed'
  | 'attachment-multiple';

/** An attachment problem, with a message written for the administrator who sent the file. */
export class AttachmentError extends AppError {
  declare readonly code: AttachmentErrorCode;

  constructor(code: AttachmentErrorCode, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
    this.name = 'AttachmentError';
  }
}

export const TEAMS_FILE_DOWNLOAD_INFO = 'application/vnd.microsoft.teams.file.download.info';
export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_REDIRECTS = 3;

export interface DownloadOptions {
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Hosts links may point at: exact names, or `*.domain` for any subdomain of domain. */
  allowedHosts: string[];
  /** Local mode: also accept http and https links to this machine (localhost, 127.0.0.0/8, ::1). */
  allowLoopbackHttp: boolean;
  /** Stand-in for the global fetch, for tests. */
  fetchImpl?: typeof fetch;
  /** Whole-download deadline; defaults to {@link DEFAULT_TIMEOUT_MS}. */
  timeoutMs?: number;
}

const webFileSchema = z.object({
  contentType: z.string().optional(),
  contentUrl: z.string().min(1),
  name: z.string().nullish(),
});

const teamsFileSchema = z.object({
  contentType: z.literal(TEAMS_FILE_DOWNLOAD_INFO),
  name: z.string().min(1),
  content: z.object({
    downloadUrl: z.string().min(1),
    fileType: z.string(),
    uniqueId: z.string().optional(),
  }),
});

/** A file sent from Web Chat or the Emulator: a link (or inline data) to the bytes. */
export type WebFileAttachment = z.infer<typeof webFileSchema>;
/** A file sent in a Teams personal chat: `content.downloadUrl` is pre-authenticated. */
export type TeamsFileAttachment = z.infer<typeof teamsFileSchema>;
export type FileAttachment = WebFileAttachment | TeamsFileAttachment;

/**
 * File types read, by extension. Workbooks are judged again by their content once downloaded: an .xlsx (or
 * macro-enabled .xlsm) is read, an Excel 97-2003 .xls gets a message saying how to save it as .xlsx, and a
 * "spreadsheet" that is really text (some systems export CSV under an .xls name) is read as text.
 */
const READ_EXTENSIONS = new Set(['csv', 'txt', 'xlsx', 'xlsm', 'xls']);
/** Content types accepted for a file without an extension. */
const READ_CONTENT_TYPES = new Set([
  'text/csv',
  'text/plain',
  'application/csv',
  'text/comma-separated-values',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  'application/vnd.ms-excel.sheet.macroenabled.12',
  'application/vnd.ms-excel',
]);
/** Spreadsheet formats that are not read: binary workbooks and other programs' files. */
const OTHER_SPREADSHEET_EXTENSIONS = new Set(['xlsb', 'ods', 'numbers']);
/** What the bot reads, as it is named in messages. */
const READ_TYPES = 'a CSV or TXT file or an Excel workbook (.xlsx)';
const MB = 1024 * 1024;

/**
 * Returns the single file in a message's attachments, or throws {@link AttachmentError} saying what to send
 * instead. Attachments that are not files (cards, the `text/html` copy of the message Teams adds) are
 * ignored. Only CSV and TXT files and Excel workbooks are accepted, judged by extension (browsers label .csv
 * files inconsistently, e.g. `application/vnd.ms-excel`), or by content type when the name has no extension;
 * a Teams file by its `fileType`. Whether a workbook can be read is decided from its content later.
 */
export function pickUserFile(attachments: unknown[] | undefined): FileAttachment {
  const files = (attachments ?? []).filter(isFileLike);
  if (files.length === 0) {
    throw new AttachmentError(
      'attachment-missing',
      'I did not find a file in that message. Attach the CSV, TXT or Excel (.xlsx) file and send it ' +
        '(in Teams, files only reach me in a personal chat with me).',
    );
  }
  if (files.length > 1) {
    throw new AttachmentError(
      'attachment-multiple',
      `That message has ${files.length} files; send one file at a time.`,
      { count: files.length },
    );
  }
  const file = files[0];
  if (isRecord(file) && file.contentType === TEAMS_FILE_DOWNLOAD_INFO) {
    const parsed = teamsFileSchema.safeParse(file);
    if (!parsed.success) {
      throw new AttachmentError(
        'attachment-unsupported',
        'That Teams file arrived without a usable download link. Send the file again.',
      );
    }
    checkFileType(parsed.data.name, TEAMS_FILE_DOWNLOAD_INFO, parsed.data.content.fileType);
    return parsed.data;
  }
  const parsed = webFileSchema.safeParse(file);
  if (!parsed.success) {
    throw new AttachmentError(
      'attachment-unsupported',
      'That attachment has no usable link to the file. Send the file again.',
    );
  }
  const contentType = (parsed.data.contentType ?? '').trim().toLowerCase();
  const name = parsed.data.name ?? undefined;
  if (contentType.startsWith('image/')) {
    throw new AttachmentError(
      'attachment-unsupported',
      `${name ? `"${label(name)}"` : 'That attachment'} looks like a picture; send the CSV, TXT or Excel file itself.`,
      { contentType },
    );
  }
  checkFileType(name, contentType);
  return parsed.data;
}

/**
 * Downloads a file attachment (as returned by {@link pickUserFile}; it is validated again here) into
 * memory and returns it as a {@link FileSource} named after the attachment. Does not judge the file type:
 * that is {@link pickUserFile}'s job.
 */
export async function downloadAttachment(attachment: unknown, options: DownloadOptions): Promise<FileSource> {
  if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) {
    throw new RangeError('maxBytes must be a positive integer');
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    throw new RangeError('timeoutMs must be positive');
  }
  let name: string;
  let link: string;
  let inlineAllowed: boolean;
  if (isRecord(attachment) && attachment.contentType === TEAMS_FILE_DOWNLOAD_INFO) {
    // Never fall back to a Teams file's contentUrl: that SharePoint link needs credentials we do not send.
    const teams = teamsFileSchema.safeParse(attachment);
    if (!teams.success) {
      throw new AttachmentError(
        'attachment-unsupported',
        'That Teams file arrived without a usable download link. Send the file again.',
      );
    }
    name = teams.data.name;
    link = teams.data.content.downloadUrl.trim();
    inlineAllowed = false;
  } else {
    const web = webFileSchema.safeParse(attachment);
    if (!web.success) {
      throw new AttachmentError(
        'attachment-unsupported',
        'That attachment is not a file I can download. Send the CSV, TXT or Excel file again.',
      );
    }
    name = web.data.name ?? 'uploaded file';
    link = web.data.contentUrl.trim();
    inlineAllowed = true;
  }
  const buffer =
    inlineAllowed && /^data:/i.test(link)
      ? decodeDataUrl(link, name, options.maxBytes)
      : await fetchCapped(link, name, options);
  return fileSourceFromBuffer(name, buffer);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A file is anything with a link to bytes, or a Teams file (even a malformed one, to report it). */
/** True when a message carries a file (or something sent as one, such as a picture), not just text or cards. */
export function hasFileAttachment(attachments: unknown[] | undefined): boolean {
  return (attachments ?? []).some(isFileLike);
}

function isFileLike(value: unknown): boolean {
  if (!isRecord(value)) return false;
  if (value.contentType === TEAMS_FILE_DOWNLOAD_INFO) return true;
  return typeof value.contentUrl === 'string' && value.contentUrl.trim() !== '';
}

function extensionOf(name: string | undefined): string {
  const base = (name ?? '').split(/[\\/]/).pop() ?? '';
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

function checkFileType(name: string | undefined, contentType: string, teamsFileType?: string): void {
  const ext = (teamsFileType?.trim().replace(/^\./, '').toLowerCase() || extensionOf(name)).trim();
  if (READ_EXTENSIONS.has(ext)) return;
  const shown = name ? `"${label(name)}"` : 'That file';
  if (OTHER_SPREADSHEET_EXTENSIONS.has(ext)) {
    throw new AttachmentError(
      'attachment-unsupported',
      `${shown} is a .${ext} spreadsheet, which I cannot read. Open it and save it as an Excel workbook ` +
        '(.xlsx) or as CSV, then send that file.',
      { extension: ext },
    );
  }
  if (ext === '' && READ_CONTENT_TYPES.has(contentType)) return;
  const what = ext !== '' ? `a .${ext} file` : `of type ${contentType || 'unknown'}`;
  throw new AttachmentError(
    'attachment-unsupported',
    `${shown} is ${what}, and I can only read ${READ_TYPES}. Send the user list as a .csv, .txt or .xlsx file.`,
    { extension: ext, contentType },
  );
}

/** A user-supplied name made safe to quote in a message: last path segment, no control characters. */
function label(name: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  const short = base.length > 80 ? `${base.slice(0, 77)}...` : base;
  return short === '' ? 'uploaded file' : short;
}

function formatMb(bytes: number): string {
  const mb = bytes / MB;
  if (mb >= 10) return `${Math.round(mb)} MB`;
  const shown = Number(mb.toFixed(2));
  return shown === 0 ? `${Number(mb.toFixed(6))} MB` : `${shown} MB`;
}

function tooLarge(name: string, maxBytes: number, actual?: number): AttachmentError {
  const size = actual === undefined ? 'larger than' : `${formatMb(actual)}, over`;
  return new AttachmentError(
    'attachment-too-large',
    `"${label(name)}" is ${size} the ${formatMb(maxBytes)} limit for uploads. ` +
      'Split the list into smaller files and send them one at a time.',
    { maxBytes, ...(actual === undefined ? {} : { bytes: actual }) },
  );
}

// ---------------------------------------------------------------------------------------------------------
// Inline data: links

function decodeDataUrl(link: string, name: string, maxBytes: number): Buffer {
  const comma = link.indexOf(',');
  if (comma < 0) {
    throw new AttachmentError(
      'attachment-failed',
      `"${label(name)}" arrived as inline data that is malformed (no data part). Send the file again.`,
    );
  }
  const params = link
    .slice('data:'.length, comma)
    .split(';')
    .map((p) => p.trim().toLowerCase());
  const payload = link.slice(comma + 1);
  let buffer: Buffer;
  if (params.includes('base64')) {
    const compact = (payload.includes('%') ? percentDecode(payload).toString('latin1') : payload).replace(
      /\s+/g,
      '',
    );
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
      throw new AttachmentError(
        'attachment-failed',
        `"${label(name)}" arrived as inline data that could not be decoded (invalid base64). Send the file again.`,
      );
    }
    // Checked before decoding: the decoded size is known from the length.
    const decodedBytes = Math.floor((compact.replace(/=+$/, '').length * 3) / 4);
    if (decodedBytes > maxBytes) throw tooLarge(name, maxBytes, decodedBytes);
    buffer = Buffer.from(compact, 'base64');
  } else {
    buffer = percentDecode(payload);
  }
  if (buffer.length > maxBytes) throw tooLarge(name, maxBytes, buffer.length);
  return buffer;
}

/** Percent-decoding at the byte level (malformed escapes are kept as they are, as browsers do). */
function percentDecode(text: string): Buffer {
  const src = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(src.length);
  let j = 0;
  for (let i = 0; i < src.length; i++) {
    const byte = src[i] as number;
    if (byte === 0x25 && i + 2 < src.length && isHex(src[i + 1]) && isHex(src[i + 2])) {
      out[j++] = parseInt(String.fromCharCode(src[i + 1] as number, src[i + 2] as number), 16);
      i += 2;
    } else {
      out[j++] = byte;
    }
  }
  return out.subarray(0, j);
}

function isHex(byte: number | undefined): boolean {
  return (
    byte !== undefined &&
    ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66))
  );
}

// ---------------------------------------------------------------------------------------------------------
// Network downloads

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return host === '::1';
}

/** The hostname as compared: lower case, no IPv6 brackets, no trailing dot. */
function hostOf(url: URL): string {
  return url.hostname
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '');
}

export function isHostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  const target = host.toLowerCase().replace(/\.$/, '');
  return allowedHosts.some((raw) => {
    const entry = raw.trim().toLowerCase().replace(/\.$/, '');
    if (entry.startsWith('*.')) {
      const suffix = entry.slice(1); // ".example.com"
      return suffix.length > 1 && target.length > suffix.length && target.endsWith(suffix);
    }
    return entry !== '' && entry === target;
  });
}

/** Parses and checks a link against the rules; `via` names the host that redirected here, if any. */
function checkUrl(input: string | URL, name: string, options: DownloadOptions, via?: string): URL {
  const shown = `"${label(name)}"`;
  const suffix = via ? ` (redirected there by ${via})` : '';
  let url: URL;
  try {
    url = typeof input === 'string' ? new URL(input) : input;
  } catch {
    throw new AttachmentError(
      'attachment-not-allowed',
      `The link to ${shown} is not a valid web address${suffix}, so it was not downloaded.`,
    );
  }
  const host = hostOf(url);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new AttachmentError(
      'attachment-not-allowed',
      `Refused to download ${shown}: the link uses "${url.protocol.replace(/:$/, '')}"${suffix}, ` +
        'and only https links are allowed.',
      { host },
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new AttachmentError(
      'attachment-not-allowed',
      `Refused to download ${shown} from ${host}: the link carries a user name or password${suffix}.`,
      { host },
    );
  }
  if (isLoopbackHost(host)) {
    if (options.allowLoopbackHttp) return url;
    throw new AttachmentError(
      'attachment-not-allowed',
      `Refused to download ${shown} from ${host}${suffix}: links to this machine are only allowed in local mode.`,
      { host },
    );
  }
  if (url.protocol !== 'https:') {
    throw new AttachmentError(
      'attachment-not-allowed',
      `Refused to download ${shown} from ${host}${suffix}: the link uses plain http, and only https is allowed ` +
        '(http only to this machine in local mode).',
      { host },
    );
  }
  if (net.isIP(host) !== 0) {
    throw new AttachmentError(
      'attachment-not-allowed',
      `Refused to download ${shown} from ${host}${suffix}: links to a bare IP address are not allowed, ` +
        'only named hosts on the allowed list.',
      { host },
    );
  }
  if (!isHostAllowed(host, options.allowedHosts)) {
    const list = options.allowedHosts.length > 0 ? options.allowedHosts.join(', ') : 'none configured';
    throw new AttachmentError(
      'attachment-not-allowed',
      `Refused to download ${shown} from ${host}${suffix}: that host is not on the allowed list (${list}).`,
      { host },
    );
  }
  return url;
}

const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name could not be resolved',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection was closed unexpectedly',
};

/** A reason for a network failure, from error codes only: undici's messages could quote the link. */
function networkReason(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && isRecord(current); depth++) {
    const code = current.code;
    if (typeof code === 'string') return NETWORK_REASONS[code] ?? `network error ${code}`;
    current = current.cause;
  }
  return 'network error';
}

function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

async function fetchCapped(link: string, name: string, options: DownloadOptions): Promise<Buffer> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let url = checkUrl(link, name, options);
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    for (let redirects = 0; ; redirects++) {
      const host = hostOf(url);
      const response = await fetchImpl(url.href, { redirect: 'manual', signal: controller.signal });
      if (response.status >= 300 && response.status < 400) {
        discard(response);
        const location = response.headers.get('location');
        if (location === null || location.trim() === '') {
          throw new AttachmentError(
            'attachment-failed',
            `Could not download "${label(name)}": ${host} answered with a redirect (HTTP ${response.status}) ` +
              'but no target.',
            { host, status: response.status },
          );
        }
        if (redirects >= MAX_REDIRECTS) {
          throw new AttachmentError(
            'attachment-failed',
            `Could not download "${label(name)}": it was redirected more than ${MAX_REDIRECTS} times ` +
              `(last by ${host}).`,
            { host },
          );
        }
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          throw new AttachmentError(
            'attachment-failed',
            `Could not download "${label(name)}": ${host} redirected to an invalid address.`,
            { host },
          );
        }
        url = checkUrl(next, name, options, host);
        continue;
      }
      if (!response.ok) {
        discard(response);
        throw new AttachmentError(
          'attachment-failed',
          `Could not download "${label(name)}": ${host} answered HTTP ${response.status}. ` +
            'The link may have expired; send the file again.',
          { host, status: response.status },
        );
      }
      return await readCapped(response, name, options.maxBytes, controller);
    }
  } catch (err) {
    if (timedOut) {
      throw new AttachmentError(
        'attachment-failed',
        `Downloading "${label(name)}" from ${hostOf(url)} took longer than ${timeoutMs / 1000} seconds, ` +
          'so it was stopped. Try again later.',
        { host: hostOf(url), timeoutMs },
      );
    }
    if (err instanceof AttachmentError) throw err;
    throw new AttachmentError(
      'attachment-failed',
      `Could not download "${label(name)}" from ${hostOf(url)}: ${networkReason(err)}. Try again later.`,
      { host: hostOf(url) },
    );
  } finally {
    clearTimeout(timer);
  }
}

async function readCapped(
  response: Response,
  name: string,
  maxBytes: number,
  controller: AbortController,
): Promise<Buffer> {
  const declared = response.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    discard(response);
    controller.abort();
    throw tooLarge(name, maxBytes, Number(declared));
  }
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      reader.cancel().catch(() => undefined);
      controller.abort();
      throw tooLarge(name, maxBytes);
    }
    chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
  }
  return Buffer.concat(chunks, total);
}
