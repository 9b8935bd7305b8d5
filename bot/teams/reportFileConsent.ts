import { Writable } from 'node:stream';
import type { Attachment, FileConsentCardResponse, TurnContext } from 'botbuilder';
import { z } from 'zod';
import type { ImportHistory } from '../../services/history/importHistory';
import type { ImportRecord } from '../../services/history/importRecord';
import { writeCsvReport } from '../../services/history/rowReport';
import type { Logger } from '../../services/logger';
import type { AccessResult } from '../access/accountAccess';
import { isHostAllowed } from '../attachments/attachmentDownloader';

export const FILE_CONSENT_CARD = 'application/vnd.microsoft.teams.card.file.consent';
export const FILE_INFO_CARD = 'application/vnd.microsoft.teams.card.file.info';

/** Where Teams asks bots to upload files: the user's OneDrive for Business. */
export const TEAMS_UPLOAD_HOSTS = [
  '*.sharepoint.com',
  '*.sharepoint.us',
  '*.sharepoint-mil.us',
  '*.sharepoint.cn',
];

/** Reports bigger than this are offered by link only: an upload holds the report in memory. */
const MAX_REPORT_UPLOAD_BYTES = 50 * 1024 * 1024;

/** Rough size of a report, for the consent card: Teams shows it before the user accepts. */
function estimateReportBytes(record: ImportRecord): number {
  return 60 + record.file.rows * 60;
}

/** The FileConsentCard offering an import's per-row report as a file in the admin's OneDrive (Teams only). */
export function reportFileConsentCard(record: ImportRecord): Attachment {
  const context = { importId: record._id, accountId: record.accountId };
  return {
    contentType: FILE_CONSENT_CARD,
    name: `import-${record._id}.csv`,
    content: {
      description: `Per-row report of import ${record._id} (${record.file.name}), as CSV`,
      sizeInBytes: estimateReportBytes(record),
      acceptContext: context,
      declineContext: context,
    },
  };
}

const acceptSchema = z.object({
  action: z.literal('accept'),
  context: z.object({ importId: z.string().regex(/^imp_[a-z0-9]+$/), accountId: z.string().min(1) }),
  uploadInfo: z.object({
    name: z.string().min(1).max(255),
    uploadUrl: z.string().url(),
    contentUrl: z.string().url(),
    uniqueId: z.string().min(1),
    fileType: z.string().optional(),
  }),
});

export interface ReportFileConsentDeps {
  history: ImportHistory;
  access: { check(context: TurnContext): Promise<AccessResult> };
  log: Logger;
  /** Hosts uploads may go to; Teams' own by default. */
  allowedHosts?: readonly string[];
  /** Allows plain http to loopback, for local tests only. */
  allowLoopbackHttp?: boolean;
}

class MemoryWritable extends Writable {
  readonly parts: Buffer[] = [];
  size = 0;
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.size > MAX_REPORT_UPLOAD_BYTES) {
      done(new Error('The report is too large to upload to Teams.'));
      return;
    }
    this.parts.push(chunk);
    done();
  }
}

function uploadUrlAllowed(url: URL, deps: ReportFileConsentDeps): boolean {
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (url.protocol === 'http:') return loopback && deps.allowLoopbackHttp === true;
  if (url.protocol !== 'https:') return false;
  return (
    isHostAllowed(url.hostname, deps.allowedHosts ?? TEAMS_UPLOAD_HOSTS) ||
    (loopback && deps.allowLoopbackHttp === true)
  );
}

/**
 * Handles the admin's "Allow" on the report FileConsentCard: writes the CSV report to the upload URL Teams
 * gave (the admin's OneDrive) and posts the file card. The admin must still administer the import's
 * account: the card's context comes back from the client and is not trusted on its own.
 */
export function createReportFileConsentHandler(deps: ReportFileConsentDeps) {
  return async (context: TurnContext, response: FileConsentCardResponse): Promise<void> => {
    const parsed = acceptSchema.safeParse(response);
    if (!parsed.success) {
      await context.sendActivity(
        'That file request was incomplete; use the report link in the result card instead.',
      );
      return;
    }
    const { context: card, uploadInfo } = parsed.data;
    const access = await deps.access.check(context);
    if (!access.ok || !access.isAdmin || access.accountId !== card.accountId) {
      await context.sendActivity('Only an administrator of this account can save its import reports.');
      return;
    }
    const url = new URL(uploadInfo.uploadUrl);
    if (!uploadUrlAllowed(url, deps)) {
      deps.log.warn('Refused a report upload to an unexpected host', { host: url.hostname });
      await context.sendActivity('Teams gave an upload address I do not trust; use the report link instead.');
      return;
    }
    try {
      const record = await deps.history.get(card.importId);
      if (record.accountId !== access.accountId) throw new Error('import of another account');
      const sink = new MemoryWritable();
      await writeCsvReport(deps.history.rowResults(record._id), sink);
      const body = Buffer.concat([Buffer.from('\ufeff'), ...sink.parts]);
      const put = await fetch(url, {
        method: 'PUT',
        headers: {
          'content-type': 'text/csv; charset=utf-8',
          'content-length': String(body.length),
          'content-range': `bytes 0-${body.length - 1}/${body.length}`,
        },
        body,
        redirect: 'error',
        signal: AbortSignal.timeout(60_000),
      });
      if (!put.ok) throw new Error(`upload answered ${put.status}`);
    } catch (err) {
      deps.log.warn('Could not upload an import report to Teams', {
        importId: card.importId,
        error: (err as Error).message,
      });
      await context.sendActivity(
        'I could not save the report to your OneDrive. The report link in the result card still works.',
      );
      return;
    }
    await context.sendActivity({
      attachments: [
        {
          contentType: FILE_INFO_CARD,
          name: uploadInfo.name,
          contentUrl: uploadInfo.contentUrl,
          content: { uniqueId: uploadInfo.uniqueId, fileType: uploadInfo.fileType ?? 'csv' },
        },
      ],
    });
  };
}
