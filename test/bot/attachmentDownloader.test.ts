import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  AttachmentError,
  type AttachmentErrorCode,
  type DownloadOptions,
  downloadAttachment,
  isHostAllowed,
  MAX_REDIRECTS,
  pickUserFile,
  TEAMS_FILE_DOWNLOAD_INFO,
} from '../../bot/attachments/attachmentDownloader';
import type { FileSource } from '../../services/import/fileSource';

const CSV = 'email,name\nada@example.com,Ada\n';
const ALLOWED = ['*.botframework.com', 'smba.trafficmanager.net', '*.sharepoint.com'];

interface TestServer {
  url: string;
  /** Paths requested so far. */
  requests: string[];
  close(): Promise<void>;
}

async function serve(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<TestServer> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const servers: TestServer[] = [];
async function start(
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void,
): Promise<TestServer> {
  const server = await serve(handler);
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function options(overrides: Partial<DownloadOptions> = {}): DownloadOptions {
  return { maxBytes: 1024 * 1024, allowedHosts: ALLOWED, allowLoopbackHttp: true, ...overrides };
}

/** A fetch that fails the test if it is ever called. */
function forbiddenFetch(): jest.Mock {
  return jest.fn(() => {
    throw new Error('no request should have been made');
  });
}

/** A fetch standing in for https hosts: records the calls and answers from the table. */
function fakeFetch(answer: (url: string) => Response): {
  fetchImpl: typeof fetch;
  calls: [string, RequestInit][];
} {
  const calls: [string, RequestInit][] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push([String(input), init ?? {}]);
    return answer(String(input));
  }) as typeof fetch;
  return { fetchImpl, calls };
}

async function text(source: FileSource): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of source.open()) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function failure(promise: Promise<unknown>, code: AttachmentErrorCode): Promise<AttachmentError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AttachmentError);
  expect((err as AttachmentError).code).toBe(code);
  return err as AttachmentError;
}

function thrown(fn: () => unknown, code: AttachmentErrorCode): AttachmentError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AttachmentError);
  expect((caught as AttachmentError).code).toBe(code);
  return caught as AttachmentError;
}

const csvServer = () =>
  start((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/csv' });
    res.end(CSV);
  });

describe('downloadAttachment: loopback in local mode', () => {
  it('downloads over loopback http when allowLoopbackHttp is set, named after the attachment', async () => {
    const server = await csvServer();
    const source = await downloadAttachment(
      {
        contentType: 'text/csv',
        contentUrl: `${server.url}/v3/attachments/1`,
        name: 'C:\\Users\\ada\\users.csv',
      },
      options(),
    );
    expect(source.name).toBe('users.csv');
    expect(source.bytes).toBe(Buffer.byteLength(CSV));
    expect(await text(source)).toBe(CSV);
    expect(await text(source)).toBe(CSV); // re-readable
    expect(server.requests).toEqual(['/v3/attachments/1']);
  });

  it('refuses loopback http when allowLoopbackHttp is not set, without making a request', async () => {
    const server = await csvServer();
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/secret-path?token=SECRET`, name: 'users.csv' },
        options({ allowLoopbackHttp: false }),
      ),
      'attachment-not-allowed',
    );
    expect(err.message).toContain('127.0.0.1');
    expect(err.message).toContain('local mode');
    expect(err.message).not.toMatch(/SECRET|secret-path/);
    expect(server.requests).toEqual([]);
  });

  it('refuses localhost and [::1] outside local mode even if listed', async () => {
    for (const contentUrl of ['https://localhost/a.csv', 'https://[::1]/a.csv']) {
      const fetchImpl = forbiddenFetch();
      await failure(
        downloadAttachment(
          { contentType: 'text/csv', contentUrl, name: 'a.csv' },
          options({ allowLoopbackHttp: false, allowedHosts: ['localhost', '::1'], fetchImpl }),
        ),
        'attachment-not-allowed',
      );
      expect(fetchImpl).not.toHaveBeenCalled();
    }
  });
});

describe('downloadAttachment: data: links', () => {
  it('decodes base64 data', async () => {
    const contentUrl = `data:text/csv;base64,${Buffer.from(CSV).toString('base64')}`;
    const source = await downloadAttachment(
      { contentType: 'text/csv', contentUrl, name: 'u.csv' },
      options(),
    );
    expect(await text(source)).toBe(CSV);
    expect(source.name).toBe('u.csv');
  });

  it('decodes percent-encoded data, byte for byte (UTF-8 included), without a name', async () => {
    const contentUrl = 'data:text/csv,email%2Cname%0Aj%C3%B6rg%40example.com,J%C3%B6rg';
    const source = await downloadAttachment({ contentType: 'text/csv', contentUrl }, options());
    expect(await text(source)).toBe('email,name\njörg@example.com,Jörg');
    expect(source.name).toBe('uploaded file');
  });

  it('enforces maxBytes on the decoded size, for base64 and plain data', async () => {
    const body = 'x'.repeat(2000);
    const base64 = await failure(
      downloadAttachment(
        {
          contentType: 'text/csv',
          contentUrl: `data:text/csv;base64,${Buffer.from(body).toString('base64')}`,
        },
        options({ maxBytes: 1999 }),
      ),
      'attachment-too-large',
    );
    expect(base64.message).toMatch(/MB limit/);
    // Exactly at the limit is fine: the decoded size counts, not the (longer) base64 text.
    const atLimit = await downloadAttachment(
      { contentType: 'text/csv', contentUrl: `data:text/csv;base64,${Buffer.from(body).toString('base64')}` },
      options({ maxBytes: 2000 }),
    );
    expect(atLimit.bytes).toBe(2000);
    // "%41" is three characters but one byte: 900 bytes decoded, under a 1000-byte limit.
    const plain = await downloadAttachment(
      { contentType: 'text/csv', contentUrl: `data:,${'%41'.repeat(900)}` },
      options({ maxBytes: 1000 }),
    );
    expect(plain.bytes).toBe(900);
    await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `data:,${'%41'.repeat(1001)}` },
        options({ maxBytes: 1000 }),
      ),
      'attachment-too-large',
    );
  });

  it('names the limit in MB', async () => {
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `data:,${'a'.repeat(100)}`, name: 'big.csv' },
        options({ maxBytes: 50 }),
      ),
      'attachment-too-large',
    );
    expect(err.message).toContain('"big.csv"');
    expect(err.message).toMatch(/\d MB limit/);
    const tenMb = await failure(
      downloadAttachment(
        {
          contentType: 'text/csv',
          contentUrl: `data:;base64,${Buffer.alloc(10 * 1024 * 1024 + 3).toString('base64')}`,
        },
        options({ maxBytes: 10 * 1024 * 1024 }),
      ),
      'attachment-too-large',
    );
    expect(tenMb.message).toContain('10 MB limit');
  });

  it('rejects malformed base64', async () => {
    const err = await failure(
      downloadAttachment({ contentType: 'text/csv', contentUrl: 'data:text/csv;base64,ab$$cd' }, options()),
      'attachment-failed',
    );
    expect(err.message).toContain('base64');
  });
});

describe('downloadAttachment: host allowlist', () => {
  it('refuses a host not on the allowlist without making any request, naming only the host', async () => {
    const fetchImpl = forbiddenFetch();
    const err = await failure(
      downloadAttachment(
        {
          contentType: 'text/csv',
          contentUrl: 'https://files.evil.example/path/x.csv?sig=SECRET',
          name: 'x.csv',
        },
        options({ fetchImpl }),
      ),
      'attachment-not-allowed',
    );
    expect(fetchImpl).not.toHaveBeenCalled();
    expect(err.message).toContain('files.evil.example');
    expect(err.message).not.toMatch(/SECRET|\/path\//);
    expect(err.details).toEqual({ host: 'files.evil.example' });
  });

  it('refuses plain http to a listed host, and IP literals', async () => {
    for (const contentUrl of [
      'http://contoso.sharepoint.com/x.csv',
      'https://10.1.2.3/x.csv',
      'https://[2001:db8::1]/x',
    ]) {
      const fetchImpl = forbiddenFetch();
      await failure(
        downloadAttachment(
          { contentType: 'text/csv', contentUrl, name: 'x.csv' },
          options({ fetchImpl, allowedHosts: [...ALLOWED, '10.1.2.3', '2001:db8::1'] }),
        ),
        'attachment-not-allowed',
      );
      expect(fetchImpl).not.toHaveBeenCalled();
    }
  });

  it('refuses links with credentials and non-http schemes', async () => {
    for (const contentUrl of [
      'https://user:pw@a.sharepoint.com/x.csv',
      'file:///etc/passwd',
      'ftp://a.sharepoint.com/x',
    ]) {
      const fetchImpl = forbiddenFetch();
      const err = await failure(
        downloadAttachment({ contentType: 'text/csv', contentUrl, name: 'x.csv' }, options({ fetchImpl })),
        'attachment-not-allowed',
      );
      expect(err.message).not.toContain('pw');
      expect(fetchImpl).not.toHaveBeenCalled();
    }
  });

  it('matches wildcards on subdomains only, case-insensitively', async () => {
    const { fetchImpl, calls } = fakeFetch(() => new Response(CSV, { status: 200 }));
    const ok = await downloadAttachment(
      {
        contentType: 'text/csv',
        contentUrl: 'https://A.SharePoint.COM/sites/x/users.csv?tempauth=abc',
        name: 'u.csv',
      },
      options({ fetchImpl, allowLoopbackHttp: false }),
    );
    expect(await text(ok)).toBe(CSV);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.[0]).toBe('https://a.sharepoint.com/sites/x/users.csv?tempauth=abc');
    expect(calls[0]?.[1].redirect).toBe('manual');
    expect(calls[0]?.[1].signal).toBeInstanceOf(AbortSignal);

    for (const host of [
      'sharepoint.com.evil.com',
      'sharepoint.com',
      'evilsharepoint.com',
      'x.smba.trafficmanager.net',
    ]) {
      const forbidden = forbiddenFetch();
      const err = await failure(
        downloadAttachment(
          { contentType: 'text/csv', contentUrl: `https://${host}/users.csv`, name: 'u.csv' },
          options({ fetchImpl: forbidden }),
        ),
        'attachment-not-allowed',
      );
      expect(err.message).toContain(host);
      expect(forbidden).not.toHaveBeenCalled();
    }
  });

  it('isHostAllowed handles exact entries, wildcards, case and trailing dots', () => {
    expect(isHostAllowed('smba.trafficmanager.net', ALLOWED)).toBe(true);
    expect(isHostAllowed('SMBA.trafficmanager.net.', ALLOWED)).toBe(true);
    expect(isHostAllowed('deep.a.botframework.com', ALLOWED)).toBe(true);
    expect(isHostAllowed('botframework.com', ALLOWED)).toBe(false);
    expect(isHostAllowed('a.sharepoint.com', [' *.SharePoint.com. '])).toBe(true);
    expect(isHostAllowed('anything.com', ['*', '*.', ''])).toBe(false);
  });
});

describe('downloadAttachment: size limits while downloading', () => {
  it('stops streaming as soon as maxBytes is exceeded and closes the connection', async () => {
    let sent = 0;
    let markClosed: () => void = () => undefined;
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    const server = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' }); // chunked: no content-length
      res.on('close', () => markClosed());
      const chunk = Buffer.alloc(16 * 1024, 'a');
      const pump = () => {
        // Would send 50 MB if the client kept reading.
        if (res.destroyed || sent >= 50 * 1024 * 1024) return;
        sent += chunk.length;
        if (res.write(chunk)) setImmediate(pump);
        else res.once('drain', pump);
      };
      pump();
    });
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/big.csv`, name: 'big.csv' },
        options({ maxBytes: 100 * 1024, timeoutMs: 10_000 }),
      ),
      'attachment-too-large',
    );
    expect(err.message).toContain('"big.csv"');
    expect(err.message).toContain('0.1 MB limit');
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([
      closed,
      new Promise(
        (_, reject) => (guard = setTimeout(() => reject(new Error('server never saw the close')), 5000)),
      ),
    ]).finally(() => clearTimeout(guard));
    expect(sent).toBeLessThan(10 * 1024 * 1024);
  });

  it('rejects a declared Content-Length over the limit before reading the body', async () => {
    const server = await start((_req, res) => {
      // Declares 5 MB and then sends nothing: reading the body would run into the timeout instead.
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': String(5 * 1024 * 1024) });
      res.flushHeaders();
    });
    const started = Date.now();
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/declared.csv`, name: 'declared.csv' },
        options({ maxBytes: 1024 * 1024, timeoutMs: 5000 }),
      ),
      'attachment-too-large',
    );
    expect(Date.now() - started).toBeLessThan(4000);
    expect(err.message).toContain('5 MB, over the 1 MB limit');
    expect(err.details).toEqual({ maxBytes: 1024 * 1024, bytes: 5 * 1024 * 1024 });
  });

  it('accepts a body exactly at the limit', async () => {
    const server = await start((_req, res) => res.end('x'.repeat(1000)));
    const source = await downloadAttachment(
      { contentType: 'text/plain', contentUrl: `${server.url}/f.txt`, name: 'f.txt' },
      options({ maxBytes: 1000 }),
    );
    expect(source.bytes).toBe(1000);
  });
});

describe('downloadAttachment: redirects, errors and timeouts', () => {
  it(`follows up to ${MAX_REDIRECTS} redirects to allowed targets`, async () => {
    const server = await start((req, res) => {
      const hop = Number(req.url?.slice(1) || '0');
      if (hop < MAX_REDIRECTS) {
        res.writeHead(302, { location: `/${hop + 1}` });
        res.end();
      } else {
        res.end(CSV);
      }
    });
    const source = await downloadAttachment(
      { contentType: 'text/csv', contentUrl: `${server.url}/0`, name: 'u.csv' },
      options(),
    );
    expect(await text(source)).toBe(CSV);
    expect(server.requests).toEqual(['/0', '/1', '/2', '/3']);
  });

  it('gives up after too many redirects', async () => {
    const server = await start((req, res) => {
      res.writeHead(307, { location: `/again${req.url ?? ''}` });
      res.end();
    });
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/x`, name: 'u.csv' },
        options(),
      ),
      'attachment-failed',
    );
    expect(err.message).toContain(`more than ${MAX_REDIRECTS} times`);
    expect(server.requests).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('refuses a redirect to a host not on the allowlist, without requesting it', async () => {
    const server = await start((_req, res) => {
      res.writeHead(302, { location: 'https://collector.evil.example/steal?token=SECRET' });
      res.end();
    });
    const realFetch = fetch;
    const seen: string[] = [];
    const fetchImpl = ((input: string | URL | Request, init?: RequestInit) => {
      seen.push(String(input));
      return realFetch(input, init);
    }) as typeof fetch;
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/start`, name: 'u.csv' },
        options({ fetchImpl }),
      ),
      'attachment-not-allowed',
    );
    expect(err.message).toContain('collector.evil.example');
    expect(err.message).toContain('redirected there by 127.0.0.1');
    expect(err.message).not.toContain('SECRET');
    expect(seen).toEqual([`${server.url}/start`]);
  });

  it('refuses a redirect from https to plain http', async () => {
    const { fetchImpl, calls } = fakeFetch(
      () => new Response(null, { status: 301, headers: { location: 'http://a.sharepoint.com/x.csv' } }),
    );
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: 'https://a.sharepoint.com/x.csv', name: 'x.csv' },
        options({ fetchImpl }),
      ),
      'attachment-not-allowed',
    );
    expect(err.message).toContain('plain http');
    expect(calls).toHaveLength(1);
  });

  it('reports an HTTP error status with the host only', async () => {
    const server = await start((_req, res) => {
      res.writeHead(404);
      res.end('nope');
    });
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/gone.csv?sig=SECRET`, name: 'gone.csv' },
        options(),
      ),
      'attachment-failed',
    );
    expect(err.message).toContain('127.0.0.1 answered HTTP 404');
    expect(err.message).not.toContain('SECRET');
  });

  it('reports a refused connection without quoting the link', async () => {
    const server = await serve((_req, res) => res.end());
    const url = `${server.url}/x.csv?sig=SECRET`;
    await server.close();
    const err = await failure(
      downloadAttachment({ contentType: 'text/csv', contentUrl: url, name: 'x.csv' }, options()),
      'attachment-failed',
    );
    expect(err.message).toContain('connection was refused');
    expect(err.message).not.toContain('SECRET');
  });

  it('aborts when the server does not answer within timeoutMs', async () => {
    const server = await start(() => undefined); // never answers
    const started = Date.now();
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/slow.csv`, name: 'slow.csv' },
        options({ timeoutMs: 300 }),
      ),
      'attachment-failed',
    );
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err.message).toContain('longer than 0.3 seconds');
  });

  it('aborts when the body stalls past timeoutMs', async () => {
    const server = await start((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('email\n'); // and then nothing more
    });
    const err = await failure(
      downloadAttachment(
        { contentType: 'text/csv', contentUrl: `${server.url}/stall.csv`, name: 'stall.csv' },
        options({ timeoutMs: 300 }),
      ),
      'attachment-failed',
    );
    expect(err.message).toContain('took longer than');
  });

  it('rejects something that is not a file attachment', async () => {
    await failure(
      downloadAttachment({ contentType: 'text/html', content: '<b>hi</b>' }, options()),
      'attachment-unsupported',
    );
    await failure(downloadAttachment(null, options()), 'attachment-unsupported');
  });
});

describe('downloadAttachment: Teams personal chat files', () => {
  const teamsFile = (downloadUrl: string) => ({
    contentType: TEAMS_FILE_DOWNLOAD_INFO,
    contentUrl: 'https://contoso.sharepoint.com/personal/ada/Documents/users.csv',
    name: 'users.csv',
    content: { downloadUrl, fileType: 'csv', uniqueId: '1150D938-8870-4044-9F2C-5BBDEBA70C8C' },
  });

  it('downloads content.downloadUrl (not contentUrl) without sending any token', async () => {
    const { fetchImpl, calls } = fakeFetch(() => new Response(CSV, { status: 200 }));
    const source = await downloadAttachment(
      teamsFile('https://contoso-my.sharepoint.com/_layouts/15/download.aspx?UniqueId=1&tempauth=TOKEN'),
      options({ fetchImpl, allowLoopbackHttp: false }),
    );
    expect(await text(source)).toBe(CSV);
    expect(source.name).toBe('users.csv');
    expect(calls.map(([url]) => url)).toEqual([
      'https://contoso-my.sharepoint.com/_layouts/15/download.aspx?UniqueId=1&tempauth=TOKEN',
    ]);
    expect(calls[0]?.[1].headers).toBeUndefined();
  });

  it('downloads from a loopback downloadUrl in local mode', async () => {
    const server = await csvServer();
    const source = await downloadAttachment(teamsFile(`${server.url}/download`), options());
    expect(await text(source)).toBe(CSV);
    expect(server.requests).toEqual(['/download']);
  });

  it('applies the allowlist to the downloadUrl and never accepts a data: downloadUrl', async () => {
    const fetchImpl = forbiddenFetch();
    await failure(
      downloadAttachment(teamsFile('https://attacker.example/download'), options({ fetchImpl })),
      'attachment-not-allowed',
    );
    await failure(
      downloadAttachment(
        teamsFile(`data:text/csv;base64,${Buffer.from(CSV).toString('base64')}`),
        options({ fetchImpl }),
      ),
      'attachment-not-allowed',
    );
    expect(fetchImpl).not.toHaveBeenCalled();
  });

  it('refuses a Teams file without downloadUrl instead of falling back to its SharePoint contentUrl', async () => {
    const fetchImpl = forbiddenFetch();
    const { content: _content, ...withoutContent } = teamsFile('https://contoso.sharepoint.com/d');
    const err = await failure(
      downloadAttachment(withoutContent, options({ fetchImpl })),
      'attachment-unsupported',
    );
    expect(err.message).toContain('without a usable download link');
    expect(fetchImpl).not.toHaveBeenCalled();
  });
});

describe('pickUserFile', () => {
  const csv = {
    contentType: 'text/csv',
    contentUrl: 'https://x.botframework.com/v3/attachments/1',
    name: 'u.csv',
  };
  const teamsHtml = { contentType: 'text/html', content: '<div>here you go</div>' };

  it('returns the single CSV, ignoring non-file attachments such as the Teams HTML copy', () => {
    expect(pickUserFile([teamsHtml, csv])).toEqual(csv);
  });

  it('accepts .csv/.txt whatever the browser called them, and text types without an extension', () => {
    const excelLabelled = { ...csv, contentType: 'application/vnd.ms-excel', name: 'Users.CSV' };
    expect(pickUserFile([excelLabelled])).toEqual(excelLabelled);
    const txt = { ...csv, contentType: '', name: 'list.txt' };
    expect(pickUserFile([txt])).toEqual(txt);
    const unnamed = { contentType: 'text/plain', contentUrl: 'data:,a%40b.c' };
    expect(pickUserFile([unnamed])).toEqual(unnamed);
  });

  it('says when there is no file', () => {
    expect(thrown(() => pickUserFile(undefined), 'attachment-missing').message).toContain(
      'did not find a file',
    );
    thrown(() => pickUserFile([]), 'attachment-missing');
    thrown(() => pickUserFile([teamsHtml, 'junk', null]), 'attachment-missing');
  });

  it('asks for one file at a time', () => {
    const err = thrown(() => pickUserFile([csv, { ...csv, name: 'v.csv' }]), 'attachment-multiple');
    expect(err.message).toContain('2 files; send one file at a time');
  });

  it('recognises an inline picture', () => {
    const err = thrown(
      () =>
        pickUserFile([
          { contentType: 'image/png', contentUrl: 'https://smba.trafficmanager.net/x', name: 'shot.png' },
        ]),
      'attachment-unsupported',
    );
    expect(err.message).toContain('looks like a picture; send the CSV, TXT or Excel file itself');
  });

  it('refuses a PDF', () => {
    const err = thrown(
      () => pickUserFile([{ contentType: 'application/pdf', contentUrl: csv.contentUrl, name: 'users.pdf' }]),
      'attachment-unsupported',
    );
    expect(err.message).toContain('"users.pdf" is a .pdf file');
    expect(err.message).toContain('CSV or TXT');
  });

  it('accepts Excel workbooks by extension, and by content type without one', () => {
    const xlsxType = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    for (const attachment of [
      { contentType: xlsxType, contentUrl: csv.contentUrl, name: 'users.xlsx' },
      { contentType: 'application/octet-stream', contentUrl: csv.contentUrl, name: 'Users.XLSX' },
      { contentType: '', contentUrl: csv.contentUrl, name: 'users.xlsm' },
      // An .xls is let through so that its content decides: the old binary format gets a message saying how
      // to save it as .xlsx, and text exported under an .xls name is read.
      { contentType: 'application/vnd.ms-excel', contentUrl: csv.contentUrl, name: 'users.xls' },
      { contentType: xlsxType, contentUrl: csv.contentUrl },
    ]) {
      expect(pickUserFile([attachment])).toEqual(attachment);
    }
  });

  it('tells users of other spreadsheet programs to save as .xlsx or CSV', () => {
    for (const name of ['users.ods', 'users.xlsb', 'users.numbers']) {
      const err = thrown(
        () => pickUserFile([{ contentType: 'application/octet-stream', contentUrl: csv.contentUrl, name }]),
        'attachment-unsupported',
      );
      expect(err.message).toContain(`"${name}" is a .${name.split('.')[1]} spreadsheet, which I cannot read`);
      expect(err.message).toContain('save it as an Excel workbook (.xlsx) or as CSV');
    }
  });

  it('accepts a Teams CSV file and judges Teams files by fileType', () => {
    const teams = {
      contentType: TEAMS_FILE_DOWNLOAD_INFO,
      contentUrl: 'https://contoso.sharepoint.com/personal/ada/Documents/users.csv',
      name: 'users.csv',
      content: { downloadUrl: 'https://contoso.sharepoint.com/download?x=1', fileType: 'csv' },
    };
    expect(pickUserFile([teams, teamsHtml])).toEqual({
      contentType: TEAMS_FILE_DOWNLOAD_INFO,
      name: 'users.csv',
      content: teams.content,
    });
    const workbook = { ...teams, name: 'users.xlsx', content: { ...teams.content, fileType: 'xlsx' } };
    expect(pickUserFile([workbook, teamsHtml])).toEqual({
      contentType: TEAMS_FILE_DOWNLOAD_INFO,
      name: 'users.xlsx',
      content: workbook.content,
    });
    // Teams' fileType wins over the name.
    const binary = { ...teams, name: 'users.xlsx', content: { ...teams.content, fileType: 'xlsb' } };
    expect(thrown(() => pickUserFile([binary]), 'attachment-unsupported').message).toContain(
      'is a .xlsb spreadsheet, which I cannot read',
    );
  });

  it('reports a Teams file without a download link', () => {
    const err = thrown(
      () =>
        pickUserFile([
          { contentType: TEAMS_FILE_DOWNLOAD_INFO, name: 'u.csv', content: { fileType: 'csv' } },
        ]),
      'attachment-unsupported',
    );
    expect(err.message).toContain('Teams file arrived without a usable download link');
  });
});
