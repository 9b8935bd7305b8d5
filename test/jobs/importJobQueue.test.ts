import { IMPORT_JOBS_COLLECTION } from '../../services/db/indexes';
import { isAppError, type AppError } from '../../services/errors';
import { ImportJobQueue, type NewImportJob } from '../../services/jobs/importJobQueue';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;
let queue: ImportJobQueue;

beforeAll(async () => {
  t = await openTestDatabase();
  queue = new ImportJobQueue(t.db);
});
afterAll(async () => t.close());
beforeEach(async () => {
  await t.db.collection(IMPORT_JOBS_COLLECTION).deleteMany({});
});

function newJob(accountId = 'acme', overrides: Partial<NewImportJob> = {}): NewImportJob {
  return {
    accountId,
    uploadId: 'upl_1',
    fileName: 'users.csv',
    options: { defaultAction: 'new' },
    by: 'admin',
    replyTo: '{"conversation":{"id":"c1"}}',
    ...overrides,
  };
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  return promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (err: AppError) => err,
  );
}

const jobs = () => t.db.collection<{ _id: string }>(IMPORT_JOBS_COLLECTION);

describe('ImportJobQueue', () => {
  it('queues a job with validated options, one active job per account', async () => {
    const job = await queue.enqueue(newJob());
    expect(job).toMatchObject({ status: 'queued', activeKey: 'acme', attempts: 0, fileName: 'users.csv' });
    expect(job._id).toMatch(/^imp_/);
    expect(await queue.get(job._id)).toEqual(job);
    expect(await queue.active('acme')).toEqual(job);

    const busy = await refusal(queue.enqueue(newJob('acme', { fileName: 'second.csv' })));
    expect(isAppError(busy, 'import-busy')).toBe(true);
    expect(busy.message).toContain('"users.csv"');
    expect(busy.details).toEqual({ jobId: job._id });

    // Another account is not held up.
    const other = await queue.enqueue(newJob('globex'));
    expect(other.status).toBe('queued');
    expect(await queue.active('nobody')).toBeNull();

    const invalid = await refusal(queue.enqueue(newJob('initech', { options: { bogus: true } as never })));
    expect(isAppError(invalid, 'option-invalid')).toBe(true);
  });

  it('uses the import id it is given, and refuses the same id twice', async () => {
    const job = await queue.enqueue(newJob('acme', { importId: 'imp_given' }));
    expect(job._id).toBe('imp_given');
    await queue.complete(job._id, 'nobody'); // not held: changes nothing
    const again = await refusal(queue.enqueue(newJob('globex', { importId: 'imp_given' })));
    expect((again as unknown as { code: number }).code).toBe(11000);
  });

  it('claims the oldest queued job under a lease, then nothing while it is held', async () => {
    const first = await queue.enqueue(newJob('acme'));
    const second = await queue.enqueue(newJob('globex'));
    const now = new Date();
    const claimed = await queue.claim('worker-a', 60_000, now);
    expect(claimed).toMatchObject({
      _id: first._id,
      status: 'running',
      leaseOwner: 'worker-a',
      attempts: 1,
      startedAt: now,
      options: { defaultAction: 'new' },
    });
    expect(claimed?.leaseUntil?.getTime()).toBe(now.getTime() + 60_000);
    expect((await queue.claim('worker-b', 60_000))?._id).toBe(second._id);
    expect(await queue.claim('worker-c', 60_000)).toBeNull();
    // Running jobs still count as active.
    expect((await queue.active('acme'))?._id).toBe(first._id);
  });

  it('lets another worker take over a job whose lease ran out, keeping the first start time', async () => {
    const job = await queue.enqueue(newJob());
    const t0 = new Date();
    await queue.claim('worker-a', 1000, t0);
    expect(await queue.claim('worker-b', 1000, new Date(t0.getTime() + 500))).toBeNull();

    const later = new Date(t0.getTime() + 2000);
    const taken = await queue.claim('worker-b', 60_000, later);
    expect(taken).toMatchObject({ _id: job._id, leaseOwner: 'worker-b', attempts: 2, startedAt: t0 });

    // The first worker has lost it: it can neither renew nor finish it.
    expect(await queue.renew(job._id, 'worker-a', 60_000)).toBe(false);
    expect(await queue.complete(job._id, 'worker-a')).toBe(false);
    expect(await queue.fail(job._id, 'worker-a', { code: 'x', message: 'y' })).toBe(false);
    await queue.release(job._id, 'worker-a');
    expect(await queue.get(job._id)).toMatchObject({ status: 'running', leaseOwner: 'worker-b' });
    expect(await queue.renew(job._id, 'worker-b', 60_000)).toBe(true);
  });

  it('renews the lease only for its holder', async () => {
    const job = await queue.enqueue(newJob());
    const claimed = await queue.claim('worker-a', 1000);
    expect(await queue.renew(job._id, 'worker-b', 60_000)).toBe(false);
    expect(await queue.renew(job._id, 'worker-a', 60_000)).toBe(true);
    const renewed = await queue.get(job._id);
    expect(renewed?.leaseUntil?.getTime()).toBeGreaterThan(claimed?.leaseUntil?.getTime() ?? Infinity);
    expect(await queue.renew('imp_missing', 'worker-a', 60_000)).toBe(false);
  });

  it('takes a released job back; a graceful release gives back its attempt, a retry does not', async () => {
    const job = await queue.enqueue(newJob());
    await queue.claim('worker-a', 60_000);
    await queue.release(job._id, 'worker-a');
    const released = await queue.get(job._id);
    expect(released).toMatchObject({ status: 'queued', attempts: 0 });
    expect(released?.leaseOwner).toBeUndefined();
    expect(released?.leaseUntil).toBeUndefined();
    expect(released?.startedAt).toBeInstanceOf(Date);

    await queue.claim('worker-b', 60_000);
    await queue.release(job._id, 'worker-b', { retry: true });
    expect(await queue.get(job._id)).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await queue.claim('worker-c', 60_000)).toMatchObject({ attempts: 2, leaseOwner: 'worker-c' });
  });

  it('frees the account once a job completes or fails', async () => {
    const job = await queue.enqueue(newJob());
    await queue.claim('worker-a', 60_000);
    expect(await queue.complete(job._id, 'worker-a')).toBe(true);
    const done = await queue.get(job._id);
    expect(done).toMatchObject({ status: 'completed', activeKey: job._id });
    expect(done?.finishedAt).toBeInstanceOf(Date);
    expect(await queue.active('acme')).toBeNull();

    const next = await queue.enqueue(newJob());
    await queue.claim('worker-a', 60_000);
    expect(
      await queue.fail(next._id, 'worker-a', { code: 'file-empty', message: 'The file is empty.' }),
    ).toBe(true);
    expect(await queue.get(next._id)).toMatchObject({
      status: 'failed',
      activeKey: next._id,
      error: { code: 'file-empty', message: 'The file is empty.' },
    });
    expect((await queue.enqueue(newJob())).status).toBe('queued');
    // Finished jobs are never claimed again.
    expect((await queue.claim('worker-a', 60_000))?._id).not.toBe(next._id);
    expect(await queue.claim('worker-a', 60_000)).toBeNull();
  });

  it('keeps the host’s progress message id', async () => {
    const job = await queue.enqueue(newJob());
    await queue.setProgressMessage(job._id, 'activity-1');
    expect(await queue.get(job._id)).toMatchObject({ progressMessageId: 'activity-1' });
  });

  it('fails at claim a job whose stored options no longer validate, and says why', async () => {
    const job = await queue.enqueue(newJob());
    await jobs().updateOne({ _id: job._id }, { $set: { options: { removedOption: 1 } } });
    const claimed = await queue.claim('worker-a', 60_000);
    expect(claimed).toMatchObject({ _id: job._id, status: 'failed', error: { code: 'option-invalid' } });
    expect(await queue.active('acme')).toBeNull();
    expect(await queue.claim('worker-a', 60_000)).toBeNull();
  });
});
