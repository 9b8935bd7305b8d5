import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import yauzl from 'yauzl';
import { ZipFile } from 'yazl';
import type { FileSource } from '../../services/import/fileSource';

/** One worksheet of a test workbook: its rows (row 1 first) and anything else to set on it. */
export interface SheetSpec {
  name: string;
  rows?: ExcelJS.CellValue[][];
  state?: 'visible' | 'hidden' | 'veryHidden';
  edit?: (sheet: ExcelJS.Worksheet) => void;
}

/** An .xlsx built in memory with exceljs, as Excel users send them. */
export async function workbook(sheets: SheetSpec[]): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  for (const spec of sheets) {
    const sheet = book.addWorksheet(spec.name, spec.state ? { state: spec.state } : {});
    for (const row of spec.rows ?? []) sheet.addRow(row);
    spec.edit?.(sheet);
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** The files of a ZIP archive, in archive order, with their uncompressed content. */
export async function unzipEntries(buffer: Buffer): Promise<Array<{ name: string; data: Buffer }>> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (err, z) => (err ? reject(err) : resolve(z))),
  );
  const entries: Array<{ name: string; data: Buffer }> = [];
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      // Folder entries hold nothing; yazl makes its own.
      if (entry.fileName.endsWith('/')) return zip.readEntry();
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        const parts: Buffer[] = [];
        stream.on('data', (part: Buffer) => parts.push(part));
        stream.on('end', () => {
          entries.push({ name: entry.fileName, data: Buffer.concat(parts) });
          zip.readEntry();
        });
        stream.on('error', reject);
      });
    });
    zip.on('end', () => resolve());
    zip.on('error', reject);
    zip.readEntry();
  });
  return entries;
}

/** A ZIP archive of these entries, in this order; a stream entry is compressed as it is read. */
export async function zipOf(
  entries: Array<{ name: string; data: Buffer | (() => Readable) }>,
): Promise<Buffer> {
  const zip = new ZipFile();
  for (const { name, data } of entries) {
    if (Buffer.isBuffer(data)) zip.addBuffer(data, name);
    else zip.addReadStream(data(), name);
  }
  zip.end();
  const parts: Buffer[] = [];
  const out = zip.outputStream.pipe(new PassThrough());
  for await (const part of out) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/** An OLE2 compound file's 512-byte header: the signature and 512-byte sectors, directory in sector 0. */
export function ole2Header(): Buffer {
  const header = Buffer.alloc(512);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header, 0);
  header.writeUInt16LE(0x003e, 0x18); // minor version
  header.writeUInt16LE(0x0003, 0x1a); // major version 3: 512-byte sectors
  header.writeUInt16LE(0xfffe, 0x1c); // little-endian
  header.writeUInt16LE(9, 0x1e); // sector shift: 2^9 = 512
  header.writeUInt16LE(6, 0x20); // mini sector shift
  header.writeUInt32LE(0, 0x30); // first directory sector
  return header;
}

/** One 128-byte OLE2 directory entry: a name in UTF-16LE, its length, object type and colour. */
export function ole2DirectoryEntry(name: string, type: 1 | 2 | 5): Buffer {
  const entry = Buffer.alloc(128);
  const encoded = Buffer.from(`${name}\u0000`, 'utf16le');
  encoded.copy(entry, 0);
  entry.writeUInt16LE(encoded.length, 64);
  entry[66] = type;
  entry[67] = 1; // black
  return entry;
}

/**
 * A source that counts how often it was opened, how many of its streams were closed and how many bytes they
 * handed out, so tests can see that every pass over a workbook lets go of the file and reads only what it needs.
 */
export function countingSource(name: string, buffer: Buffer, chunkBytes = 4096) {
  const state = { opened: 0, closed: 0, produced: 0 };
  const source: FileSource & { readonly opened: number; readonly closed: number; readonly produced: number } =
    {
      name,
      bytes: buffer.length,
      get opened() {
        return state.opened;
      },
      get closed() {
        return state.closed;
      },
      /** Bytes handed out by all the streams so far. */
      get produced() {
        return state.produced;
      },
      open() {
        state.opened++;
        const stream = Readable.from(
          (function* () {
            for (let i = 0; i < buffer.length; i += chunkBytes) {
              const chunk = buffer.subarray(i, i + chunkBytes);
              state.produced += chunk.length;
              yield chunk;
            }
          })(),
          { objectMode: false },
        );
        stream.once('close', () => state.closed++);
        return stream;
      },
    };
  return source;
}
