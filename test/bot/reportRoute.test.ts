import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ActivityHandler, CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import Papa from 'papaparse';
import type restify from 'restify';
import { createHttpServer } from '../../bot/httpServer';
import { registerReportRoute } from '../../bot/reports/reportRoute';
import { ImportHistory } from '../../services/history/importHistory';
import type { ImportRecord, RowResult } from '../../services/history/importRecord';
import { signReportPath, type ReportLinkClaims } from '../../services/history/reportLinks';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { createLogger } from '../../services/logger';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const KEY = randomBytes(32);
const ACCOUNT = 'acct1';
const CSV_TEXT = [
  'Email ID,First Name,Last Name,User Status',
  'jane@acme.com,Jane,Doe,new',
  'zoe@acme.com,Zoë,Ångström,update',
  'not-an-email,Bad,Row,new',
  '=cmd|calc,Evil,Row,new',
].join('\n');

let t: TestDatabase;
let record: ImportRecord;
let seedRecord: ImportRecord;

beforeAll(async () => {
  t = await openTestDatabase();
  const service = new ImportService(t.db, { maxFileBytes: 1e6, batchSize: 2 });
  // Zoë exists with an ASCII spelling first, so the report's Changes column carries the accented names.
  const seed = 'Email ID,First Name,Last Name,User Status\nzoe@acme.com,Zoe,Angstrom,new\n';
  seedRecord = await service.commit(
    fileSourceFromBuffer('seed.csv', Buffer.from(seed)),
    ACCOUNT,
    {},
    {
      by: 'admin',
    },
  );
  const source = fileSourceFromBuffer('Zoë’s staff.csv', Buffer.from(CSV_TEXT));
  record = await service.commit(source, ACCOUNT, {}, { by: 'admin' });
});
afterAll(async () => t.close());

interface RunningBot {
  url: string;
  logLines: string[];
  close(): Promise<void>;
}

/** The bot's real HTTP server with the report route mounted the way the entry point mounts it. */
async function startServer(history: ImportHistory = new ImportHistory(t.db)): Promise<RunningBot> {
  const logLines: string[] = [];
  const log = createLogger('debug', (line) => logLines.push(line));
  const server: restify.Server = createHttpServer({
    adapter: new CloudAdapter(new ConfigurationBotFrameworkAuthentication({})),
    bot: new ActivityHandler(),
    isReady: async () => true,
    registerRoutes: (s) => registerReportRoute(s, { history, key: KEY, log }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    logLines,
    close: () =>
      new Promise<void>((resolve) => {
        server.server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

let bot: RunningBot;
beforeEach(async () => {
  bot = await startServer();
});
afterEach(async () => bot.close());

function link(claims: Partial<ReportLinkClaims> = {}): string {
  return signReportPath(
    {
      importId: record._id,
      accountId: ACCOUNT,
      expiresAt: new Date(Date.now() + 3600_000),
      format: 'csv',
      ...claims,
    },
    KEY,
  );
}

function parseCsv(text: string): string[][] {
  const parsed = Papa.parse<string[]>(text, { header: false, skipEmptyLines: true });
  expect(parsed.errors).toEqual([]);
  return parsed.data;
}

/** Checks a refusal page: the status, plain HTML, not cached, and nothing from the import in it. */
async function expectRefusal(response: Response, status: number): Promise<string> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  const body = await response.text();
  expect(body).toMatch(/^<!doctype html>/);
  expect(body.length).toBeLessThan(1000);
  for (const secret of [record._id, ACCOUNT, 'acme.com', 'Zoë', 'Error', ' at ']) {
    expect(body).not.toContain(secret);
  }
  return body;
}

describe('GET /reports/<importId>.csv', () => {
  it('serves the per-row report as a UTF-8 CSV attachment with a BOM', async () => {
    expect(record.accountId).toBe(ACCOUNT);
    const response = await fetch(`${bot.url}${link()}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="import-${record._id}.csv"`,
    );
    expect(response.headers.get('cache-control')).toBe('private, no-store');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');

    const bytes = Buffer.from(await response.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parseCsv(bytes.subarray(3).toString('utf8'));
    expect(rows[0]).toEqual(['Row', 'Email', 'Requested Action', 'Outcome', 'Reason', 'Changes']);
    const byEmail = new Map(rows.slice(1).map((r) => [r[1], r]));
    expect(rows).toHaveLength(5);
    expect(byEmail.get('jane@acme.com')?.slice(0, 4)).toEqual(['2', 'jane@acme.com', 'new', 'created']);
    const zoe = byEmail.get('zoe@acme.com');
    expect(zoe?.slice(0, 4)).toEqual(['3', 'zoe@acme.com', 'update', 'updated']);
    expect(zoe?.[5]).toContain('firstName: Zoe -> Zoë');
    expect(zoe?.[5]).toContain('lastName: Angstrom -> Ångström');
    const invalid = byEmail.get('not-an-email');
    expect(invalid?.slice(0, 4)).toEqual(['4', 'not-an-email', 'new', 'ignored']);
    expect(invalid?.[4]).toMatch(/not a valid email/);
    // The formula-like cell comes back with its leading apostrophe, so a spreadsheet shows it as text.
    const formula = byEmail.get("'=cmd|calc");
    expect(formula?.[3]).toBe('ignored');
  });

  it('never names the download after the uploaded file', async () => {
    const response = await fetch(`${bot.url}${link()}`);
    expect(response.headers.get('content-disposition')).not.toMatch(/staff|Zo/);
    await response.arrayBuffer();
  });

  it('answers 404 for a link to another account’s import, and for an import that does not exist', async () => {
    await expectRefusal(await fetch(`${bot.url}${link({ accountId: 'acct2' })}`), 404);
    await expectRefusal(await fetch(`${bot.url}${link({ importId: 'imp_doesnotexist1' })}`), 404);
  });

  it('answers 403 for a tampered link', async () => {
    const signed = link();
    const otherAccount = signed.replace('a=acct1', 'a=acct2');
    await expectRefusal(await fetch(`${bot.url}${otherAccount}`), 403);
    const laterExpiry = signed.replace(/e=(\d+)/, (_m, e: string) => `e=${Number(e) + 3600}`);
    await expectRefusal(await fetch(`${bot.url}${laterExpiry}`), 403);
    const otherSignature = signed.replace(
      /s=([A-Za-z0-9_-])/,
      (_m, c: string) => `s=${c === 'A' ? 'B' : 'A'}`,
    );
    await expectRefusal(await fetch(`${bot.url}${otherSignature}`), 403);
    const otherKey = signReportPath(
      { importId: record._id, accountId: ACCOUNT, expiresAt: new Date(Date.now() + 3600_000), format: 'csv' },
      randomBytes(32),
    );
    await expectRefusal(await fetch(`${bot.url}${otherKey}`), 403);
  });

  it('answers 410 for an expired link, saying how to get a new one', async () => {
    const response = await fetch(`${bot.url}${link({ expiresAt: new Date(Date.now() - 1000) })}`);
    const body = await expectRefusal(response, 410);
    expect(body).toMatch(/expired/);
    expect(body).toContain('show last import results');
  });

  it('answers 400 for a link that is not a report link', async () => {
    const signed = link();
    await expectRefusal(await fetch(`${bot.url}${signed.replace('.csv?', '.json?')}`), 400);
    await expectRefusal(await fetch(`${bot.url}${signed.split('?')[0]}`), 400);
    await expectRefusal(await fetch(`${bot.url}/reports/whatever`), 400);
    await expectRefusal(await fetch(`${bot.url}${signed.replace(/&s=.*/, '')}`), 400);
  });

  it('logs refusals by reason only', async () => {
    await (await fetch(`${bot.url}${link().replace('a=acct1', 'a=acct2')}`)).text();
    const refusal = bot.logLines
      .map((line) => JSON.parse(line))
      .find((l) => l.message === 'Report link refused');
    expect(refusal).toMatchObject({ level: 'info', reason: 'bad-signature' });
    expect(bot.logLines.join('\n')).not.toContain('acct2');
  });
});

describe('GET /reports/<importId>.fix.csv', () => {
  const fixLink = (claims: Partial<ReportLinkClaims> = {}) => link({ format: 'fix.csv', ...claims });

  it('serves the rows not imported, as written and with why, named after the imported file', async () => {
    const signed = fixLink();
    expect(signed.startsWith(`/reports/${record._id}.fix.csv?a=acct1&e=`)).toBe(true);
    const response = await fetch(`${bot.url}${signed}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toBe(
      'attachment; filename="Zoe-s-staff-fix-rows.csv"',
    );
    expect(response.headers.get('cache-control')).toBe('private, no-store');

    const bytes = Buffer.from(await response.arrayBuffer());
    // One byte order mark, not two.
    expect([...bytes.subarray(0, 6)]).toEqual([0xef, 0xbb, 0xbf, ...Buffer.from('Ema')]);
    expect(parseCsv(bytes.subarray(3).toString('utf8'))).toEqual([
      [
        'Email ID',
        'First Name',
        'Last Name',
        'Alternate ID',
        'Work Phone',
        'Title',
        'Department',
        'User Status',
        'Problem',
      ],
      [
        'not-an-email',
        'Bad',
        'Row',
        '',
        '',
        '',
        '',
        'new',
        'Row 4: "not-an-email" is not a valid email address.',
      ],
      [
        "'=cmd|calc",
        'Evil',
        'Row',
        '',
        '',
        '',
        '',
        'new',
        'Row 5: "=cmd|calc" is not a valid email address.',
      ],
    ]);
  });

  it('serves only the header for an import with every row imported', async () => {
    const response = await fetch(`${bot.url}${fixLink({ importId: seedRecord._id })}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="seed-fix-rows.csv"');
    expect(Buffer.from(await response.arrayBuffer()).toString('utf8')).toBe(
      '\uFEFFEmail ID,First Name,Last Name,Alternate ID,Work Phone,Title,Department,User Status,Problem\r\n',
    );
  });

  it('refuses a report link turned into a fix-file link and back (403), and keeps 404 and 410', async () => {
    await expectRefusal(await fetch(`${bot.url}${link().replace('.csv?', '.fix.csv?')}`), 403);
    await expectRefusal(await fetch(`${bot.url}${fixLink().replace('.fix.csv?', '.csv?')}`), 403);
    await expectRefusal(await fetch(`${bot.url}${fixLink().replace('.fix.csv?', '.fix.json?')}`), 400);
    await expectRefusal(await fetch(`${bot.url}${fixLink({ accountId: 'acct2' })}`), 404);
    await expectRefusal(await fetch(`${bot.url}${fixLink({ importId: 'imp_doesnotexist1' })}`), 404);
    await expectRefusal(await fetch(`${bot.url}${fixLink({ expiresAt: new Date(Date.now() - 1000) })}`), 410);
  });
});

/** A history that pauses after the first row until released, and records that the report freed its rows. */
class PausingHistory extends ImportHistory {
  released!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.released = resolve));
  finished = false;

  override async *rowResults(importId: string): AsyncGenerator<RowResult> {
    try {
      let first = true;
      for await (const row of super.rowResults(importId)) {
        yield row;
        if (first) await this.gate;
        first = false;
      }
    } finally {
      this.finished = true;
    }
  }
}

describe('a download the client abandons', () => {
  it('stops the report, frees its rows, logs no personal data and keeps serving', async () => {
    const history = new PausingHistory(t.db);
    const server = await startServer(history);
    try {
      await new Promise<void>((resolve, reject) => {
        const request = http.get(`${server.url}${link()}`, (response) => {
          expect(response.statusCode).toBe(200);
          response.once('data', () => {
            request.destroy();
            resolve();
          });
        });
        request.on('error', (err) => (request.destroyed ? undefined : reject(err)));
      });
      // Give the server time to see the connection close before the report writes its next row.
      await new Promise((resolve) => setTimeout(resolve, 200));
      history.released();
      for (let i = 0; i < 100 && !history.finished; i++) await new Promise((r) => setTimeout(r, 20));
      expect(history.finished).toBe(true);

      const logs = server.logLines.join('\n');
      expect(logs).toContain('Report download ended by the client');
      for (const personal of ['acme.com', 'Zoë', 'Jane', 'not-an-email'])
        expect(logs).not.toContain(personal);

      const again = await fetch(`${server.url}${link()}`);
      expect(again.status).toBe(200);
      expect(
        parseCsv(
          Buffer.from(await again.arrayBuffer())
            .subarray(3)
            .toString('utf8'),
        ),
      ).toHaveLength(5);
    } finally {
      history.released();
      await server.close();
    }
  });
});
