import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { isAppError, type AppError } from '../../services/errors';
import { createDecoderStream, detectEncoding, type TextEncoding } from '../../services/import/encoding';
import { fileSourceFromBuffer, type FileSource } from '../../services/import/fileSource';
import { chunkedSource, generatedSource, utf16 } from './sources';

const MB = 1024 * 1024;
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

async function detect(buffer: Buffer, maxBytes = 20 * MB) {
  return detectEncoding(fileSourceFromBuffer('users.csv', buffer), maxBytes);
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(err)) throw new Error(`expected an AppError, got ${String(err)}`);
  return err;
}

async function decodeAll(encoding: TextEncoding, buffer: Buffer, chunkBytes: number): Promise<string> {
  const parts: string[] = [];
  const decoder = chunkedSource('x', buffer, chunkBytes).open().pipe(createDecoderStream(encoding));
  for await (const part of decoder) {
    expect(typeof part).toBe('string');
    parts.push(part as string);
  }
  return parts.join('');
}

describe('detectEncoding', () => {
  it('reads plain ASCII/UTF-8 without a BOM as UTF-8 and hashes the raw bytes', async () => {
    const bytes = Buffer.from('Email ID,First Name\nana@example.com,Ana\n');
    const info = await detect(bytes);
    expect(info).toEqual({
      encoding: 'utf-8',
      bom: false,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });

  it('recognises the UTF-8 byte-order mark', async () => {
    const info = await detect(Buffer.concat([UTF8_BOM, Buffer.from('Email ID\nzoë@example.com\n')]));
    expect(info.encoding).toBe('utf-8');
    expect(info.bom).toBe(true);
  });

  it('accepts multi-byte UTF-8 split across 1-byte chunks', async () => {
    const bytes = Buffer.from('Email,Name\nj@x.io,José Müller 山田 🎉\n');
    const info = await detectEncoding(chunkedSource('users.csv', bytes, 1), MB);
    expect(info.encoding).toBe('utf-8');
    expect(info.bytes).toBe(bytes.length);
    expect(info.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it.each([
    ['le', 'utf-16le'],
    ['be', 'utf-16be'],
  ] as const)('recognises UTF-16%s with a BOM (Excel "Unicode Text")', async (endian, encoding) => {
    const info = await detect(utf16('Email ID\tFirst Name\nana@example.com\tAna\n', endian));
    expect(info.encoding).toBe(encoding);
    expect(info.bom).toBe(true);
  });

  it.each([
    ['le', 'utf-16le'],
    ['be', 'utf-16be'],
  ] as const)(
    'recognises UTF-16%s written without a BOM instead of calling it binary',
    async (endian, encoding) => {
      const info = await detect(utf16('Email ID\tFirst Name\nana@example.com\tAna\n', endian, false));
      expect(info).toMatchObject({ encoding, bom: false });
    },
  );

  it('falls back to Windows-1252 when the bytes are not valid UTF-8', async () => {
    // "Müller" and "José" as saved by Excel's "CSV (Comma delimited)" on a Western Windows.
    const bytes = Buffer.from([
      ...Buffer.from('Email,Last Name\nm@x.io,M'),
      0xfc,
      ...Buffer.from('ller\nj@x.io,Jos'),
      0xe9,
      0x0a,
    ]);
    expect(await detect(bytes)).toMatchObject({ encoding: 'windows-1252', bom: false });
  });

  it('falls back to Windows-1252 when the invalid byte comes long after a valid start, in tiny chunks', async () => {
    const valid = 'Email,Name\n' + 'ana@example.com,Ana Zoë\n'.repeat(3000);
    const bytes = Buffer.concat([Buffer.from(valid), Buffer.from([0x4d, 0xfc, 0x0a])]);
    const info = await detectEncoding(chunkedSource('users.csv', bytes, 7), MB);
    expect(info.encoding).toBe('windows-1252');
  });

  it('falls back to Windows-1252 when the file ends in the middle of a UTF-8 sequence', async () => {
    const bytes = Buffer.from([...Buffer.from('Email\na@x.io,Ren'), 0xc3]);
    expect((await detect(bytes)).encoding).toBe('windows-1252');
  });

  it('treats a UTF-8 BOM followed by invalid UTF-8 as Windows-1252 that starts with a BOM', async () => {
    const bytes = Buffer.concat([UTF8_BOM, Buffer.from('Email,Name\nm@x.io,M'), Buffer.from([0xfc, 0x0a])]);
    expect(await detect(bytes)).toMatchObject({ encoding: 'windows-1252', bom: true });
  });

  describe('empty files', () => {
    it.each([
      ['a 0-byte file', Buffer.alloc(0), /0 bytes/],
      ['a UTF-8 BOM only', UTF8_BOM, /only blank lines, spaces or a byte-order mark/],
      ['a UTF-16LE BOM only', Buffer.from([0xff, 0xfe]), /byte-order mark/],
      ['a UTF-16BE BOM and blanks', utf16(' \r\n\t\n', 'be'), /blank lines/],
      ['only blank lines and spaces', Buffer.from('\r\n  \n\t\n\n'), /blank lines/],
    ])('rejects %s as file-empty', async (_label, bytes, message) => {
      const err = await failure(detect(bytes));
      expect(err.code).toBe('file-empty');
      expect(err.message).toContain('"users.csv"');
      expect(err.message).toMatch(message);
    });
  });

  describe('binary files', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48]);
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0x06, 0]), Buffer.alloc(40, 1)]);
    const xls = Buffer.concat([
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
      Buffer.alloc(40),
    ]);
    const pdf = Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n', 'latin1');
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x80\x00\x00', 'latin1');
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46]);

    it.each([
      ['an XLSX workbook', zip, 'zip', /Excel workbook \(\.xlsx\).*Save As.*CSV/],
      ['an XLS workbook', xls, 'ole2', /Excel 97-2003 workbook \(\.xls\).*Save As.*CSV/],
      ['a PDF', pdf, 'pdf', /PDF document/],
      ['a PNG image', png, 'png', /PNG image/],
      ['a GIF image', gif, 'gif', /GIF image/],
      ['a JPEG image', jpeg, 'jpeg', /JPEG image/],
    ])('rejects %s by its signature', async (_label, bytes, kind, message) => {
      const err = await failure(detect(bytes));
      expect(err.code).toBe('file-binary');
      expect(err.details).toMatchObject({ kind, file: 'users.csv' });
      expect(err.message).toMatch(message);
      expect(err.message).toContain('"users.csv"');
    });

    it('rejects a signature even when it arrives one byte at a time', async () => {
      const err = await failure(detectEncoding(chunkedSource('book.xlsx', zip, 1), MB));
      expect(err.details).toMatchObject({ kind: 'zip' });
    });

    it('rejects text with a NUL byte', async () => {
      const bytes = Buffer.from('Email,Name\na@x.io,Ana\u0000\n');
      const err = await failure(detect(bytes));
      expect(err.code).toBe('file-binary');
      expect(err.details).toMatchObject({ kind: 'nul' });
    });

    it('rejects a NUL byte far into an otherwise plain file', async () => {
      const text = Buffer.from('Email,Name\n' + 'ana@example.com,Ana\n'.repeat(10000));
      const err = await failure(detect(Buffer.concat([text, Buffer.from([0x00, 0x41])])));
      expect(err.code).toBe('file-binary');
    });

    it('rejects data made mostly of control characters', async () => {
      const bytes = Buffer.alloc(4096);
      for (let i = 0; i < bytes.length; i++) bytes[i] = i % 2 === 0 ? 0x41 : 0x01 + (i % 8);
      const err = await failure(detect(bytes));
      expect(err.code).toBe('file-binary');
      expect(err.details).toMatchObject({ kind: 'control-characters' });
      expect(err.message).toMatch(/Save As/);
    });

    it('accepts a rare control character in real text', async () => {
      const bytes = Buffer.from('Email,Name\n' + 'ana@example.com,Ana\n'.repeat(50) + '\u001a');
      expect((await detect(bytes)).encoding).toBe('utf-8');
    });

    it('does not call a text file that merely starts like a signature binary', async () => {
      expect((await detect(Buffer.from('PK,Email\n1,a@x.io\n'))).encoding).toBe('utf-8');
    });
  });

  describe('size limit', () => {
    it('rejects a file whose known size exceeds the limit without reading it', async () => {
      const source: FileSource = {
        name: 'big.csv',
        bytes: 25 * MB,
        open: () => {
          throw new Error('must not be opened');
        },
      };
      const err = await failure(detectEncoding(source, 20 * MB));
      expect(err.code).toBe('file-too-large');
      expect(err.message).toContain('20 MB');
      expect(err.message).toContain('"big.csv"');
      expect(err.message).toContain('25 MB');
    });

    it('stops reading and rejects a stream that turns out larger than announced', async () => {
      const line = 'someone@example.com,Some,One\n';
      // Announces 1 KB, but produces about 3 MB.
      const source = generatedSource('growing.csv', () => Array.from({ length: 100000 }, () => line), {
        bytes: 1024,
      });
      const err = await failure(detectEncoding(source, 1 * MB));
      expect(err.code).toBe('file-too-large');
      expect(err.message).toMatch(/"growing\.csv" is larger than the 1 MB limit\./);
      expect(err.details).toMatchObject({ maxBytes: MB });
      expect(source.producedBytes).toBeLessThan(1.5 * MB);
      await new Promise((resolve) => setImmediate(resolve));
      expect(source.closed).toBe(1);
    });

    it('accepts a file of exactly the limit', async () => {
      const bytes = Buffer.alloc(2048, 'a');
      bytes.write('Email\n');
      expect((await detect(bytes, 2048)).bytes).toBe(2048);
    });

    it('names a fractional limit', async () => {
      const err = await failure(detect(Buffer.alloc(MB, 'a'), MB / 2));
      expect(err.message).toContain('0.5 MB limit');
    });
  });
});

describe('createDecoderStream', () => {
  const text = 'Email,Name\r\nzoë@x.io,Zoë 山田 🎉\n';

  it.each([
    ['utf-8', Buffer.concat([UTF8_BOM, Buffer.from(text)])],
    ['utf-8', Buffer.from(text)],
    ['utf-16le', utf16(text, 'le')],
    ['utf-16be', utf16(text, 'be')],
  ] as const)('decodes %s and drops the BOM, whole or byte by byte', async (encoding, bytes) => {
    expect(await decodeAll(encoding, bytes, 64 * 1024)).toBe(text);
    expect(await decodeAll(encoding, bytes, 1)).toBe(text);
    expect(await decodeAll(encoding, bytes, 3)).toBe(text);
  });

  it('decodes Windows-1252 letters and punctuation', async () => {
    const bytes = Buffer.from([
      0x4d, 0xfc, 0x6c, 0x6c, 0x65, 0x72, 0x2c, 0x4a, 0x6f, 0x73, 0xe9, 0x2c, 0x80, 0x93,
    ]);
    expect(await decodeAll('windows-1252', bytes, 1)).toBe('Müller,José,€“');
  });

  it('drops a UTF-8 BOM in front of Windows-1252 text, even byte by byte', async () => {
    const bytes = Buffer.concat([UTF8_BOM, Buffer.from([0x4d, 0xfc])]);
    expect(await decodeAll('windows-1252', bytes, 1)).toBe('Mü');
    expect(await decodeAll('windows-1252', Buffer.from([0xef, 0x41]), 1)).toBe('ïA');
  });

  it('keeps a second BOM, which is content rather than a mark', async () => {
    const bytes = Buffer.concat([UTF8_BOM, UTF8_BOM, Buffer.from('A')]);
    expect(await decodeAll('utf-8', bytes, 1)).toBe('\ufeffA');
  });

  it('emits strings even for an empty input', async () => {
    const parts: unknown[] = [];
    for await (const part of Readable.from([], { objectMode: false }).pipe(createDecoderStream('utf-8'))) {
      parts.push(part);
    }
    expect(parts).toEqual([]);
  });
});
