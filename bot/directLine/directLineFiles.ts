import { randomBytes } from 'node:crypto';
import { Binary, type Db } from 'mongodb';
import { DIRECT_LINE_FILE_CHUNKS_COLLECTION, DIRECT_LINE_FILES_COLLECTION } from '../../services/db/indexes';

/** A file sent through the local channel, as stored: its bytes are in `chunks` chunk documents. */
export interface DirectLineFile {
  /** Unguessable: the id in the file's link is its only protection. */
  _id: string;
  conversationId: string;
  /** The user's file name, for display only: never a path. */
  name: string;
  contentType: string;
  bytes: number;
  chunks: number;
  createdAt: Date;
  expiresAt: Date;
}

interface FileChunk {
  /** `${fileId}:${seq}`, read back by _id. */
  _id: string;
  fileId: string;
  seq: number;
  data: Binary;
  /** The file's expiry, so a purge also sweeps the chunks of a save that never finished. */
  expiresAt: Date;
}

/** A file too large for the channel; nothing of it is kept. */
export class FileTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`The file is larger than the ${maxBytes}-byte limit.`);
    this.name = 'FileTooLargeError';
  }
}

export interface DirectLineFilesSettings {
  /** How long a file can be downloaded after it was sent; the bot fetches it within its turn. */
  ttlMs?: number;
  /** Bytes per chunk document. */
  chunkBytes?: number;
}

export const DEFAULT_FILE_TTL_MS = 60 * 60 * 1000;
export const DEFAULT_FILE_CHUNK_BYTES = 255 * 1024;
const FILE_ID = /^dlf-[0-9a-f]{32}$/;

/**
 * Keeps the files users send through the local Direct Line channel in the database until the bot has
 * downloaded them, like the Azure service keeps its attachment blobs. Nothing is written to disk.
 */
export class DirectLineFiles {
  private readonly ttlMs: number;
  private readonly chunkBytes: number;

  constructor(
    private readonly db: Db,
    settings: DirectLineFilesSettings = {},
  ) {
    this.ttlMs = settings.ttlMs ?? DEFAULT_FILE_TTL_MS;
    this.chunkBytes = settings.chunkBytes ?? DEFAULT_FILE_CHUNK_BYTES;
    if (!Number.isFinite(this.ttlMs) || this.ttlMs <= 0) throw new RangeError('ttlMs must be positive');
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1 || this.chunkBytes > 8 * 1024 * 1024) {
      throw new RangeError('chunkBytes must be a whole number of bytes between 1 and 8 MiB');
    }
  }

  private get files() {
    return this.db.collection<DirectLineFile>(DIRECT_LINE_FILES_COLLECTION);
  }

  private get chunks() {
    return this.db.collection<FileChunk>(DIRECT_LINE_FILE_CHUNKS_COLLECTION);
  }

  /**
   * Stores the bytes of `source` as they arrive, one chunk document at a time, and the metadata last so a
   * half-written file is never served. Throws {@link FileTooLargeError} as soon as more than `maxBytes`
   * arrived; on any failure the chunks written so far are removed.
   */
  async save(
    source: AsyncIterable<Buffer | Uint8Array | string>,
    meta: { conversationId: string; name: string; contentType: string; maxBytes: number },
  ): Promise<DirectLineFile> {
    const id = `dlf-${randomBytes(16).toString('hex')}`;
    const createdAt = new Date();
    const expiresAt = new Date(createdAt.getTime() + this.ttlMs);
    let bytes = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      await this.chunks.insertOne({
        _id: `${id}:${seq}`,
        fileId: id,
        seq,
        data: new Binary(Buffer.concat(pending)),
        expiresAt,
      });
      seq++;
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const piece of source) {
        let buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : Buffer.from(piece);
        bytes += buffer.length;
        if (bytes > meta.maxBytes) throw new FileTooLargeError(meta.maxBytes);
        while (pendingBytes + buffer.length >= this.chunkBytes) {
          const take = this.chunkBytes - pendingBytes;
          pending.push(buffer.subarray(0, take));
          buffer = buffer.subarray(take);
          pendingBytes = this.chunkBytes;
          await flush();
        }
        if (buffer.length > 0) {
          pending.push(buffer);
          pendingBytes += buffer.length;
        }
      }
      if (pendingBytes > 0) await flush();
      const file: DirectLineFile = {
        _id: id,
        conversationId: meta.conversationId,
        name: meta.name,
        contentType: meta.contentType,
        bytes,
        chunks: seq,
        createdAt,
        expiresAt,
      };
      await this.files.insertOne(file);
      return file;
    } catch (err) {
      await this.chunks.deleteMany({ fileId: id }).catch(() => undefined);
      throw err;
    }
  }

  /** The file's metadata, or null when the id is malformed, unknown or expired. */
  async get(fileId: string, now = new Date()): Promise<DirectLineFile | null> {
    if (!FILE_ID.test(fileId)) return null;
    const file = await this.files.findOne({ _id: fileId });
    return file && file.expiresAt.getTime() > now.getTime() ? file : null;
  }

  /** The file's bytes, chunk by chunk, read by _id so memory stays at one chunk whatever the size. */
  async *read(file: DirectLineFile): AsyncGenerator<Buffer> {
    for (let seq = 0; seq < file.chunks; seq++) {
      const chunk = await this.chunks.findOne({ _id: `${file._id}:${seq}` });
      if (!chunk) throw new Error('A stored file is missing a chunk.');
      yield Buffer.from(chunk.data.read(0, chunk.data.length()));
    }
  }

  /** Deletes files (metadata first, so they vanish at once) and their chunks. */
  async delete(fileIds: string[]): Promise<void> {
    for (const id of fileIds) {
      await this.files.deleteOne({ _id: id });
      await this.chunks.deleteMany({ fileId: id });
    }
  }

  /** Deletes expired files and chunks; returns how many files went. */
  async purgeExpired(now = new Date()): Promise<number> {
    const expired = { expiresAt: { $lt: now } };
    const { deletedCount } = await this.files.deleteMany(expired);
    await this.chunks.deleteMany(expired);
    return deletedCount;
  }

  /** The public URL of a stored file under `baseUrl` (this process's own address). */
  static url(baseUrl: string, fileId: string): string {
    return `${baseUrl}/v3/directline/files/${fileId}`;
  }
}
