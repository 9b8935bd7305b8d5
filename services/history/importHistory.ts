import { randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { IMPORT_ROWS_COLLECTION, IMPORTS_COLLECTION } from '../db/indexes';
import { AppError } from '../errors';
import {
  emptyOutcomes,
  type ImportRecord,
  type ImportStatus,
  type OutcomeCounts,
  type RowResult,
  type RowResultChunk,
} from './importRecord';
import { highestImportNumber, isDuplicateKeyError } from './importNumbers';

/** A running import that has not finished a batch for this long is taken to have been interrupted. */
export const INTERRUPTED_AFTER_MS = 30 * 60 * 1000;

/**
 * How often {@link ImportHistory.create} picks a number again after another import of the account took it
 * at the same moment: each retry means someone else succeeded, so this bounds the imports created at once.
 */
const MAX_NUMBER_ATTEMPTS = 20;

/** A new import id: sortable by time, unguessable, and short enough to type. */
export function newImportId(now = new Date()): string {
  return `imp_${now.getTime().toString(36)}${randomBytes(5).toString('hex')}`;
}

/** What one batch of results adds to its import's counters. */
export interface BatchCounts {
  outcomes: OutcomeCounts;
  invitations: number;
  activationNotices: number;
  problems: Record<string, number>;
}

/** Counts a batch's results. */
export function countResults(results: readonly RowResult[]): BatchCounts {
  const outcomes: OutcomeCounts = emptyOutcomes();
  const problems: Record<string, number> = {};
  let invitations = 0;
  let activationNotices = 0;
  for (const result of results) {
    outcomes[result.outcome]++;
    if (result.code) problems[result.code] = (problems[result.code] ?? 0) + 1;
    if (result.notified === 'invitation') invitations++;
    if (result.notified === 'activation') activationNotices++;
  }
  return { outcomes, problems, invitations, activationNotices };
}

/** Stores imports and their per-row results. */
export class ImportHistory {
  constructor(private readonly db: Db) {}

  private get imports() {
    return this.db.collection<ImportRecord>(IMPORTS_COLLECTION);
  }

  private get chunks() {
    return this.db.collection<RowResultChunk>(IMPORT_ROWS_COLLECTION);
  }

  /**
   * Stores a new import and gives it the next number of its account (its highest number + 1). Two imports
   * created at the same moment may pick the same number: the unique index `account_number_unique` admits
   * one and the other tries again with a fresh number. Returns the record as stored. An import whose id
   * exists already is refused with the database's duplicate key error (code 11000), as before numbers.
   */
  async create(record: Omit<ImportRecord, 'number'>): Promise<ImportRecord> {
    for (let attempt = 1; ; attempt++) {
      const numbered: ImportRecord = {
        ...record,
        number: (await highestImportNumber(this.imports, record.accountId)) + 1,
      };
      try {
        await this.imports.insertOne(numbered);
        return numbered;
      } catch (err) {
        if (!isDuplicateKeyError(err) || attempt >= MAX_NUMBER_ATTEMPTS) throw err;
        // Not every server names the index in the error, so ask whether it was the id that collided.
        if (await this.imports.findOne({ _id: record._id }, { projection: { _id: 1 } })) throw err;
      }
    }
  }

  /**
   * Adds one batch's results: the chunk first, then the counters. The counters move only while
   * `progress.batchesDone` equals `seq`, so each batch is counted exactly once and in order, whoever
   * records it and however often: a retried batch whose chunk is already stored is counted from that stored
   * chunk (the first results recorded for a row are the ones kept) if its counting had not happened yet.
   */
  async recordBatch(importId: string, seq: number, rows: RowResult[], counts: BatchCounts): Promise<void> {
    try {
      await this.chunks.insertOne({ _id: `${importId}:${seq}`, importId, seq, rows });
    } catch (err) {
      if ((err as { code?: number }).code !== 11000) throw err;
      const stored = await this.chunks.findOne({ _id: `${importId}:${seq}` });
      if (!stored) throw err;
      await this.countBatch(importId, seq, stored.rows.length, countResults(stored.rows));
      return;
    }
    await this.countBatch(importId, seq, rows.length, counts);
  }

  private async countBatch(importId: string, seq: number, rows: number, counts: BatchCounts): Promise<void> {
    const inc: Record<string, number> = {
      'progress.rowsDone': rows,
      'progress.batchesDone': 1,
      invitations: counts.invitations,
      activationNotices: counts.activationNotices,
    };
    for (const [outcome, n] of Object.entries(counts.outcomes)) if (n > 0) inc[`outcomes.${outcome}`] = n;
    for (const [code, n] of Object.entries(counts.problems)) if (n > 0) inc[`problemCounts.${code}`] = n;
    await this.imports.updateOne(
      { _id: importId, 'progress.batchesDone': seq },
      { $inc: inc, $set: { 'progress.heartbeatAt': new Date() } },
    );
  }

  /**
   * Makes an import that did not finish (a crashed or stopped worker's, running or marked failed) running
   * again so it can be resumed, and returns it with its counters complete: a batch whose results were stored
   * but not yet counted when the process ended is counted now, so `progress` says exactly which rows have
   * results. A completed import is returned unchanged; null when there is no such import.
   */
  async reopen(importId: string): Promise<ImportRecord | null> {
    const reopened = await this.imports.findOneAndUpdate(
      { _id: importId, status: { $ne: 'completed' } },
      {
        $set: { status: 'running', 'progress.heartbeatAt': new Date() },
        $unset: { finishedAt: '', error: '' },
      },
      { returnDocument: 'after' },
    );
    if (!reopened) return this.find(importId);
    let record = reopened;
    for (;;) {
      const seq = record.progress.batchesDone;
      const stored = await this.chunks.findOne({ _id: `${importId}:${seq}` });
      if (!stored) return record;
      await this.countBatch(importId, seq, stored.rows.length, countResults(stored.rows));
      record = await this.get(importId);
      // Counted now, or by someone else meanwhile; should the counters not have moved, stop rather than spin.
      if (record.progress.batchesDone === seq) return record;
    }
  }

  /**
   * Marks the account's running imports whose heartbeat stopped before `staleBefore` as failed, so history
   * never shows a crashed import as running for ever. What they applied stays applied and is in their
   * per-row results; importing the same file again completes the rest without repeating anything. A
   * background job that resumes such an import makes it running again ({@link ImportHistory.reopen}).
   */
  async markInterrupted(accountId: string, staleBefore: Date): Promise<number> {
    const result = await this.imports.updateMany(
      { accountId, status: 'running', 'progress.heartbeatAt': { $lt: staleBefore } },
      {
        $set: {
          status: 'failed',
          finishedAt: new Date(),
          error: {
            code: 'interrupted',
            message:
              'The import stopped before it finished (the process ended). Rows already applied are listed in ' +
              'its report; import the same file again to apply the rest.',
          },
        },
      },
    );
    return result.modifiedCount;
  }

  async finish(
    importId: string,
    status: ImportStatus,
    error?: { code: string; message: string },
  ): Promise<void> {
    await this.imports.updateOne(
      { _id: importId },
      { $set: { status, finishedAt: new Date(), ...(error ? { error } : {}) } },
    );
  }

  /** The import with this id, or null. */
  async find(importId: string): Promise<ImportRecord | null> {
    return this.imports.findOne({ _id: importId });
  }

  async get(importId: string): Promise<ImportRecord> {
    const record = await this.imports.findOne({ _id: importId });
    if (!record) throw new AppError('import-not-found', `There is no import with id ${importId}.`);
    return record;
  }

  /** The account's imports, newest first; imports interrupted by a crash are shown as failed. */
  async list(accountId: string, limit = 50, skip = 0): Promise<ImportRecord[]> {
    await this.markInterrupted(accountId, new Date(Date.now() - INTERRUPTED_AFTER_MS));
    return this.imports.find({ accountId }).sort({ createdAt: -1 }).skip(skip).limit(limit).toArray();
  }

  /** The newest completed import of a file with these exact bytes, if the account has one. */
  async findCompletedBySha256(accountId: string, sha256: string): Promise<ImportRecord | null> {
    return this.imports.findOne(
      { accountId, 'file.sha256': sha256, status: 'completed' },
      { sort: { createdAt: -1 } },
    );
  }

  /** Streams the per-row results in row order. */
  async *rowResults(importId: string): AsyncGenerator<RowResult> {
    const cursor = this.chunks.find({ importId }).sort({ seq: 1 }).batchSize(4);
    for await (const chunk of cursor) yield* chunk.rows;
  }
}
