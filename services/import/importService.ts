import type { Db } from 'mongodb';
import { AppError } from '../errors';
import { AccountDirectory } from '../accounts/accountDirectory';
import type { ImportRecord } from '../history/importRecord';
import { ImportHistory, newImportId } from '../history/importHistory';
import { UserDirectory } from '../users/userDirectory';
import type { FileSource } from './fileSource';
import { commitImport, type CommitMeta } from './importCommit';
import type { ImportOptions } from './importOptions';
import { planImport, type ImportPlan } from './importPlan';
import { prepareImport } from './importReader';
import { ImportUndo } from './importUndo';

export interface ImportServiceSettings {
  maxFileBytes: number;
  batchSize?: number;
  /** Days after an import during which it may be undone (`UNDO_WINDOW_DAYS`, default 14). */
  undoWindowDays?: number;
}

/**
 * The import engine's front door, used alike by the CLI and the conversation: plan a file (a dry run that
 * writes nothing), then commit it.
 */
export class ImportService {
  readonly directory: UserDirectory;
  readonly history: ImportHistory;
  /** Undoes recent imports (plan, then apply). */
  readonly undo: ImportUndo;

  constructor(
    private readonly db: Db,
    private readonly settings: ImportServiceSettings,
  ) {
    this.directory = new UserDirectory(db);
    this.history = new ImportHistory(db);
    this.undo = new ImportUndo(db, this.history, { windowDays: settings.undoWindowDays });
  }

  /** The account's allowed email domains are read with every plan and commit, so both flag the same rows. */
  private async prepare(source: FileSource, accountId: string, options: ImportOptions) {
    const allowedDomains = await new AccountDirectory(this.db).allowedDomains(accountId);
    return prepareImport(
      this.directory,
      source,
      accountId,
      options,
      this.settings.maxFileBytes,
      allowedDomains,
    );
  }

  /** What importing `source` into the account would do. Nothing is written. */
  async plan(source: FileSource, accountId: string, options: ImportOptions = {}): Promise<ImportPlan> {
    const prepared = await this.prepare(source, accountId, options);
    return planImport(this.directory, this.history, prepared, this.settings.batchSize);
  }

  /**
   * Imports `source` into the account and returns the finished import record. With `resume`, an import
   * `importId` that was interrupted continues where it stopped and a completed one is returned at once
   * (the file is not even read); see {@link CommitMeta}.
   *
   * A file whose rows run together on one line is imported only with `options.reflow`: otherwise this
   * throws {@link AppError} `decision-needed`, since where its rows end is a guess the admin confirms.
   */
  async commit(
    source: FileSource,
    accountId: string,
    options: ImportOptions,
    meta: Pick<CommitMeta, 'by' | 'onProgress' | 'resume' | 'signal'> & { importId?: string },
  ): Promise<ImportRecord> {
    if (meta.resume && meta.importId) {
      const existing = await this.history.find(meta.importId);
      if (existing?.status === 'completed' && existing.accountId === accountId) return existing;
    }
    const prepared = await this.prepare(source, accountId, options);
    const reflow = prepared.layout.runTogether;
    if (reflow && !options.reflow) {
      throw new AppError(
        'decision-needed',
        `The rows of "${source.name}" are run together on one line. Re-flowed into rows of ` +
          `${reflow.columns} values they make ${reflow.rows} ${reflow.rows === 1 ? 'row' : 'rows'}; confirm ` +
          'the re-flow to import them. Nothing was imported.',
        { needs: 'confirm-reflow', rows: reflow.rows, columns: reflow.columns },
      );
    }
    return commitImport({ db: this.db, directory: this.directory, history: this.history }, prepared, {
      importId: meta.importId ?? newImportId(),
      by: meta.by,
      batchSize: this.settings.batchSize,
      onProgress: meta.onProgress,
      resume: meta.resume,
      signal: meta.signal,
    });
  }
}
