import type { Db } from 'mongodb';
import { mailSummary, type MailSummary } from '../notifications/mailSummary';
import type { ImportHistory } from './importHistory';
import type { ImportRecord, RowResult } from './importRecord';

/** Everything an admin is shown about one finished (or failed) import. */
export interface ImportResultView {
  record: ImportRecord;
  mail: MailSummary;
  /** The first ignored or failed rows, in row order. */
  problemRows: RowResult[];
  /** How many rows were ignored or failed in all. */
  problemTotal: number;
  /** A link to the per-row CSV report, signed for this account. */
  reportUrl: string;
}

/**
 * Reads an import's results for display. Counts come from the recorded results; the file is never read
 * again.
 */
export class ImportResults {
  constructor(
    private readonly db: Db,
    private readonly history: ImportHistory,
    private readonly reportUrl: (importId: string, accountId: string) => string,
    private readonly fixFileLink?: (importId: string, accountId: string) => string,
  ) {}

  /**
   * A signed link to the import's fix file (its ignored and failed rows with why, as a CSV to correct and
   * send back), or null when every row was imported or no link builder was given.
   */
  fixFileUrl(record: ImportRecord): string | null {
    if (!this.fixFileLink || record.outcomes.ignored + record.outcomes.failed === 0) return null;
    return this.fixFileLink(record._id, record.accountId);
  }

  /** The account's most recent import, or null when it has none. */
  async latest(accountId: string): Promise<ImportRecord | null> {
    const [newest] = await this.history.list(accountId, 1);
    return newest ?? null;
  }

  /** The import if it belongs to the account; null otherwise, so one account never sees another's. */
  async find(importId: string, accountId: string): Promise<ImportRecord | null> {
    try {
      const record = await this.history.get(importId);
      return record.accountId === accountId ? record : null;
    } catch {
      return null;
    }
  }

  async view(record: ImportRecord, problemLimit = 5): Promise<ImportResultView> {
    const [mail, problemRows] = await Promise.all([
      mailSummary(this.db, record.accountId, record._id),
      this.problemRows(record, problemLimit),
    ]);
    return {
      record,
      mail,
      problemRows,
      problemTotal: record.outcomes.ignored + record.outcomes.failed,
      reportUrl: this.reportUrl(record._id, record.accountId),
    };
  }

  /** The first `limit` ignored or failed rows; stops reading as soon as it has them. */
  async problemRows(record: ImportRecord, limit: number): Promise<RowResult[]> {
    const rows: RowResult[] = [];
    if (record.outcomes.ignored + record.outcomes.failed === 0 || limit <= 0) return rows;
    const results = this.history.rowResults(record._id);
    for await (const row of results) {
      if (row.outcome !== 'ignored' && row.outcome !== 'failed') continue;
      rows.push(row);
      if (rows.length >= limit) break;
    }
    return rows;
  }
}
