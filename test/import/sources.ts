import { Readable } from 'node:stream';
import type { FileSource } from '../../services/import/fileSource';
import { readRows, type FileLayout, type FileRow } from '../../services/import/userFileReader';

/** A source that hands out its bytes `chunkBytes` at a time, to exercise chunk boundaries. */
export function chunkedSource(name: string, buffer: Buffer, chunkBytes: number): FileSource {
  return {
    name,
    bytes: buffer.length,
    open: () =>
      Readable.from(
        (function* () {
          for (let i = 0; i < buffer.length; i += chunkBytes) yield buffer.subarray(i, i + chunkBytes);
        })(),
        { objectMode: false },
      ),
  };
}

/** Counts what a generated source has handed out, so tests can see how far ahead the reader got. */
export interface GeneratedSource extends FileSource {
  readonly producedBytes: number;
  readonly opened: number;
  readonly closed: number;
}

/**
 * A source whose content is produced on demand by `lines` (one string per line, without line end), so even
 * a very large file is never held in memory. `bytes` is computed by a first dry run of the generator
 * unless given.
 */
export function generatedSource(
  name: string,
  lines: () => Iterable<string>,
  options: { lineEnd?: string; bytes?: number; batchLines?: number } = {},
): GeneratedSource {
  const lineEnd = options.lineEnd ?? '\n';
  const batchLines = options.batchLines ?? 500;
  function* batches(): Generator<Buffer> {
    let batch: string[] = [];
    for (const line of lines()) {
      batch.push(line + lineEnd);
      if (batch.length === batchLines) {
        yield Buffer.from(batch.join(''), 'utf8');
        batch = [];
      }
    }
    if (batch.length > 0) yield Buffer.from(batch.join(''), 'utf8');
  }
  let bytes = options.bytes;
  if (bytes === undefined) {
    bytes = 0;
    for (const b of batches()) bytes += b.length;
  }
  const state = { producedBytes: 0, opened: 0, closed: 0 };
  const size = bytes;
  return {
    name,
    bytes: size,
    get producedBytes() {
      return state.producedBytes;
    },
    get opened() {
      return state.opened;
    },
    get closed() {
      return state.closed;
    },
    open() {
      state.opened++;
      const stream = Readable.from(
        (function* () {
          for (const b of batches()) {
            state.producedBytes += b.length;
            yield b;
          }
        })(),
        { objectMode: false, highWaterMark: 16 * 1024 },
      );
      stream.once('close', () => state.closed++);
      return stream;
    },
  };
}

/** A source whose stream fails after handing out `buffer`. */
export function failingSource(name: string, buffer: Buffer, error: Error): FileSource {
  return {
    name,
    bytes: buffer.length,
    open: () => {
      let sent = false;
      return new Readable({
        read() {
          if (sent) return;
          sent = true;
          this.push(buffer);
          setImmediate(() => this.destroy(error));
        },
      });
    },
  };
}

/** UTF-16 bytes of `text`, with a byte-order mark unless told otherwise. */
export function utf16(text: string, endian: 'le' | 'be', bom = true): Buffer {
  const le = Buffer.from((bom ? '\ufeff' : '') + text, 'utf16le');
  return endian === 'le' ? le : le.swap16();
}

export async function collectRows(source: FileSource, layout: FileLayout): Promise<FileRow[]> {
  const rows: FileRow[] = [];
  for await (const row of readRows(source, layout)) rows.push(row);
  return rows;
}
