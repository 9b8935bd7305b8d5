import { MongoBulkWriteError, ObjectId, type AnyBulkWriteOperation, type Collection, type Db } from 'mongodb';
import { AppError } from '../errors';
import { emptyOutcomes, type ImportRecord, type Outcome, type RowResult } from '../history/importRecord';
import { countResults, type ImportHistory } from '../history/importHistory';
import { newOutboxEntry, OUTBOX_FIELD } from '../notifications/outbox';
import type { UserDirectory } from '../users/userDirectory';
import { USERS_COLLECTION, type UserDocument, type UserStatus } from '../users/userTypes';
import { DEFAULT_BATCH_SIZE, decideInBatches, summarizeFile, type PreparedImport } from './importReader';
import { columnHeaders } from './importPlan';
import type { AppliedRow, Effect, RowDecision } from './rowDecision';
import { actionLabel } from './rowRules';

/**
 * FerretDB 1.24 stops answering an `update` command that carries 100 or more statements; staying well under
 * that costs MongoDB nothing measurable.
 */
const UPDATES_PER_COMMAND = 50;

const OUTCOME_OF: Record<Effect, Outcome> = {
  create: 'created',
  update: 'updated',
  delete: 'deleted',
  activate: 'activated',
  unchanged: 'unchanged',
};

export interface CommitProgress {
  rowsDone: number;
  totalRows: number;
}

export interface CommitDeps {
  db: Db;
  directory: UserDirectory;
  history: ImportHistory;
}

export interface CommitMeta {
  importId: string;
  by: string;
  batchSize?: number;
  /**
   * Called once when the import starts (with the rows already done, 0 unless resumed) and after every
   * batch. An error thrown here fails the import like any other.
   */
  onProgress?: (progress: CommitProgress) => void | Promise<void>;
  /**
   * Continue the import `importId` if its record exists already (a crashed or stopped worker's) instead of
   * failing on the duplicate id. A completed one is returned as it is. Without an existing record the import
   * simply starts.
   */
  resume?: boolean;
  /**
   * Checked between batches: once aborted, the commit stops with {@link AppError} `import-stopped` and
   * leaves the record running (not failed), so a later commit with `resume` picks it up where it stopped.
   */
  signal?: AbortSignal;
}

function stopped(importId: string): AppError {
  return new AppError(
    'import-stopped',
    `Import ${importId} was stopped between two batches; it will continue where it stopped.`,
    { importId },
  );
}

/**
 * Applies a prepared import in batches and records it with a result for every row. Each write is keyed by
 * the user's email within the account and guarded by the state it expects, so re-applying a batch changes
 * nothing twice and never queues a second message.
 *
 * Resuming (`meta.resume`) skips the rows that already have results: batches are deterministic partitions
 * of the same bytes (checked by sha256), so the first `progress.rowsDone` rows of the file are exactly
 * those. Rows of a batch that was applied but whose results were not recorded before the crash are decided
 * again against the current state. Their writes are already in the database, so they come out as
 * `unchanged` (a Delete as `ignored`/not-found, the user being deleted already) and queue nothing, an outbox
 * entry being written only with the change that causes it: nothing is applied twice, but those rows report
 * that rather than what the crashed run did.
 */
export async function commitImport(
  deps: CommitDeps,
  prepared: PreparedImport,
  meta: CommitMeta,
): Promise<ImportRecord> {
  const existing = meta.resume ? await deps.history.find(meta.importId) : null;
  if (
    existing &&
    (existing.accountId !== prepared.accountId || existing.file.sha256 !== summarizeFile(prepared).sha256)
  ) {
    throw new AppError(
      'import-not-committable',
      `Import ${meta.importId} was started with a different file or account, so it cannot be continued with this one.`,
      { importId: meta.importId },
    );
  }
  if (existing?.status === 'completed') return existing;
  if (meta.signal?.aborted) throw stopped(meta.importId);
  let progress = { rowsDone: 0, batchesDone: 0 };
  if (existing) {
    const reopened = await deps.history.reopen(meta.importId);
    if (!reopened) throw new AppError('import-not-found', `There is no import with id ${meta.importId}.`);
    if (reopened.status === 'completed') return reopened;
    progress = reopened.progress;
  } else {
    await createRecord(deps.history, prepared, meta);
  }

  const batches = decideInBatches(deps.directory, prepared, meta.batchSize ?? DEFAULT_BATCH_SIZE, {
    keepFields: true,
  });
  try {
    let seq = progress.batchesDone;
    let rowsDone = progress.rowsDone;
    let toSkip = progress.rowsDone;
    await meta.onProgress?.({ rowsDone, totalRows: prepared.dataRows });
    // Parse and decide the next batch while the database applies this one: rows are unique per email by
    // now, so no batch depends on the writes of another.
    let next = batches.next();
    for (;;) {
      const current = await next;
      if (current.done) break;
      next = batches.next();
      next.catch(() => undefined); // its failure is handled when it is awaited above
      let batch = current.value;
      if (toSkip > 0) {
        // Skipped by rows rather than batches, so a resume under another batch size still lines up.
        const skipped = Math.min(toSkip, batch.length);
        toSkip -= skipped;
        batch = batch.slice(skipped);
        if (batch.length === 0) continue;
      }
      if (meta.signal?.aborted) throw stopped(meta.importId);
      const results = await applyBatch(deps.db, prepared.accountId, meta.importId, batch);
      await deps.history.recordBatch(meta.importId, seq++, results, countResults(results));
      rowsDone += results.length;
      await meta.onProgress?.({ rowsDone, totalRows: prepared.dataRows });
    }
    await deps.history.finish(meta.importId, 'completed');
  } catch (err) {
    // A stop is not a failure: the record stays running for the commit that resumes it.
    if (err instanceof AppError && err.code === 'import-stopped') throw err;
    const code = (err as { code?: unknown }).code;
    await deps.history.finish(meta.importId, 'failed', {
      code: typeof code === 'string' ? code : 'import-failed',
      message: (err as Error).message,
    });
    throw err;
  } finally {
    // Closes the file stream whether the import finished or failed part-way.
    await batches.return(undefined).catch(() => undefined);
  }
  return deps.history.get(meta.importId);
}

async function createRecord(history: ImportHistory, prepared: PreparedImport, meta: CommitMeta) {
  const now = new Date();
  const { options } = prepared;
  await history.create({
    _id: meta.importId,
    accountId: prepared.accountId,
    by: meta.by,
    createdAt: now,
    startedAt: now,
    status: 'running',
    file: summarizeFile(prepared),
    columns: columnHeaders(prepared),
    ignoredColumns: prepared.mapping.ignoredColumns,
    options: {
      defaultStatus: options.defaultAction ?? null,
      createMissingOnUpdate: options.createMissingOnUpdate ?? false,
      mapping: options.mapping ?? {},
      ...(options.flaggedEmails ? { flaggedEmails: options.flaggedEmails } : {}),
      ...(options.reflow && prepared.layout.shape === 'run-together' ? { reflow: true } : {}),
    },
    outcomes: emptyOutcomes(),
    problemCounts: {},
    invitations: 0,
    activationNotices: 0,
    progress: { rowsDone: 0, batchesDone: 0, heartbeatAt: now },
  });
}

interface PlannedWrite {
  decision: AppliedRow;
  op: AnyBulkWriteOperation<UserDocument>;
}

async function applyBatch(
  db: Db,
  accountId: string,
  importId: string,
  batch: RowDecision[],
): Promise<RowResult[]> {
  const users = db.collection<UserDocument>(USERS_COLLECTION);
  const now = new Date();
  const inserts: PlannedWrite[] = [];
  const updates: PlannedWrite[] = [];
  for (const decision of batch) {
    if (decision.kind !== 'apply' || decision.effect === 'unchanged') continue;
    const op = writeFor(decision, accountId, importId, now);
    ('insertOne' in op ? inserts : updates).push({ decision, op });
  }

  const failures = new Map<number, string>();
  await runWrites(users, inserts, failures);
  for (let i = 0; i < updates.length; i += UPDATES_PER_COMMAND) {
    await runWrites(users, updates.slice(i, i + UPDATES_PER_COMMAND), failures);
  }

  return batch.map((decision): RowResult => {
    if (decision.kind === 'ignore') {
      const { problem } = decision;
      return {
        row: problem.row,
        email: problem.email,
        action: problem.action ?? null,
        outcome: 'ignored',
        code: problem.code,
        reason: problem.message,
        ...(problem.fields ? { fields: problem.fields } : {}),
      };
    }
    const failure = failures.get(decision.row);
    const hasChanges = Object.keys(decision.changes).length > 0;
    return {
      row: decision.row,
      email: decision.email,
      action: decision.action,
      outcome: failure ? 'failed' : OUTCOME_OF[decision.effect],
      // A failed row keeps what it asked for, so the fix file can give it back.
      ...(failure
        ? {
            reason: failure,
            fields: { email: decision.email, ...decision.profile, status: actionLabel(decision.action) },
          }
        : {}),
      ...(hasChanges && !failure && recordsChanges(decision) ? { changes: decision.changes } : {}),
      ...(decision.notify && !failure ? { notified: decision.notify } : {}),
      ...(failure ? {} : statusChange(decision)),
    };
  });
}

/**
 * The status a row moved the user from and to, recorded for every row that created a user or changed a
 * status so that an undo knows what to go back to (`old: null`: the user did not exist before).
 */
function statusChange(decision: AppliedRow): Pick<RowResult, 'status'> {
  const before: UserStatus | null = decision.existing?.status ?? null;
  switch (decision.effect) {
    case 'create':
      return { status: { old: before, new: decision.createStatus ?? 'invited' } };
    case 'delete':
      return before ? { status: { old: before, new: 'deleted' } } : {};
    case 'activate':
      return { status: { old: before ?? 'invited', new: 'active' } };
    default:
      return {};
  }
}

/**
 * A brand-new user's "changes" would list every value with an empty old side: the user document already
 * holds them and undoing a create needs none, so they are left out, which also halves what a large import
 * writes. Updates, activations and revived users keep old and new values.
 */
function recordsChanges(decision: AppliedRow): boolean {
  return !(decision.effect === 'create' && !decision.existing);
}

async function runWrites(
  users: Collection<UserDocument>,
  writes: PlannedWrite[],
  failures: Map<number, string>,
): Promise<void> {
  if (writes.length === 0) return;
  try {
    await users.bulkWrite(
      writes.map((w) => w.op),
      { ordered: false },
    );
  } catch (err) {
    if (!(err instanceof MongoBulkWriteError)) throw err;
    const errors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    for (const writeError of errors) {
      const write = writes[writeError.index];
      if (!write) continue;
      failures.set(
        write.decision.row,
        writeError.code === 11000
          ? 'A user with this email was created by someone else at the same moment; nothing was changed.'
          : `The database refused the change (code ${writeError.code}).`,
      );
    }
  }
}

function writeFor(
  decision: AppliedRow,
  accountId: string,
  importId: string,
  now: Date,
): AnyBulkWriteOperation<UserDocument> {
  const { existing, profile, changes } = decision;
  const changedValues = Object.fromEntries(
    Object.entries(changes).map(([field, change]) => [field, change.new]),
  );
  const stamp = { updatedAt: now, lastImportId: importId };
  const queue = decision.notify
    ? { [OUTBOX_FIELD[decision.notify]]: newOutboxEntry(decision.notify, importId, now), mailDue: true }
    : {};

  switch (decision.effect) {
    case 'create': {
      const status = decision.createStatus ?? 'invited';
      const activation = status === 'active' ? { activatedAt: now } : {};
      if (!existing) {
        return {
          insertOne: {
            document: {
              _id: new ObjectId(),
              accountId,
              email: decision.email,
              ...profile,
              status,
              createdAt: now,
              createdByImportId: importId,
              ...activation,
              ...stamp,
              ...queue,
            } as UserDocument,
          },
        };
      }
      // The account had this email once and deleted it: bring that user back rather than add a second one.
      return {
        updateOne: {
          filter: { _id: existing._id, status: 'deleted' },
          update: {
            $set: { ...profile, status, createdByImportId: importId, ...activation, ...stamp, ...queue },
            $unset: { deletedAt: '' },
          },
        },
      };
    }
    case 'update':
      return {
        updateOne: { filter: { _id: existing?._id }, update: { $set: { ...changedValues, ...stamp } } },
      };
    case 'delete':
      return {
        updateOne: {
          filter: { _id: existing?._id, status: { $ne: 'deleted' } },
          update: { $set: { status: 'deleted', deletedAt: now, ...stamp } },
        },
      };
    case 'activate':
      return {
        updateOne: {
          filter: { _id: existing?._id, status: 'invited' },
          update: { $set: { ...changedValues, status: 'active', activatedAt: now, ...stamp, ...queue } },
        },
      };
    case 'unchanged':
      throw new Error('unchanged rows are not written');
  }
}
