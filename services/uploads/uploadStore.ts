import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Binary, type Db } from 'mongodb';
import { UPLOAD_CHUNKS_COLLECTION, UPLOADS_COLLECTION } from '../db/indexes';
import { AppError } from '../errors';
import type { FileSource } from '../import/fileSource';

/** An uploaded file as stored: its bytes are in `chunks` chunk documents beside this one. */
export interface StoredUpload {
  _id: string;
  accountId: string;
  name: string;
  bytes: number;
  sha256: string;
  chunks: number;
  createdAt: Date;
  expiresAt: Date;
}

/** One slice of an upload's bytes. */
interface UploadChunk {
  /** `${uploadId}:${seq}`, so reading back is one lookup by _id per chunk. */
  _id: string;
  uploadId: string;
  seq: number;
  data: Binary;
  /**
   * The upload's own expiry, repeated here so that purging also sweeps the chunks of a save that never
   * finished (a crash before the metadata was written leaves chunks with no metadata to find them by).
   */
  expiresAt: Date;
}

export interface UploadStoreSettings {
  /** Bytes per chunk document; the default stays far below the 16 MB document limit. */
  chunkBytes?: number;
  /** How long an upload is kept after it is saved. */
  ttlMs?: number;
}

export const DEFAULT_UPLOAD_CHUNK_BYTES = 255 * 1024;
export const DEFAULT_UPLOAD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** A new upload id: unguessable, since it is the only handle a host keeps on an administrator's file. */
function newUploadId(): string {
  return `upl_${randomBytes(12).toString('hex')}`;
}

/**
 * Keeps uploaded files' bytes in the database, so a file can be planned again after a mapping fix and any
 * instance can run the background import long after the channel's download link has expired. Nothing is
 * ever written to disk.
 */
export class UploadStore {
  private readonly chunkBytes: number;
  private readonly ttlMs: number;

  constructor(
    private readonly db: Db,
    settings: UploadStoreSettings = {},
  ) {
    this.chunkBytes = settings.chunkBytes ?? DEFAULT_UPLOAD_CHUNK_BYTES;
    this.ttlMs = settings.ttlMs ?? DEFAULT_UPLOAD_TTL_MS;
    if (!Number.isInteger(this.chunkBytes) || this.chunkBytes < 1 || this.chunkBytes > 8 * 1024 * 1024) {
      throw new RangeError('chunkBytes must be a whole number of bytes between 1 and 8 MiB');
    }
    if (!Number.isFinite(this.ttlMs) || this.ttlMs <= 0) throw new RangeError('ttlMs must be positive');
  }

  private get uploads() {
    return this.db.collection<StoredUpload>(UPLOADS_COLLECTION);
  }

  private get chunks() {
    return this.db.collection<UploadChunk>(UPLOAD_CHUNKS_COLLECTION);
  }

  /**
   * Streams `source` into chunk documents, hashing and counting the bytes on the way, and writes the
   * metadata last so a half-written upload is never visible. If reading or writing fails, the chunks
   * written so far are removed (best effort; {@link purgeExpired} sweeps any a crash leaves behind).
   */
  async save(accountId: string, source: FileSource): Promise<StoredUpload> {
    const id = newUploadId();
    const createdAt = new Date();
    const expiresAt = new Date(createdAt.getTime() + this.ttlMs);
    const hash = createHash('sha256');
    let bytes = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;

    const writeChunk = async (data: Buffer) => {
      await this.chunks.insertOne({
        _id: `${id}:${seq}`,
        uploadId: id,
        seq,
        data: new Binary(data),
        expiresAt,
      });
      seq++;
    };

    try {
      // Async iteration pauses the stream while a chunk is written, so memory stays at about one chunk.
      for await (const piece of source.open()) {
        let buffer = typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece;
        hash.update(buffer);
        bytes += buffer.length;
        while (pendingBytes + buffer.length >= this.chunkBytes) {
          const take = this.chunkBytes - pendingBytes;
          pending.push(buffer.subarray(0, take));
          buffer = buffer.subarray(take);
          await writeChunk(Buffer.concat(pending));
          pending = [];
          pendingBytes = 0;
        }
        if (buffer.length > 0) {
          pending.push(buffer);
          pendingBytes += buffer.length;
        }
      }
      if (pendingBytes > 0) await writeChunk(Buffer.concat(pending));

      const upload: StoredUpload = {
        _id: id,
        accountId,
        name: source.name,
        bytes,
        sha256: hash.digest('hex'),
        chunks: seq,
        createdAt,
        expiresAt,
      };
      await this.uploads.insertOne(upload);
      return upload;
    } catch (err) {
      await this.chunks.deleteMany({ uploadId: id }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * The upload's metadata, or null when there is none for this account: missing, expired and another
   * account's uploads all look the same, so an id never reveals another account's files.
   */
  async get(uploadId: string, accountId: string, now = new Date()): Promise<StoredUpload | null> {
    const upload = await this.uploads.findOne({ _id: uploadId });
    if (!upload || upload.accountId !== accountId || upload.expiresAt.getTime() <= now.getTime()) return null;
    return upload;
  }

  /**
   * A source reading the stored bytes back, one chunk at a time in order, as often as `open()` is called.
   * Throws {@link AppError} `upload-not-found` when the upload is missing, expired or another account's.
   */
  async source(uploadId: string, accountId: string): Promise<FileSource & { upload: StoredUpload }> {
    const upload = await this.get(uploadId, accountId);
    if (!upload) {
      const days = Math.round(this.ttlMs / (24 * 60 * 60 * 1000));
      throw new AppError(
        'upload-not-found',
        `The uploaded file is no longer available (uploads are kept for ${days === 1 ? '1 day' : `${days} days`}). ` +
          'Upload the file again to import it.',
        { uploadId },
      );
    }
    return {
      name: upload.name,
      bytes: upload.bytes,
      upload,
      open: () => Readable.from(this.readChunks(upload), { objectMode: false }),
    };
  }

  /**
   * Reads chunks by _id, one at a time: a lookup by _id is the one query FerretDB answers without a scan,
   * and holding a single chunk keeps memory flat whatever the file's size.
   */
  private async *readChunks(upload: StoredUpload): AsyncGenerator<Buffer> {
    let bytes = 0;
    for (let seq = 0; seq < upload.chunks; seq++) {
      const chunk = await this.chunks.findOne({ _id: `${upload._id}:${seq}` });
      if (!chunk) {
        throw new AppError(
          'upload-not-found',
          'The uploaded file is no longer complete (it has expired or was removed). Upload it again to import it.',
          { uploadId: upload._id },
        );
      }
      const data = Buffer.from(chunk.data.read(0, chunk.data.length()));
      bytes += data.length;
      yield data;
    }
    if (bytes !== upload.bytes) {
      throw new AppError(
        'upload-not-found',
        'The uploaded file is damaged (its stored size does not match). Upload it again to import it.',
        { uploadId: upload._id },
      );
    }
  }

  /** Deletes the metadata first, so the upload disappears at once, then its chunks. */
  async delete(uploadId: string): Promise<void> {
    await this.uploads.deleteOne({ _id: uploadId });
    await this.chunks.deleteMany({ uploadId });
  }

  /** Deletes the uploads that expired before `now`, and their chunks; returns how many uploads went. */
  async purgeExpired(now = new Date()): Promise<number> {
    const expired = { expiresAt: { $lt: now } };
    const { deletedCount } = await this.uploads.deleteMany(expired);
    // Chunks carry their upload's expiry, so one delete also takes those of saves that never finished.
    await this.chunks.deleteMany(expired);
    return deletedCount;
  }
}
