import { createHash, randomBytes } from 'node:crypto';
import { UPLOAD_CHUNKS_COLLECTION, UPLOADS_COLLECTION } from '../../services/db/indexes';
import { isAppError } from '../../services/errors';
import type { FileSource } from '../../services/import/fileSource';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { UploadStore } from '../../services/uploads/uploadStore';
import { chunkedSource } from '../import/sources';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;

beforeAll(async () => {
  t = await openTestDatabase();
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(UPLOADS_COLLECTION).deleteMany({});
  await t.db.collection(UPLOAD_CHUNKS_COLLECTION).deleteMany({});
});

async function readAll(source: FileSource): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const piece of source.open()) parts.push(Buffer.from(piece));
  return Buffer.concat(parts);
}

async function refusal(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  );
}

const sha256 = (buffer: Buffer) => createHash('sha256').update(buffer).digest('hex');

describe('UploadStore', () => {
  it('stores a multi-chunk file and reads it back byte for byte, as often as asked', async () => {
    const store = new UploadStore(t.db, { chunkBytes: 1000 });
    const bytes = randomBytes(4321);
    // Pieces of 777 bytes straddle the 1000-byte chunk boundaries.
    const upload = await store.save('acme', chunkedSource('dir/users.csv', bytes, 777));
    expect(upload).toMatchObject({ accountId: 'acme', name: 'dir/users.csv', bytes: 4321, chunks: 5 });
    expect(upload._id).toMatch(/^upl_[0-9a-f]{24}$/);
    expect(upload.sha256).toBe(sha256(bytes));
    expect(upload.expiresAt.getTime() - upload.createdAt.getTime()).toBe(7 * 24 * 60 * 60 * 1000);
    expect(await t.db.collection(UPLOAD_CHUNKS_COLLECTION).countDocuments({ uploadId: upload._id })).toBe(5);

    const source = await store.source(upload._id, 'acme');
    expect(source).toMatchObject({ name: 'dir/users.csv', bytes: 4321, upload: { _id: upload._id } });
    expect((await readAll(source)).equals(bytes)).toBe(true);
    // A second open starts again from the first byte.
    expect((await readAll(source)).equals(bytes)).toBe(true);
    expect(await store.get(upload._id, 'acme')).toEqual(upload);
  });

  it('stores an empty file and a file of exactly one chunk', async () => {
    const store = new UploadStore(t.db, { chunkBytes: 16 });
    const empty = await store.save('acme', fileSourceFromBuffer('empty.csv', Buffer.alloc(0)));
    expect(empty).toMatchObject({ bytes: 0, chunks: 0, sha256: sha256(Buffer.alloc(0)) });
    expect((await readAll(await store.source(empty._id, 'acme'))).length).toBe(0);

    const exact = Buffer.from('0123456789abcdef');
    const one = await store.save('acme', fileSourceFromBuffer('one.csv', exact));
    expect(one.chunks).toBe(1);
    expect((await readAll(await store.source(one._id, 'acme'))).equals(exact)).toBe(true);
  });

  it('refuses unknown, expired and other accounts’ uploads with upload-not-found', async () => {
    const store = new UploadStore(t.db);
    const upload = await store.save('acme', fileSourceFromBuffer('users.csv', Buffer.from('a,b\r\n')));

    for (const [id, account] of [
      ['upl_doesnotexist', 'acme'],
      [upload._id, 'globex'],
    ] as const) {
      const error = await refusal(store.source(id, account));
      expect(isAppError(error, 'upload-not-found')).toBe(true);
      expect((error as Error).message).toMatch(/Upload the file again/);
      expect(await store.get(id, account)).toBeNull();
    }

    await t.db
      .collection<{ _id: string }>(UPLOADS_COLLECTION)
      .updateOne({ _id: upload._id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    expect(isAppError(await refusal(store.source(upload._id, 'acme')), 'upload-not-found')).toBe(true);
    expect(await store.get(upload._id, 'acme')).toBeNull();
  });

  it('purges expired uploads with their chunks, and leftovers of saves that never finished', async () => {
    const store = new UploadStore(t.db, { chunkBytes: 4, ttlMs: 60_000 });
    const old = await store.save('acme', fileSourceFromBuffer('old.csv', Buffer.from('0123456789')));
    const fresh = await store.save('acme', fileSourceFromBuffer('fresh.csv', Buffer.from('abcdefgh')));
    await t.db
      .collection<{ _id: string }>(UPLOADS_COLLECTION)
      .updateOne({ _id: old._id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    await t.db
      .collection(UPLOAD_CHUNKS_COLLECTION)
      .updateMany({ uploadId: old._id }, { $set: { expiresAt: new Date(Date.now() - 1000) } });
    // A crash mid-save: chunks but no metadata.
    await t.db
      .collection<{ _id: string; uploadId: string; seq: number; expiresAt: Date }>(UPLOAD_CHUNKS_COLLECTION)
      .insertOne({
        _id: 'upl_crashed:0',
        uploadId: 'upl_crashed',
        seq: 0,
        expiresAt: new Date(Date.now() - 1000),
      });

    expect(await store.purgeExpired()).toBe(1);
    expect(await t.db.collection(UPLOADS_COLLECTION).countDocuments()).toBe(1);
    expect(await t.db.collection(UPLOAD_CHUNKS_COLLECTION).countDocuments({ uploadId: old._id })).toBe(0);
    expect(await t.db.collection(UPLOAD_CHUNKS_COLLECTION).countDocuments({ uploadId: 'upl_crashed' })).toBe(
      0,
    );
    expect((await readAll(await store.source(fresh._id, 'acme'))).toString()).toBe('abcdefgh');

    // Everything else expires in a minute.
    expect(await store.purgeExpired(new Date(Date.now() + 120_000))).toBe(1);
    expect(await t.db.collection(UPLOAD_CHUNKS_COLLECTION).countDocuments()).toBe(0);
  });

  it('deletes an upload and its chunks', async () => {
    const store = new UploadStore(t.db, { chunkBytes: 4 });
    const upload = await store.save('acme', fileSourceFromBuffer('a.csv', Buffer.from('0123456789')));
    await store.delete(upload._id);
    expect(await store.get(upload._id, 'acme')).toBeNull();
    expect(await t.db.collection(UPLOAD_CHUNKS_COLLECTION).countDocuments()).toBe(0);
  });

  it('leaves nothing behind when the file cannot be read to the end', async () => {
    const store = new UploadStore(t.db, { chunkBytes: 4 });
    const { Readable } = await import('node:stream');
    const broken: FileSource = {
      name: 'broken.csv',
      bytes: 100,
      open: () =>
        Readable.from(
          (async function* () {
            yield Buffer.from('0123456789');
            throw new Error('connection reset');
          })(),
        ),
    };
    await expect(store.save('acme', broken)).rejects.toThrow('connection reset');
    expect(await t.db.collection(UPLOAD_CHUNKS_COLLECTION).countDocuments()).toBe(0);
    expect(await t.db.collection(UPLOADS_COLLECTION).countDocuments()).toBe(0);
  });

  it('reports a stored upload whose chunks went missing instead of returning a short file', async () => {
    const store = new UploadStore(t.db, { chunkBytes: 4 });
    const upload = await store.save('acme', fileSourceFromBuffer('a.csv', Buffer.from('0123456789')));
    await t.db.collection<{ _id: string }>(UPLOAD_CHUNKS_COLLECTION).deleteOne({ _id: `${upload._id}:1` });
    const source = await store.source(upload._id, 'acme');
    expect(isAppError(await refusal(readAll(source)), 'upload-not-found')).toBe(true);
  });
});
