import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { isAppError } from '../../services/errors';
import { fileSourceFromBuffer, fileSourceFromPath, type FileSource } from '../../services/import/fileSource';

async function readAll(source: FileSource): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of source.open())
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks);
}

describe('fileSourceFromBuffer', () => {
  it('hands out the same bytes on every open, in chunks', async () => {
    const bytes = Buffer.alloc(200 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
    const source = fileSourceFromBuffer('users.csv', bytes);
    expect(source.bytes).toBe(bytes.length);
    const chunkSizes: number[] = [];
    for await (const chunk of source.open()) chunkSizes.push((chunk as Buffer).length);
    expect(chunkSizes.length).toBeGreaterThan(1);
    expect((await readAll(source)).equals(bytes)).toBe(true);
    expect((await readAll(source)).equals(bytes)).toBe(true);
  });

  it('opens an empty buffer as an empty stream', async () => {
    expect((await readAll(fileSourceFromBuffer('empty.csv', Buffer.alloc(0)))).length).toBe(0);
  });

  it.each([
    ['C:\\Users\\ana\\Desktop\\users.csv', 'users.csv'],
    ['../../etc/passwd', 'passwd'],
    ['reports/2024/users.txt', 'users.txt'],
    ['bad\u0000na\u001bme.csv', 'badname.csv'],
    ['folder/', 'uploaded file'],
  ])('keeps only a display name: %j → %j', (given, shown) => {
    expect(fileSourceFromBuffer(given, Buffer.from('x')).name).toBe(shown);
  });
});

describe('fileSourceFromPath', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'file-source-'));
  });
  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('reads a file on disk, again on every open', async () => {
    const file = path.join(dir, 'team users.csv');
    await fs.writeFile(file, 'Email\nana@example.com\n');
    const source = await fileSourceFromPath(file);
    expect(source.name).toBe('team users.csv');
    expect(source.bytes).toBe(22);
    expect((await readAll(source)).toString()).toBe('Email\nana@example.com\n');
    expect((await readAll(source)).toString()).toBe('Email\nana@example.com\n');
  });

  it('uses the display name given, reduced to a base name', async () => {
    const file = path.join(dir, 'upload-7f3a.tmp');
    await fs.writeFile(file, 'Email\n');
    expect((await fileSourceFromPath(file, 'C:\\Desktop\\Users.csv')).name).toBe('Users.csv');
  });

  it('rejects a missing file as unreadable, naming it', async () => {
    const err = await fileSourceFromPath(path.join(dir, 'nope.csv')).catch((e: unknown) => e);
    expect(isAppError(err, 'file-unreadable')).toBe(true);
    expect((err as Error).message).toContain('"nope.csv"');
    expect((err as Error).message).toContain('does not exist');
  });

  it('rejects a directory as unreadable', async () => {
    const err = await fileSourceFromPath(dir, 'folder').catch((e: unknown) => e);
    expect(isAppError(err, 'file-unreadable')).toBe(true);
    expect((err as Error).message).toContain('not a regular file');
  });
});
