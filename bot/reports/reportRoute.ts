import type restify from 'restify';
import { isAppError } from '../../services/errors';
import type { ImportHistory } from '../../services/history/importHistory';
import { fixFileName, writeFixCsv } from '../../services/history/fixFile';
import type { ImportRecord } from '../../services/history/importRecord';
import { verifyReportRequest, type ReportLinkFailure } from '../../services/history/reportLinks';
import { writeCsvReport } from '../../services/history/rowReport';
import type { Logger } from '../../services/logger';

export interface ReportRouteDeps {
  history: ImportHistory;
  /** The key report links are signed with; the same on every instance. */
  key: Buffer;
  log?: Logger;
}

/** Excel takes a CSV without a byte order mark for the local code page and garbles names such as "Zoë". */
const UTF8_BOM = '\uFEFF';

// The pages echo nothing from the request: a refused link learns its status and what to do, nothing else.
const REFUSALS: Record<ReportLinkFailure | 'not-found' | 'unavailable', { status: number; text: string }> = {
  malformed: { status: 400, text: 'This is not a valid report link. Open the link from the bot’s message.' },
  'bad-signature': {
    status: 403,
    text: 'This report link is not valid. Open the link exactly as the bot sent it.',
  },
  expired: {
    status: 410,
    text: 'This report link has expired. Ask the bot for “show last import results” to get a new one.',
  },
  'not-found': { status: 404, text: 'This report is not available.' },
  unavailable: { status: 500, text: 'The report could not be produced right now. Please try again later.' },
};

function refuse(res: restify.Response, kind: keyof typeof REFUSALS): void {
  const { status, text } = REFUSALS[kind];
  const body =
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Import report</title></head>' +
    `<body><p>${text}</p></body></html>\n`;
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "default-src 'none'",
  });
  res.end(body);
}

/**
 * Serves `GET /reports/<importId>.csv?a=…&e=…&s=…`: the per-row report of one import, to whoever holds a
 * link the bot signed; and `GET /reports/<importId>.fix.csv?…`, its fix file (the rows not imported, with
 * why, to correct and send back), under a link signed for that format. The signature is the authorization, so the download works in every channel without
 * a sign-in; the link names the account and expires.
 */
export function registerReportRoute(server: restify.Server, deps: ReportRouteDeps): void {
  server.get('/reports/:file', async (req, res) => {
    const file = String(req.params?.file ?? '');
    // Import ids have no dot, so the format is everything after the first: "csv" or "fix.csv".
    const dot = file.indexOf('.');
    // Read from the raw URL so the route does not depend on the server having a query parser mounted.
    const query = new URL(req.url ?? '/', 'http://report.invalid').searchParams;
    const verdict = verifyReportRequest(
      {
        importId: dot === -1 ? file : file.slice(0, dot),
        format: dot === -1 ? '' : file.slice(dot + 1),
        a: query.get('a') ?? undefined,
        e: query.get('e') ?? undefined,
        s: query.get('s') ?? undefined,
      },
      deps.key,
    );
    if (!verdict.ok) {
      deps.log?.info('Report link refused', { reason: verdict.reason });
      refuse(res, verdict.reason);
      return;
    }
    const { importId, accountId, format } = verdict.claims;

    let record: ImportRecord;
    try {
      record = await deps.history.get(importId);
    } catch (err) {
      if (isAppError(err, 'import-not-found')) {
        refuse(res, 'not-found');
      } else {
        deps.log?.error('Report could not be read', { importId, error: errorName(err) });
        refuse(res, 'unavailable');
      }
      return;
    }
    // A link only ever opens its own account's import; another account's import reads as absent.
    if (record.accountId !== accountId) {
      refuse(res, 'not-found');
      return;
    }

    res.writeHead(200, {
      'content-type': 'text/csv; charset=utf-8',
      // The report is never named after the uploaded file: it is the user's text, and the id is what the bot
      // talks about. The fix file goes back to the admin's spreadsheet, so it is ("users-fix-rows.csv"),
      // reduced to letters, digits, "-" and "_".
      'content-disposition': `attachment; filename="${
        format === 'fix.csv' ? fixFileName(record.file.name) : `import-${importId}.csv`
      }"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
    });
    try {
      if (format === 'fix.csv') {
        await writeFixCsv(deps.history, record, res); // with its own byte order mark
      } else {
        res.write(UTF8_BOM);
        await writeCsvReport(deps.history.rowResults(importId), res);
      }
      res.end();
    } catch (err) {
      // Headers are gone, so the status can no longer say it; cutting the connection tells the browser the
      // download is incomplete instead of leaving a truncated file that looks whole.
      if (res.destroyed) {
        deps.log?.debug('Report download ended by the client', { importId });
      } else {
        deps.log?.warn('Report download failed', { importId, error: errorName(err) });
        res.destroy();
      }
    }
  });
}

/** The kind of a failure without its message, which may quote the data it failed on. */
function errorName(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const code = (err as { code?: unknown }).code;
  return code === undefined ? err.name : `${err.name} (${String(code)})`;
}
