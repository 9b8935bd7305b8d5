import {
  IMPORT_JOBS_COLLECTION,
  IMPORT_ROWS_COLLECTION,
  IMPORTS_COLLECTION,
  UPLOAD_CHUNKS_COLLECTION,
  UPLOADS_COLLECTION,
} from '../../services/db/indexes';
import { isAppError } from '../../services/errors';
import type { ImportRecord } from '../../services/history/importRecord';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import type { CommitProgress } from '../../services/import/importCommit';
import { ImportService } from '../../services/import/importService';
import { ImportJobQueue, type ImportJob } from '../../services/jobs/importJobQueue';
import { ImportJobRunner, type ImportJobEvents, type JobProgress } from '../../services/jobs/importJobRunner';
import { createLogger } from '../../services/logger';
import { UploadStore } from '../../services/uploads/uploadStore';
import { USERS_COLLECTION, type UserDocument } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

const HEADER = 'Email ID,First Name,Last Name,User Status';
const ACCOUNT = 'acme';
const BATCH = 5;
const SETTINGS = { maxFileBytes: 1024 * 1024, batchSize: BATCH };

let t: TestDatabase;
let queue: ImportJobQueue;
let uploads: UploadStore;

beforeAll(async () => {
  t = await openTestDatabase();
  queue = new ImportJobQueue(t.db);
  uploads = new UploadStore(t.db, { chunkBytes: 64 });
});
afterAll(async () => t.close());
beforeEach(async () => {
  for (const name of [
    USERS_COLLECTION,
    IMPORTS_COLLECTION,
    IMPORT_ROWS_COLLECTION,
    IMPORT_JOBS_COLLECTION,
    UPLOADS_COLLECTION,
    UPLOAD_CHUNKS_COLLECTION,
  ]) {
    await t.db.collection(name).deleteMany({});
  }
  logLines.length = 0;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await sleep(10);
  }
}

/** An ImportService whose batches can be slowed down or made to fail, to catch a job in the middle. */
class TestService extends ImportService {
  delayMs = 0;
  failures = 0;
  afterBatch?: (progress: CommitProgress) => void;

  override async commit(...[source, accountId, options, meta]: Parameters<ImportService['commit']>) {
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error('connection reset while talking to jane@acme.com'), { code: 6 });
    }
    return super.commit(source, accountId, options, {
      ...meta,
      onProgress: async (progress) => {
        await meta.onProgress?.(progress);
        this.afterBatch?.(progress);
        if (this.delayMs > 0) await sleep(this.delayMs);
      },
    });
  }
}

type Event =
  | { type: 'started' }
  | { type: 'progress'; progress: JobProgress }
  | { type: 'finished'; record: ImportRecord }
  | { type: 'failed'; error: { code: string; message: string } };

function recorder(options: { throwing?: boolean } = {}) {
  const events: Event[] = [];
  const push = async (event: Event) => {
    events.push(event);
    if (options.throwing) throw new Error('the channel is down');
  };
  const handlers: ImportJobEvents = {
    started: (_job: ImportJob) => push({ type: 'started' }),
    progress: (_job, progress) => push({ type: 'progress', progress }),
    finished: (_job, record) => push({ type: 'finished', record }),
    failed: (_job, error) => push({ type: 'failed', error }),
  };
  return { events, handlers };
}

const logLines: string[] = [];
const log = createLogger('debug', (line) => logLines.push(line));

function runnerFor(
  events: ImportJobEvents,
  options: { imports?: ImportService; owner?: string; leaseMs?: number; progressEveryMs?: number } = {},
) {
  return new ImportJobRunner({
    queue,
    uploads,
    imports: options.imports ?? new TestService(t.db, SETTINGS),
    events,
    log,
    owner: options.owner ?? 'worker-a',
    leaseMs: options.leaseMs ?? 60_000,
    pollMs: 20,
    progressEveryMs: options.progressEveryMs ?? 60_000,
  });
}

function csvBytes(rows: string[], header = HEADER): Buffer {
  return Buffer.from([header, ...rows].join('\r\n') + '\r\n');
}

function newUsers(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `user${i}@acme.com,User,Number${i},New`);
}

async function enqueueFile(rows: string[], accountId = ACCOUNT, header = HEADER): Promise<ImportJob> {
  const upload = await uploads.save(accountId, fileSourceFromBuffer('users.csv', csvBytes(rows, header)));
  return queue.enqueue({
    accountId,
    uploadId: upload._id,
    fileName: upload.name,
    options: {},
    by: 'admin-1',
    replyTo: '{"conversation":{"id":"c1"}}',
  });
}

const users = () => t.db.collection<UserDocument>(USERS_COLLECTION);

async function rowNumbers(importId: string): Promise<number[]> {
  const history = new ImportService(t.db, SETTINGS).history;
  const rows: number[] = [];
  for await (const row of history.rowResults(importId)) rows.push(row.row);
  return rows;
}

/** What time does to the lease of a worker that died. */
async function expireLease(jobId: string): Promise<void> {
  await t.db
    .collection<{ _id: string }>(IMPORT_JOBS_COLLECTION)
    .updateOne({ _id: jobId }, { $set: { leaseUntil: new Date(Date.now() - 1000) } });
}

const range = (count: number) => Array.from({ length: count }, (_, i) => i + 2);

afterEach(() => {
  // Whatever happened, no log line carries personal data (emails) or file contents.
  for (const line of logLines) expect(line).not.toMatch(/@|Number\d/);
});

describe('ImportJobRunner', () => {
  it('runs a job to completion, reporting started, progress and the finished record in order', async () => {
    const job = await enqueueFile(newUsers(23));
    const { events, handlers } = recorder();
    const runner = runnerFor(handlers);
    expect(await runner.runOnce()).toBe(true);

    expect(events[0]).toEqual({ type: 'started' });
    const last = events[events.length - 1];
    expect(last?.type).toBe('finished');
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.progress);
    expect(events.slice(1, -1).every((e) => e.type === 'progress')).toBe(true);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toEqual({ rowsDone: 0, totalRows: 23 });
    expect(progress[progress.length - 1]).toEqual({ rowsDone: 23, totalRows: 23 });
    for (let i = 1; i < progress.length; i++) {
      expect(progress[i]!.rowsDone).toBeGreaterThan(progress[i - 1]!.rowsDone);
    }

    const record = (last as { record: ImportRecord }).record;
    expect(record).toMatchObject({
      _id: job._id,
      accountId: ACCOUNT,
      by: 'admin-1',
      status: 'completed',
      outcomes: { created: 23 },
      invitations: 23,
      file: { name: 'users.csv', rows: 23 },
    });
    expect(await users().countDocuments()).toBe(23);
    expect(await queue.get(job._id)).toMatchObject({ status: 'completed', activeKey: job._id, attempts: 1 });
    // The upload is kept until it expires: the admin may run it again.
    expect(await uploads.get(job.uploadId, ACCOUNT)).not.toBeNull();
    expect(await runner.runOnce()).toBe(false);

    // The account is free for its next import.
    expect((await enqueueFile(newUsers(1))).status).toBe('queued');
  });

  it('admits one active import per account, without holding up other accounts', async () => {
    const first = await enqueueFile(newUsers(2));
    const busy = await enqueueFile(newUsers(3)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isAppError(busy, 'import-busy')).toBe(true);
    expect((busy as { details?: unknown }).details).toEqual({ jobId: first._id });
    expect((await enqueueFile(newUsers(2), 'globex')).status).toBe('queued');
  });

  it('lets a second worker finish, by resuming, a job whose first worker died', async () => {
    const job = await enqueueFile(newUsers(23));
    // Worker A claims it and dies after two batches; its lease then runs out.
    const claimed = await queue.claim('worker-a', 60_000);
    expect(claimed?._id).toBe(job._id);
    const abort = new AbortController();
    const dying = new ImportService(t.db, SETTINGS);
    await expect(
      dying.commit(
        await uploads.source(job.uploadId, ACCOUNT),
        ACCOUNT,
        {},
        {
          by: 'admin-1',
          importId: job._id,
          signal: abort.signal,
          onProgress: ({ rowsDone }) => {
            if (rowsDone >= 2 * BATCH) abort.abort();
          },
        },
      ),
    ).rejects.toThrow(/stopped/);
    const invitedBefore = await users().find({}).toArray();
    expect(invitedBefore).toHaveLength(10);
    const { events: early, handlers: earlyHandlers } = recorder();
    // While A's lease lasts, nobody else takes the job.
    expect(await runnerFor(earlyHandlers, { owner: 'worker-b' }).runOnce()).toBe(false);
    expect(early).toEqual([]);
    await expireLease(job._id);

    const { events, handlers } = recorder();
    const runnerB = runnerFor(handlers, { owner: 'worker-b' });
    expect(await runnerB.runOnce()).toBe(true);
    // Worker A, should it come back, no longer holds the job.
    expect(await queue.renew(job._id, 'worker-a', 60_000)).toBe(false);

    const finished = events.find((e) => e.type === 'finished') as { record: ImportRecord };
    expect(finished.record).toMatchObject({ status: 'completed', outcomes: { created: 23, unchanged: 0 } });
    const progress = events.filter((e) => e.type === 'progress').map((e) => e.progress.rowsDone);
    expect(progress[0]).toBe(10);
    expect(await rowNumbers(job._id)).toEqual(range(23));
    expect(await users().countDocuments()).toBe(23);
    for (const user of invitedBefore) {
      expect((await users().findOne({ _id: user._id }))?.invitation?.queuedAt).toEqual(
        user.invitation?.queuedAt,
      );
    }
    expect(await queue.get(job._id)).toMatchObject({
      status: 'completed',
      leaseOwner: 'worker-b',
      attempts: 2,
    });
  });

  it('on stop() hands a running job back after its batch, and a later run finishes it', async () => {
    const job = await enqueueFile(newUsers(40));
    const slow = new TestService(t.db, SETTINGS);
    slow.delayMs = 30;
    let batches = 0;
    slow.afterBatch = () => batches++;
    const { events, handlers } = recorder();
    const runner = runnerFor(handlers, { imports: slow });
    const running = runner.runOnce();
    await waitFor(() => batches >= 3);
    await runner.stop();
    expect(await running).toBe(true);

    const released = await queue.get(job._id);
    expect(released).toMatchObject({ status: 'queued', attempts: 0 });
    expect(released?.leaseOwner).toBeUndefined();
    const record = await new ImportService(t.db, SETTINGS).history.get(job._id);
    expect(record.status).toBe('running');
    expect(record.error).toBeUndefined();
    expect(record.progress.rowsDone).toBeGreaterThan(0);
    expect(record.progress.rowsDone).toBeLessThan(40);
    expect(events.some((e) => e.type === 'failed' || e.type === 'finished')).toBe(false);

    slow.delayMs = 0;
    expect(await runner.runOnce()).toBe(true);
    expect(await queue.get(job._id)).toMatchObject({ status: 'completed' });
    expect(await rowNumbers(job._id)).toEqual(range(40));
    const finished = events.find((e) => e.type === 'finished') as { record: ImportRecord };
    expect(finished.record.outcomes).toMatchObject({ created: 40, unchanged: 0 });
  });

  it('stops a job whose lease it lost, leaving it to the new holder', async () => {
    const job = await enqueueFile(newUsers(30));
    const slow = new TestService(t.db, SETTINGS);
    slow.delayMs = 20;
    let stolen = false;
    slow.afterBatch = ({ rowsDone }) => {
      if (rowsDone >= 10 && !stolen) {
        stolen = true;
        // Another worker took the job over (as if this one had stalled past its lease).
        void t.db
          .collection<{ _id: string }>(IMPORT_JOBS_COLLECTION)
          .updateOne({ _id: job._id }, { $set: { leaseOwner: 'worker-b' } });
      }
    };
    const { events, handlers } = recorder();
    const runner = runnerFor(handlers, { imports: slow });
    expect(await runner.runOnce()).toBe(true);
    const record = await new ImportService(t.db, SETTINGS).history.get(job._id);
    expect(record.status).toBe('running');
    expect(record.progress.rowsDone).toBeLessThan(30);
    expect(await queue.get(job._id)).toMatchObject({ status: 'running', leaseOwner: 'worker-b' });
    expect(events.some((e) => e.type === 'failed' || e.type === 'finished')).toBe(false);
  });

  it('fails a job whose file is bad, with the message for the admin', async () => {
    const job = await enqueueFile(['a@acme.com,A,B'], ACCOUNT, 'Login,First Name,Last Name');
    const { events, handlers } = recorder();
    expect(await runnerFor(handlers).runOnce()).toBe(true);
    const failed = events.find((e) => e.type === 'failed') as { error: { code: string; message: string } };
    expect(failed.error.code).toBe('file-no-email-column');
    expect(failed.error.message).toMatch(/No column holds/);
    expect(await queue.get(job._id)).toMatchObject({
      status: 'failed',
      activeKey: job._id,
      error: { code: 'file-no-email-column', message: failed.error.message },
    });
    expect(await queue.active(ACCOUNT)).toBeNull();
  });

  it('fails a job whose upload is gone', async () => {
    const job = await enqueueFile(newUsers(2));
    await uploads.delete(job.uploadId);
    const { events, handlers } = recorder();
    expect(await runnerFor(handlers).runOnce()).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['started', 'failed']);
    expect(await queue.get(job._id)).toMatchObject({ status: 'failed', error: { code: 'upload-not-found' } });
  });

  it('retries after an internal error, and gives up after three attempts', async () => {
    const flaky = new TestService(t.db, SETTINGS);
    flaky.failures = 1;
    const job = await enqueueFile(newUsers(3));
    const { events, handlers } = recorder();
    const runner = runnerFor(handlers, { imports: flaky });
    expect(await runner.runOnce()).toBe(true);
    expect(await queue.get(job._id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await runner.runOnce()).toBe(true);
    expect(await queue.get(job._id)).toMatchObject({ status: 'completed', attempts: 2 });
    expect(events.filter((e) => e.type === 'failed')).toEqual([]);

    flaky.failures = 3;
    const doomed = await enqueueFile(newUsers(3));
    for (let i = 0; i < 3; i++) expect(await runner.runOnce()).toBe(true);
    expect(await queue.get(doomed._id)).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: { code: 'import-failed' },
    });
    const failed = events.find((e) => e.type === 'failed') as { error: { message: string } };
    expect(failed.error.message).toMatch(/after 3 attempts/);
    expect(failed.error.message).not.toMatch(/@/);
  });

  it('gives up a job whose workers died three times, marking its import failed', async () => {
    const job = await enqueueFile(newUsers(12));
    // Three claims that each ended in a crash part-way through.
    for (let i = 0; i < 3; i++) {
      await queue.claim(`dead-${i}`, 60_000);
      await expireLease(job._id);
    }
    await new ImportService(t.db, SETTINGS)
      .commit(
        await uploads.source(job.uploadId, ACCOUNT),
        ACCOUNT,
        {},
        {
          by: 'admin-1',
          importId: job._id,
          onProgress: ({ rowsDone }) => {
            if (rowsDone >= BATCH) throw new Error('crash');
          },
        },
      )
      .catch(() => undefined);
    await t.db
      .collection<{ _id: string }>(IMPORTS_COLLECTION)
      .updateOne({ _id: job._id }, { $set: { status: 'running' }, $unset: { error: '' } });

    const { events, handlers } = recorder();
    expect(await runnerFor(handlers).runOnce()).toBe(true);
    expect(events.map((e) => e.type)).toEqual(['failed']);
    expect(await queue.get(job._id)).toMatchObject({
      status: 'failed',
      error: { code: 'import-interrupted' },
    });
    const record = await new ImportService(t.db, SETTINGS).history.get(job._id);
    expect(record).toMatchObject({ status: 'failed', error: { code: 'import-interrupted' } });
  });

  it('finishes the import even when every event handler throws', async () => {
    const job = await enqueueFile(newUsers(7));
    const { events, handlers } = recorder({ throwing: true });
    expect(await runnerFor(handlers).runOnce()).toBe(true);
    expect(events.map((e) => e.type)).toContain('finished');
    expect(await queue.get(job._id)).toMatchObject({ status: 'completed' });
    expect(logLines.some((line) => line.includes('event handler failed'))).toBe(true);
  });

  it('reports a slow batch every progressEveryMs with the latest figures', async () => {
    await enqueueFile(newUsers(10));
    const slow = new TestService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 10 });
    slow.delayMs = 0;
    let first = true;
    slow.afterBatch = () => {
      // Only the start report is slow here: the one batch then takes a while to come.
      if (first) slow.delayMs = 400;
      first = false;
    };
    const { events, handlers } = recorder();
    expect(await runnerFor(handlers, { imports: slow, progressEveryMs: 50 }).runOnce()).toBe(true);
    const zeros = events.filter((e) => e.type === 'progress' && e.progress.rowsDone === 0);
    expect(zeros.length).toBeGreaterThanOrEqual(3);
  });

  it('polls for work once started, and stop() leaves it idle', async () => {
    const { events, handlers } = recorder();
    const runner = runnerFor(handlers);
    runner.start();
    await enqueueFile(newUsers(3));
    await enqueueFile(newUsers(2), 'globex');
    await waitFor(() => events.filter((e) => e.type === 'finished').length === 2);
    await runner.stop();
    await enqueueFile(newUsers(1), 'initech');
    await sleep(100);
    expect(events.filter((e) => e.type === 'started')).toHaveLength(2);
  });
});
