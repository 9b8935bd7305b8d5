import path from 'node:path';
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { AppError } from '../errors';

/**
 * An uploaded file that can be read from the start as often as needed: the import inspects it, then streams
 * its rows, and may stream them again for a dry run and the real run, without ever holding it in memory.
 */
export interface FileSource {
  /** Display name (no directories); shown to the administrator, never used to open anything. */
  readonly name: string;
  /** Size in bytes as known when the source was created. */
  readonly bytes: number;
  /** A fresh stream of the raw bytes from the first byte, each call. */
  open(): NodeJS.ReadableStream;
}

/** Slices handed out by buffer sources, the same size as a file stream's, so both behave alike downstream. */
const BUFFER_SLICE_BYTES = 64 * 1024;

/**
 * Reduces a user-supplied name to its last path segment. Upload names may come from Windows or macOS
 * clients with either separator, and control characters would garble messages and logs.
 */
function toDisplayName(name: string): string {
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const base = (name.split(/[\\/]/).pop() ?? '').replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base === '' ? 'uploaded file' : base;
}

/**
 * A source reading a file on disk. The file must exist and be a regular file now; `displayName` defaults to
 * the file's own base name. Throws {@link AppError} `file-unreadable` otherwise.
 */
export async function fileSourceFromPath(filePath: string, displayName?: string): Promise<FileSource> {
  const name = toDisplayName(displayName ?? path.basename(filePath));
  let stat;
  try {
    stat = await fs.stat(filePath);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : String(err);
    throw new AppError('file-unreadable', `Cannot read "${name}": ${reason}. Check the path and try again.`, {
      file: name,
    });
  }
  if (!stat.isFile()) {
    throw new AppError('file-unreadable', `Cannot read "${name}": it is not a regular file.`, { file: name });
  }
  const bytes = stat.size;
  return { name, bytes, open: () => createReadStream(filePath) };
}

/** A source over bytes already in memory, e.g. a small upload or a test fixture. */
export function fileSourceFromBuffer(name: string, buffer: Buffer): FileSource {
  return {
    name: toDisplayName(name),
    bytes: buffer.length,
    open: () => Readable.from(sliceBuffer(buffer), { objectMode: false }),
  };
}

function* sliceBuffer(buffer: Buffer): Generator<Buffer> {
  for (let start = 0; start < buffer.length; start += BUFFER_SLICE_BYTES) {
    yield buffer.subarray(start, start + BUFFER_SLICE_BYTES);
  }
}
