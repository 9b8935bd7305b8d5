import type { Db } from 'mongodb';
import { IMPORT_JOBS_COLLECTION } from '../db/indexes';
import { AppError } from '../errors';
import { newImportId } from '../history/importHistory';
import { parseImportOptions, type ImportOptions } from '../import/importOptions';

export type ImportJobStatus = 'queued' | 'running' | 'completed' | 'failed';

/**
 * Claims after which a job is given up instead of run again. The runner enforces it (see
 * `ImportJobRunner`): a claim that finds `attempts` above it fails the job, and an attempt that ends in an
 * error at this count fails it rather than releasing it for another try.
 */
export const MAX_JOB_ATTEMPTS = 3;

/** A confirmed import waiting for, or held by, a worker. */
export interface ImportJob {
  /** The import id used for the import record too (`newImportId()`). */
  _id: string;
  accountId: string;
  uploadId: string;
  fileName: string;
  /** Validated with `parseImportOptions` on the way in and when read back. */
  options: ImportOptions;
  /** Who confirmed (admin id / name); stored on the import record. */
  by: string;
  /** Opaque text the host uses to reach the admin again (the bot stores a JSON conversation reference). */
  replyTo: string;
  /** Host-owned id of the message showing progress, so it can be updated in place. */
  progressMessageId?: string;
  status: ImportJobStatus;
  /** accountId while queued/running, the job id afterwards: the unique index admits one active import per account. */
  activeKey: string;
  /** Claims that did not end in a graceful release. */
  attempts: number;
  leaseOwner?: string;
  leaseUntil?: Date;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  error?: { code: string; message: string };
}

/** What a host supplies to queue an import. */
export interface NewImportJob {
  /** Defaults to a new import id. */
  importId?: string;
  accountId: string;
  uploadId: string;
  fileName: string;
  options: ImportOptions;
  by: string;
  replyTo: string;
}

const ACTIVE: ImportJobStatus[] = ['queued', 'running'];

function isDuplicateKey(err: unknown): boolean {
  return (err as { code?: unknown }).code === 11000;
}

/**
 * Confirmed imports, run in the background by whichever instance claims them under a lease. Every write
 * after a claim is conditional on the caller still holding the lease, so a worker that lost it (it stalled,
 * the lease ran out and another worker claimed the job) can no longer change the job.
 */
export class ImportJobQueue {
  constructor(private readonly db: Db) {}

  private get jobs() {
    return this.db.collection<ImportJob>(IMPORT_JOBS_COLLECTION);
  }

  /**
   * Queues an import. Throws {@link AppError} `import-busy` (details `{ jobId }`) when the account already
   * has one queued or running, and `option-invalid` for options that do not validate.
   */
  async enqueue(input: NewImportJob): Promise<ImportJob> {
    const job: ImportJob = {
      _id: input.importId ?? newImportId(),
      accountId: input.accountId,
      uploadId: input.uploadId,
      fileName: input.fileName,
      options: parseImportOptions(input.options),
      by: input.by,
      replyTo: input.replyTo,
      status: 'queued',
      activeKey: input.accountId,
      attempts: 0,
      createdAt: new Date(),
    };
    // Two tries: the active job may finish between a refused insert and the look-up of who holds the key.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.jobs.insertOne(job);
        return job;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const active = await this.active(input.accountId);
        if (active) {
          const state = active.status === 'queued' ? 'is waiting to start' : 'is still running';
          throw new AppError(
            'import-busy',
            `An import of "${active.fileName}" ${state} for this account. Wait for it to finish, then send the file again.`,
            { jobId: active._id },
          );
        }
        // The duplicate was the job id itself, or the active job finished meanwhile and a retry will pass.
        if (attempt > 0 || (await this.jobs.findOne({ _id: job._id }))) throw err;
      }
    }
  }

  /**
   * Claims the oldest job that is queued, or running under a lease that ran out (its worker crashed or
   * stalled), in one atomic update: status running, the lease to `owner` until `now + leaseMs`, one more
   * attempt, `startedAt` if unset. Null when there is none.
   *
   * A claimed job whose stored options no longer validate (written by another version) is failed here
   * and comes back with status `failed` and its error, so the caller can tell the admin instead of running it.
   */
  async claim(owner: string, leaseMs: number, now = new Date()): Promise<ImportJob | null> {
    const claimed = await this.jobs.findOneAndUpdate(
      { $or: [{ status: 'queued' }, { status: 'running', leaseUntil: { $lt: now } }] },
      {
        $set: { status: 'running', leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) },
        $inc: { attempts: 1 },
        // $min sets a missing startedAt and keeps an earlier one, all in the same atomic update.
        $min: { startedAt: now },
      },
      { sort: { createdAt: 1, _id: 1 }, returnDocument: 'after' },
    );
    if (!claimed) return null;
    try {
      return { ...claimed, options: parseImportOptions(claimed.options) };
    } catch (err) {
      const error = { code: 'option-invalid', message: (err as Error).message };
      await this.fail(claimed._id, owner, error);
      return { ...claimed, status: 'failed', activeKey: claimed._id, error };
    }
  }

  /** Extends the lease if `owner` still holds it; false when it does not (the worker must stop). */
  async renew(jobId: string, owner: string, leaseMs: number): Promise<boolean> {
    const result = await this.jobs.updateOne(
      { _id: jobId, status: 'running', leaseOwner: owner },
      { $set: { leaseUntil: new Date(Date.now() + leaseMs) } },
    );
    return result.matchedCount === 1;
  }

  /**
   * Gives the job back to the queue without finishing it: status queued, lease cleared, so any worker can
   * claim it again and continue where it stopped. A graceful release (shutdown) gives back its attempt so
   * restarts never use up a job's tries; `{ retry: true }` (after an error) keeps it counted.
   */
  async release(jobId: string, owner: string, options: { retry?: boolean } = {}): Promise<void> {
    await this.jobs.updateOne(
      { _id: jobId, status: 'running', leaseOwner: owner },
      {
        $set: { status: 'queued' },
        $unset: { leaseOwner: '', leaseUntil: '' },
        ...(options.retry ? {} : { $inc: { attempts: -1 } }),
      },
    );
  }

  /**
   * Marks the job completed and frees the account for its next import. False when `owner` no longer holds
   * the job (then the worker that does will complete it).
   */
  async complete(jobId: string, owner: string): Promise<boolean> {
    return this.finish(jobId, owner, { status: 'completed' });
  }

  /** Marks the job failed and frees the account; false when `owner` no longer holds the job. */
  async fail(jobId: string, owner: string, error: { code: string; message: string }): Promise<boolean> {
    return this.finish(jobId, owner, { status: 'failed', error });
  }

  private async finish(
    jobId: string,
    owner: string,
    set: { status: 'completed' | 'failed'; error?: { code: string; message: string } },
  ): Promise<boolean> {
    const result = await this.jobs.updateOne(
      { _id: jobId, status: 'running', leaseOwner: owner },
      { $set: { ...set, activeKey: jobId, finishedAt: new Date() }, $unset: { leaseUntil: '' } },
    );
    return result.matchedCount === 1;
  }

  /** Remembers the host's progress message, so whichever instance runs the job can update it in place. */
  async setProgressMessage(jobId: string, messageId: string): Promise<void> {
    await this.jobs.updateOne({ _id: jobId }, { $set: { progressMessageId: messageId } });
  }

  async get(jobId: string): Promise<ImportJob | null> {
    return this.read(await this.jobs.findOne({ _id: jobId }));
  }

  /** The account's queued or running job, if any. */
  async active(accountId: string): Promise<ImportJob | null> {
    return this.read(await this.jobs.findOne({ activeKey: accountId, status: { $in: ACTIVE } }));
  }

  private read(job: ImportJob | null): ImportJob | null {
    return job && { ...job, options: parseImportOptions(job.options) };
  }
}
