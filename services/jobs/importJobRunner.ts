import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { AppError } from '../errors';
import type { ImportRecord } from '../history/importRecord';
import type { ImportService } from '../import/importService';
import type { Logger } from '../logger';
import type { UploadStore } from '../uploads/uploadStore';
import { MAX_JOB_ATTEMPTS, type ImportJob, type ImportJobQueue } from './importJobQueue';

export interface JobProgress {
  rowsDone: number;
  totalRows: number;
}

/** What the host does as a job moves on; errors thrown here are logged and never fail the import. */
export interface ImportJobEvents {
  /** The job was claimed and is about to run (again, when it resumes after a crash or a restart). */
  started(job: ImportJob): Promise<void>;
  /** Right after start, then at every further 10% of the rows or `progressEveryMs`, and at the end. */
  progress(job: ImportJob, progress: JobProgress): Promise<void>;
  finished(job: ImportJob, record: ImportRecord): Promise<void>;
  /** The job was given up; `error.message` is written for the admin. */
  failed(job: ImportJob, error: { code: string; message: string }): Promise<void>;
}

export interface ImportJobRunnerDeps {
  queue: ImportJobQueue;
  uploads: UploadStore;
  imports: ImportService;
  events: ImportJobEvents;
  log: Logger;
  /** Identifies this worker in leases; default `hostname:pid:random`. */
  owner?: string;
  /** How long a claim protects a job; it is renewed every third of it while the job runs. */
  leaseMs?: number;
  /** Wait between looks for work when there was none. */
  pollMs?: number;
  /** Longest silence between two progress reports while a job runs. */
  progressEveryMs?: number;
}

/**
 * Error codes that another attempt cannot fix: the file itself, its stored upload, or choices that do not
 * fit it. Every other error (the database, a bug) is retried up to {@link MAX_JOB_ATTEMPTS} attempts.
 */
const PERMANENT_CODES = new Set<string>([
  'upload-not-found',
  'mapping-invalid',
  'option-invalid',
  'import-not-committable',
  // The plan needs a choice the job was queued without (a run-together file's re-flow).
  'decision-needed',
]);

function isPermanent(err: unknown): err is AppError {
  return err instanceof AppError && (err.code.startsWith('file-') || PERMANENT_CODES.has(err.code));
}

/** A code safe to log and show: never the message, which for database errors can quote an email. */
function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'import-failed';
}

/** One job this runner is executing. */
interface Run {
  job: ImportJob;
  abort: AbortController;
  /** Why `abort` fired: a stop releases the job, a lost lease leaves it to the worker that has it now. */
  stopReason?: 'stop' | 'lease';
}

/**
 * Sends progress in order, one report at a time, never holding up the import: reports that pile up while
 * the host is slow collapse into the latest one.
 */
class ProgressReporter {
  private latest?: JobProgress;
  private lastSentRows?: number;
  private queued?: JobProgress;
  private chain: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly send: (progress: JobProgress) => Promise<void>,
    private readonly everyMs: number,
  ) {}

  update(progress: JobProgress): void {
    this.latest = progress;
    const last = this.lastSentRows;
    const due =
      last === undefined ||
      progress.rowsDone >= progress.totalRows ||
      progress.rowsDone - last >= Math.max(1, progress.totalRows / 10);
    if (due) this.push(progress);
  }

  private push(progress: JobProgress): void {
    if (this.closed) return;
    this.lastSentRows = progress.rowsDone;
    // A slow batch still reports every `everyMs`, with the latest figures.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.latest && this.push(this.latest), this.everyMs);
    this.timer.unref();
    if (this.queued) {
      this.queued = progress;
      return;
    }
    this.queued = progress;
    this.chain = this.chain.then(async () => {
      const next = this.queued;
      this.queued = undefined;
      if (next) await this.send(next);
    });
  }

  /** Stops the timer and resolves once every report already due has been delivered. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.chain;
  }
}

/**
 * Runs confirmed imports in the background: claims a job under a lease, reads its stored upload and commits
 * it with progress, on whichever instance gets there first. A crashed worker's job is claimed again once its
 * lease runs out and resumes where it stopped; a stopping worker hands its job back between two batches.
 *
 * {@link MAX_JOB_ATTEMPTS} is enforced here: a job claimed for the fourth time (its worker died three
 * times) is failed instead of run, and an error at the third attempt fails the job instead of releasing it.
 */
export class ImportJobRunner {
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly progressEveryMs: number;
  private polling = false;
  private pollTimer?: NodeJS.Timeout;
  /** Bumped by every stop(), so a claim that was under way when stop() was called gives its job back. */
  private stops = 0;
  private readonly runs = new Set<Run>();
  /** Every runOnce() in flight, settled or not: stop() waits for all of them. */
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly deps: ImportJobRunnerDeps) {
    this.owner = deps.owner ?? `${os.hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.leaseMs = deps.leaseMs ?? 60_000;
    this.pollMs = deps.pollMs ?? 1000;
    this.progressEveryMs = deps.progressEveryMs ?? 5000;
    for (const [name, value] of Object.entries({
      leaseMs: this.leaseMs,
      pollMs: this.pollMs,
      progressEveryMs: this.progressEveryMs,
    })) {
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
    }
  }

  /** Starts polling for jobs: claim, run, repeat. Its timers do not keep the process alive. */
  start(): void {
    if (this.polling) return;
    this.polling = true;
    this.schedule(0);
  }

  private schedule(ms: number): void {
    this.pollTimer = setTimeout(() => void this.poll(), ms);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    this.pollTimer = undefined;
    let ran = false;
    try {
      ran = await this.runOnce();
    } catch (err) {
      this.deps.log.error('Looking for import jobs failed', { code: errorCode(err) });
    }
    if (this.polling && !this.pollTimer) this.schedule(ran ? 0 : this.pollMs);
  }

  /**
   * Stops polling and hands a job in progress back to the queue after its current batch (its import record
   * stays running, and the next claim resumes it). Resolves when this runner is idle.
   */
  async stop(): Promise<void> {
    this.polling = false;
    this.stops++;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    for (const run of this.runs) {
      run.stopReason ??= 'stop';
      run.abort.abort();
    }
    await Promise.all([...this.tasks]);
  }

  /** Claims and runs at most one job; true if it ran one. */
  runOnce(): Promise<boolean> {
    const task = this.claimAndRun(this.stops);
    const settled = task.then(
      () => undefined,
      () => undefined,
    );
    this.tasks.add(settled);
    void settled.then(() => this.tasks.delete(settled));
    return task;
  }

  private async claimAndRun(stopsBefore: number): Promise<boolean> {
    const job = await this.deps.queue.claim(this.owner, this.leaseMs);
    if (!job) return false;
    if (this.stops !== stopsBefore) {
      await this.deps.queue.release(job._id, this.owner);
      return false;
    }
    const run: Run = { job, abort: new AbortController() };
    this.runs.add(run);
    try {
      await this.run(run);
    } finally {
      this.runs.delete(run);
    }
    return true;
  }

  private fields(job: ImportJob) {
    return { jobId: job._id, accountId: job.accountId, attempt: job.attempts };
  }

  private async run(run: Run): Promise<void> {
    const { job } = run;
    const { queue, imports, log } = this.deps;
    if (job.status === 'failed') {
      // The claim already failed it (its stored options no longer validate).
      log.warn('An import job could not be run', { ...this.fields(job), code: job.error?.code });
      await this.emit(job, 'failed', () =>
        this.deps.events.failed(job, job.error ?? { code: 'import-failed', message: 'The import failed.' }),
      );
      return;
    }
    if (job.attempts > MAX_JOB_ATTEMPTS) {
      await this.giveUp(
        job,
        {
          code: 'import-interrupted',
          message: `The import was interrupted ${MAX_JOB_ATTEMPTS} times before it could finish, so it was given up.`,
        },
        { markRecord: true },
      );
      return;
    }

    log.info('Import job started', this.fields(job));
    await this.emit(job, 'started', () => this.deps.events.started(job));
    const reporter = new ProgressReporter(
      (progress) => this.emit(job, 'progress', () => this.deps.events.progress(job, progress)),
      this.progressEveryMs,
    );
    const renewTimer = setInterval(() => void this.renew(run), Math.max(1, Math.floor(this.leaseMs / 3)));
    renewTimer.unref();
    let record: ImportRecord;
    try {
      const source = await this.deps.uploads.source(job.uploadId, job.accountId);
      const existing = await imports.history.find(job._id);
      record = await imports.commit(source, job.accountId, job.options, {
        by: job.by,
        importId: job._id,
        resume: job.attempts > 1 || existing !== null,
        signal: run.abort.signal,
        onProgress: async (progress) => {
          reporter.update(progress);
          await this.renew(run);
        },
      });
    } catch (err) {
      clearInterval(renewTimer);
      await reporter.close();
      await this.handleError(run, err);
      return;
    }
    clearInterval(renewTimer);
    await reporter.close();
    if (!(await queue.complete(job._id, this.owner))) {
      // Another worker holds the job now; it finds the import completed and reports it.
      log.warn('Import job finished after its lease was lost', this.fields(job));
      return;
    }
    log.info('Import job completed', {
      ...this.fields(job),
      rows: record.progress.rowsDone,
      outcomes: record.outcomes,
      invitations: record.invitations,
      activationNotices: record.activationNotices,
    });
    await this.emit(job, 'finished', () => this.deps.events.finished(job, record));
  }

  /** Extends the lease; a lost lease aborts the commit after its current batch. Never throws. */
  private async renew(run: Run): Promise<void> {
    if (run.abort.signal.aborted) return;
    try {
      if (await this.deps.queue.renew(run.job._id, this.owner, this.leaseMs)) return;
      run.stopReason ??= 'lease';
      run.abort.abort();
      this.deps.log.warn('Lost the lease on an import job; stopping it', this.fields(run.job));
    } catch (err) {
      // The lease has time left to try again; if it runs out, the next renewal finds it lost.
      this.deps.log.warn('Could not renew an import job lease', {
        ...this.fields(run.job),
        code: errorCode(err),
      });
    }
  }

  private async handleError(run: Run, err: unknown): Promise<void> {
    const { job } = run;
    const { queue, log } = this.deps;
    if (err instanceof AppError && err.code === 'import-stopped') {
      if (run.stopReason === 'lease') {
        log.warn('Import job stopped: another worker holds it now', this.fields(job));
        return;
      }
      await queue.release(job._id, this.owner);
      log.info('Import job handed back to the queue', this.fields(job));
      return;
    }
    if (isPermanent(err)) {
      await this.giveUp(job, { code: err.code, message: err.message }, { markRecord: false });
      return;
    }
    const code = errorCode(err);
    const name = err instanceof Error ? err.name : typeof err;
    if (job.attempts < MAX_JOB_ATTEMPTS) {
      await queue.release(job._id, this.owner, { retry: true });
      log.warn('Import job failed; it will be tried again', { ...this.fields(job), code, error: name });
      return;
    }
    log.error('Import job failed at its last attempt', { ...this.fields(job), code, error: name });
    await this.giveUp(
      job,
      {
        code,
        message: `The import could not finish after ${MAX_JOB_ATTEMPTS} attempts because of an internal error (${code}).`,
      },
      // The commit already marked its record failed, when the error came from inside it.
      { markRecord: false },
    );
  }

  /** Fails the job, the import record if asked (a crash leaves it running), and tells the host. */
  private async giveUp(
    job: ImportJob,
    error: { code: string; message: string },
    options: { markRecord: boolean },
  ): Promise<void> {
    const { queue, imports, log } = this.deps;
    if (!(await queue.fail(job._id, this.owner, error))) {
      log.warn('Could not fail an import job: its lease was lost', this.fields(job));
      return;
    }
    if (options.markRecord) {
      const record = await imports.history.find(job._id);
      if (record?.status === 'running') await imports.history.finish(job._id, 'failed', error);
    }
    log.warn('Import job given up', { ...this.fields(job), code: error.code });
    await this.emit(job, 'failed', () => this.deps.events.failed(job, error));
  }

  /** Runs a host callback; its failure is logged and never affects the import. */
  private async emit(job: ImportJob, event: keyof ImportJobEvents, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      this.deps.log.error('An import job event handler failed', {
        ...this.fields(job),
        event,
        error: err instanceof Error ? err.name : typeof err,
      });
    }
  }
}
