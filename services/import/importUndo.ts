import type { AnyBulkWriteOperation, Collection, Db, Document, Filter, ObjectId } from 'mongodb';
import { IMPORT_UNDO_LOCKS_COLLECTION, IMPORTS_COLLECTION } from '../db/collectionNames';
import { AppError } from '../errors';
import { HistoryQueries } from '../history/historyQueries';
import { isDuplicateKeyError } from '../history/importNumbers';
import { countResults, newImportId, type ImportHistory } from '../history/importHistory';
import {
  emptyOutcomes,
  type ImportRecord,
  type Outcome,
  type RecordedChanges,
  type RowResult,
} from '../history/importRecord';
import { ImportJobQueue } from '../jobs/importJobQueue';
import { newOutboxEntry, OUTBOX_FIELD } from '../notifications/outbox';
import {
  PROFILE_FIELDS,
  USERS_COLLECTION,
  type MailKind,
  type OutboxEntry,
  type ProfileField,
  type UserDocument,
  type UserStatus,
} from '../users/userTypes';

export const DEFAULT_UNDO_WINDOW_DAYS = 14;
const DAY_MS = 24 * 60 * 60 * 1000;

/** Rows read, decided and recorded together: one users query and one result chunk per group. */
const ROWS_PER_GROUP = 1000;

/**
 * FerretDB 1.24 stops answering an `update` command that carries 100 or more statements; staying well under
 * that costs MongoDB nothing measurable (as in the import's commit).
 */
const UPDATES_PER_COMMAND = 50;

/** An undo lock whose undo has not recorded itself for this long was left by a crash. */
const STALE_LOCK_MS = 60_000;

/** Held while an import is undone (and for as long as it stays undone): see `ImportUndo.lock`. */
interface UndoLock {
  /** The undone import's id. */
  _id: string;
  accountId: string;
  undoId: string;
  at: Date;
}

/** How many conflicts a plan or result lists; `conflictsTotal` counts them all. */
export const MAX_LISTED_CONFLICTS = 200;

/** Row outcomes that changed the account, which an undo reverses. */
const REVERSIBLE: ReadonlySet<Outcome> = new Set(['created', 'updated', 'deleted', 'activated']);

/** Code of an undo's row that it left alone because the user changed since. */
export const CHANGED_SINCE = 'changed-since';

/** Something the undone import changed that has changed again since, so the undo leaves it alone. */
export interface UndoConflict {
  row: number;
  email: string;
  field: ProfileField | 'status';
  /** The value the import left (for `status` its status), which the user no longer has. */
  recorded: string | null;
  /** The value now; `status` null: the user is no longer in the account. */
  current: string | null;
}

/** What an undo does (or did), counted by kind. */
export interface UndoCounts {
  /** Users the import created (or brought back), deleted again (soft). */
  deleteCreated: number;
  /** Users whose fields go back to their recorded old values. */
  restoreFields: number;
  /** Users the import deleted, restored to their previous status. */
  restoreDeleted: number;
  /** Users the import activated, back to invited. */
  revertActivations: number;
  /** Users an undone undo had made invited again, active again. */
  reactivations: number;
  /** Invitations the import queued and that are still waiting, cancelled. */
  cancelInvitations: number;
  /** Activation notices the import queued and that are still waiting, cancelled. */
  cancelActivationNotices: number;
  /** Messages an undone undo had cancelled, queued again. */
  requeueMessages: number;
}

/** The import an undo is about, as a plan shows it. */
export interface UndoTarget {
  importId: string;
  number: number;
  fileName: string;
  createdAt: Date;
  by: string;
  status: ImportRecord['status'];
  /** Set when the import is itself an undo: undoing it applies the original import's effects again. */
  undoOf: { importId: string; number: number } | null;
}

/** What undoing an import would do. Nothing is written to make it. */
export interface UndoPlan {
  import: UndoTarget;
  windowDays: number;
  /** After this moment the import can no longer be undone. */
  undoableUntil: Date;
  counts: UndoCounts;
  /** How many users the undo changes. */
  rows: number;
  /** The first {@link MAX_LISTED_CONFLICTS} conflicts, in row order. */
  conflicts: UndoConflict[];
  conflictsTotal: number;
}

/** What an applied undo did: its own import record (numbered, in history) and what it left alone. */
export interface UndoResult {
  record: ImportRecord;
  undone: UndoTarget;
  counts: UndoCounts;
  rows: number;
  conflicts: UndoConflict[];
  conflictsTotal: number;
}

export interface ImportUndoSettings {
  /** Days after an import during which it may be undone (`UNDO_WINDOW_DAYS`). */
  windowDays?: number;
}

/** What reversing one recorded row comes to, against the user as they are now. */
interface Reversal {
  source: RowResult;
  user: UserDocument | undefined;
  status?: { from: UserStatus; to: UserStatus };
  fields: Partial<Record<ProfileField, { from: string | null; to: string | null }>>;
  conflicts: UndoConflict[];
  /** The message the undone row queued, still waiting: cancelled once the status is reversed. */
  cancel?: MailKind;
  /** The message the undone row (an undo's) cancelled: queued again with the status it goes back to. */
  requeue?: MailKind;
}

function emptyCounts(): UndoCounts {
  return {
    deleteCreated: 0,
    restoreFields: 0,
    restoreDeleted: 0,
    revertActivations: 0,
    reactivations: 0,
    cancelInvitations: 0,
    cancelActivationNotices: 0,
    requeueMessages: 0,
  };
}

/**
 * The status change a row recorded. Rows recorded before imports kept statuses are read from their outcome:
 * a created user did not exist (or was deleted, when the row lists changes: a deleted user brought back); a
 * deleted one was active if they had ever been activated, else invited; an activated one was invited.
 */
export function recordedStatus(
  row: RowResult,
  user: Pick<UserDocument, 'activatedAt'> | undefined,
): { old: UserStatus | null; new: UserStatus } | undefined {
  if (row.status) return row.status;
  switch (row.outcome) {
    case 'created': {
      const created = row.notified === 'activation' || row.action === 'activate' ? 'active' : 'invited';
      return { old: row.changes ? 'deleted' : null, new: created };
    }
    case 'deleted':
      return { old: user?.activatedAt ? 'active' : 'invited', new: 'deleted' };
    case 'activated':
      return { old: 'invited', new: 'active' };
    default:
      return undefined;
  }
}

/**
 * A message that can still be taken back: waiting, or claimed by a worker whose lease ran out. Only the one
 * the undone import queued, unless the user is being deleted, when no waiting message should reach them.
 */
function cancellable(entry: OutboxEntry | undefined, importId: string | undefined, now: Date): boolean {
  if (!entry || (importId !== undefined && entry.importId !== importId)) return false;
  if (entry.state === 'pending') return true;
  return entry.state === 'sending' && (!entry.leaseUntil || entry.leaseUntil < now);
}

/**
 * Reverses one recorded row against the user as they are now: the status goes back to the recorded old one
 * (none: the user is deleted again) and each field to its recorded old value (none: removed), but only
 * what still holds the value the row left. Anything changed since is a conflict and left alone. A row that
 * brought a user in is reversed by deleting them, without touching their fields.
 */
function reverse(source: RowResult, user: UserDocument | undefined, importId: string, now: Date): Reversal {
  const conflict = (field: UndoConflict['field'], recorded: string | null, current: string | null) => ({
    row: source.row,
    email: source.email,
    field,
    recorded,
    current,
  });
  const recorded = recordedStatus(source, user);
  if (!user) {
    return { source, user, fields: {}, conflicts: [conflict('status', recorded?.new ?? null, null)] };
  }
  const reversal: Reversal = { source, user, fields: {}, conflicts: [] };
  const target = recorded ? (recorded.old ?? 'deleted') : undefined;
  if (recorded && target !== undefined) {
    if (user.status !== recorded.new) reversal.conflicts.push(conflict('status', recorded.new, user.status));
    else if (target !== recorded.new) reversal.status = { from: recorded.new, to: target };
  }
  if (target !== 'deleted') {
    for (const field of PROFILE_FIELDS) {
      const change = source.changes?.[field];
      if (!change) continue;
      const current = user[field] ?? null;
      if (current === change.new) reversal.fields[field] = { from: change.new, to: change.old };
      else reversal.conflicts.push(conflict(field, change.new, current));
    }
  }
  if (reversal.status) {
    const { notified, cancelled } = source;
    const from = reversal.status.to === 'deleted' ? undefined : importId;
    if (notified && cancellable(user[OUTBOX_FIELD[notified]], from, now)) reversal.cancel = notified;
    if (cancelled && reversal.status.to !== 'deleted') reversal.requeue = cancelled;
  }
  return reversal;
}

function changes(reversal: Reversal): boolean {
  return reversal.status !== undefined || Object.keys(reversal.fields).length > 0;
}

function addCounts(counts: UndoCounts, reversal: Reversal): void {
  const { status } = reversal;
  if (status?.to === 'deleted') counts.deleteCreated++;
  else if (status?.from === 'deleted') counts.restoreDeleted++;
  else if (status?.from === 'active' && status.to === 'invited') counts.revertActivations++;
  else if (status?.to === 'active') counts.reactivations++;
  if (Object.keys(reversal.fields).length > 0) counts.restoreFields++;
  if (reversal.cancel === 'invitation') counts.cancelInvitations++;
  if (reversal.cancel === 'activation') counts.cancelActivationNotices++;
  if (reversal.requeue) counts.requeueMessages++;
}

/** What a reversal is recorded as: the same vocabulary as an import's rows, so an undo can be undone. */
function outcomeOf(status: Reversal['status']): Outcome {
  if (!status) return 'updated';
  if (status.to === 'deleted') return 'deleted';
  if (status.from === 'deleted') return 'created';
  return status.to === 'active' ? 'activated' : 'updated';
}

function describeValue(value: string | null): string {
  return value === null ? 'empty' : `"${value}"`;
}

function describeConflicts(conflicts: UndoConflict[], undone: ImportRecord): string {
  const parts = conflicts.map((c) =>
    c.field === 'status'
      ? c.current === null
        ? 'the user is no longer in the account'
        : `status is now ${c.current} (#${undone.number} left it ${c.recorded})`
      : `${c.field} is now ${describeValue(c.current)} (#${undone.number} set ${describeValue(c.recorded)})`,
  );
  return `Changed since #${undone.number}, so left alone: ${parts.join('; ')}.`;
}

/** Dotted and conditional paths are built at run time, which the driver's filter type cannot follow. */
/**
 * The shape of a reversal that only moves a user's status (no fields restored): users with the same key get
 * exactly the same guarded update, so they can share one updateMany. Undefined when the reversal restores
 * fields and has to be written on its own.
 */
function statusMoveKey(reversal: Reversal): string | undefined {
  const { status, user } = reversal;
  if (!status || !user || Object.keys(reversal.fields).length > 0) return undefined;
  const stampsActivation = status.to === 'active' && !user.activatedAt;
  return JSON.stringify([status.from, status.to, reversal.requeue ?? '', stampsActivation]);
}

function asFilter(query: Document): Filter<UserDocument> {
  return query as Filter<UserDocument>;
}

function mailState(kind: MailKind): string {
  return `${OUTBOX_FIELD[kind]}.state`;
}

const LIVE_MAIL_STATES = ['pending', 'sending'];

/**
 * Undoes an import within a window of days: users it created are deleted (soft), fields it changed go back
 * to their recorded old values, users it deleted come back with their previous status, activations are
 * reverted, and the messages it queued that are still waiting are cancelled. Whatever changed again since
 * is left alone and listed. The undo is recorded in history like an import (numbered, with per-row results
 * in the same vocabulary), so it can be asked about, listed and undone in turn, which applies the original
 * import's effects again by the same rule.
 *
 * Every write is guarded by the values it expects, so an edit made while the undo runs is never overwritten,
 * and the undone import is marked (`undoneBy`) before anything is written, so two undos of one import can
 * never both apply.
 */
export class ImportUndo {
  readonly windowDays: number;
  private readonly queries: HistoryQueries;
  private readonly jobs: ImportJobQueue;

  constructor(
    private readonly db: Db,
    private readonly history: ImportHistory,
    settings: ImportUndoSettings = {},
  ) {
    this.windowDays = settings.windowDays ?? DEFAULT_UNDO_WINDOW_DAYS;
    if (!Number.isInteger(this.windowDays) || this.windowDays < 1) {
      throw new RangeError('windowDays must be a positive whole number');
    }
    this.queries = new HistoryQueries(db, history);
    this.jobs = new ImportJobQueue(db);
  }

  private get users(): Collection<UserDocument> {
    return this.db.collection<UserDocument>(USERS_COLLECTION);
  }

  private get imports(): Collection<ImportRecord> {
    return this.db.collection<ImportRecord>(IMPORTS_COLLECTION);
  }

  private get locks(): Collection<UndoLock> {
    return this.db.collection<UndoLock>(IMPORT_UNDO_LOCKS_COLLECTION);
  }

  /**
   * What undoing the import `ref` (`imp_…`, `12` or `#12`) of the account would do, with the conflicts it
   * would leave alone. Writes nothing; refuses (see {@link apply}) what could not be undone.
   */
  async plan(accountId: string, ref: string, now = new Date()): Promise<UndoPlan> {
    const record = await this.undoable(accountId, ref, now);
    const counts = emptyCounts();
    const conflicts: UndoConflict[] = [];
    let conflictsTotal = 0;
    let rows = 0;
    for await (const group of this.groups(record._id)) {
      for (const reversal of await this.reverseGroup(accountId, record, group, now)) {
        conflictsTotal += reversal.conflicts.length;
        conflicts.push(...reversal.conflicts.slice(0, MAX_LISTED_CONFLICTS - conflicts.length));
        if (!changes(reversal)) continue;
        rows++;
        addCounts(counts, reversal);
      }
    }
    return {
      import: target(record),
      windowDays: this.windowDays,
      undoableUntil: this.deadline(record),
      counts,
      rows,
      conflicts,
      conflictsTotal,
    };
  }

  /**
   * Undoes the import `ref` of the account on behalf of `by` and returns the undo's own import record with
   * what it did and what it left alone. Refuses with an {@link AppError}, writing nothing, when: there is no
   * such import in the account (`import-not-found`); it is older than the window (`undo-window-passed`); it
   * was undone already (`undo-already-undone`); it is still running (`undo-import-running`); another import
   * or undo of the account is running (`import-busy`); or nothing it did can be undone any more
   * (`undo-nothing-to-do`).
   */
  async apply(accountId: string, ref: string, by: string, now = new Date()): Promise<UndoResult> {
    const plan = await this.plan(accountId, ref, now);
    if (plan.rows === 0) {
      throw new AppError(
        'undo-nothing-to-do',
        plan.conflictsTotal > 0
          ? `Nothing to undo: everything import #${plan.import.number} changed has changed again since.`
          : `Nothing to undo: import #${plan.import.number} changed no users.`,
        { importId: plan.import.importId },
      );
    }
    const undone = await this.history.get(plan.import.importId);
    const undoId = newImportId(now);
    await this.lock(undone, undoId);

    let record: ImportRecord;
    try {
      record = await this.history.create({
        _id: undoId,
        accountId,
        by,
        createdAt: now,
        startedAt: now,
        status: 'running',
        file: {
          name: `Undo of #${undone.number} ${undone.file.name}`,
          bytes: 0,
          sha256: '',
          encoding: 'utf-8',
          delimiter: '',
          rows: 0,
        },
        columns: {},
        ignoredColumns: [],
        options: { defaultStatus: null, createMissingOnUpdate: false, mapping: {} },
        outcomes: emptyOutcomes(),
        problemCounts: {},
        invitations: 0,
        activationNotices: 0,
        progress: { rowsDone: 0, batchesDone: 0, heartbeatAt: now },
        undoOf: { importId: undone._id, number: undone.number },
      });
    } catch (err) {
      await this.release(undone._id, undoId).catch(() => undefined);
      throw err;
    }
    const counts = emptyCounts();
    const conflicts: UndoConflict[] = [];
    let conflictsTotal = 0;
    let rows = 0;
    let seq = 0;
    try {
      await this.imports.updateOne(
        { _id: undone._id },
        { $set: { undoneBy: { importId: undoId, number: record.number, at: now } } },
      );
      for await (const group of this.groups(undone._id)) {
        const reversals = await this.reverseGroup(accountId, undone, group, now);
        const results = await this.applyGroup(undone, undoId, reversals, now);
        for (const { reversal, result } of results) {
          conflictsTotal += reversal.conflicts.length;
          conflicts.push(...reversal.conflicts.slice(0, MAX_LISTED_CONFLICTS - conflicts.length));
          if (result.outcome === 'ignored') continue;
          rows++;
          addCounts(counts, reversal);
        }
        const rowResults = results.map((r) => r.result);
        await this.history.recordBatch(undoId, seq++, rowResults, countResults(rowResults));
      }
      await this.imports.updateOne(
        { _id: undoId },
        { $set: { 'file.rows': await this.rowsRecorded(undoId) } },
      );
      await this.history.finish(undoId, 'completed');
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      await this.history.finish(undoId, 'failed', {
        code: typeof code === 'string' ? code : 'undo-failed',
        message: (err as Error).message,
      });
      // What was reversed stays reversed and is in this undo's results; the import may be undone again.
      await this.release(undone._id, undoId).catch(() => undefined);
      throw err;
    }
    // Undoing an undo gives its import back its effects, so that import may be undone once more.
    if (undone.undoOf) await this.release(undone.undoOf.importId, undone._id);
    return {
      record: await this.history.get(undoId),
      undone: target(undone),
      counts,
      rows,
      conflicts,
      conflictsTotal,
    };
  }

  private deadline(record: ImportRecord): Date {
    return new Date(record.createdAt.getTime() + this.windowDays * DAY_MS);
  }

  /** The import `ref` names in the account, if it may be undone now; refuses otherwise. */
  private async undoable(accountId: string, ref: string, now: Date): Promise<ImportRecord> {
    const resolution = await this.queries.resolveImport(accountId, { importRef: ref.trim() || '-' });
    if (resolution.kind !== 'found') {
      throw new AppError('import-not-found', `There is no import ${ref.trim()} in account ${accountId}.`, {
        ref,
      });
    }
    const { record } = resolution;
    const name = `Import #${record.number} (${record.file.name})`;
    if (now.getTime() > this.deadline(record).getTime()) {
      const days = Math.floor((now.getTime() - record.createdAt.getTime()) / DAY_MS);
      throw new AppError(
        'undo-window-passed',
        `${name} ran on ${record.createdAt.toISOString()}, ${days} days ago; imports can be undone for ` +
          `${this.windowDays} days after they ran (the UNDO_WINDOW_DAYS setting).`,
        { importId: record._id, createdAt: record.createdAt, windowDays: this.windowDays },
      );
    }
    const job = await this.jobs.active(accountId);
    if (record.status === 'running' || record.status === 'planned' || job?._id === record._id) {
      throw new AppError(
        'undo-import-running',
        `${name} has not finished yet; it can be undone once it has.`,
        { importId: record._id },
      );
    }
    if (record.undoneBy && (await this.undoHolds(record.undoneBy.importId))) {
      const undo = await this.history.find(record.undoneBy.importId);
      throw new AppError(
        'undo-already-undone',
        undo?.status === 'running'
          ? `${name} is being undone right now by #${undo.number}.`
          : `${name} was already undone by #${record.undoneBy.number} on ${record.undoneBy.at.toISOString()}.`,
        { importId: record._id, undoneBy: record.undoneBy },
      );
    }
    if (job) {
      throw new AppError(
        'import-busy',
        `An import of "${job.fileName}" is ${job.status === 'queued' ? 'waiting to start' : 'running'} for ` +
          'this account. Undo when it has finished.',
        { jobId: job._id },
      );
    }
    const running = await this.imports.findOne(
      { accountId, status: 'running', _id: { $ne: record._id } },
      { projection: { _id: 1, number: 1, file: 1, undoOf: 1 } },
    );
    if (running) {
      throw new AppError(
        'import-busy',
        `${running.undoOf ? 'An undo' : 'An import'} (#${running.number}, ${running.file.name}) is running for ` +
          'this account. Undo when it has finished.',
        { importId: running._id },
      );
    }
    return record;
  }

  /**
   * Whether an undo named by `undoneBy` still stands: it exists and did not fail (a failed undo released its
   * import, or crashed before it could, and is marked failed once its heartbeat stops; either way the import
   * may be undone again).
   */
  private async undoHolds(undoId: string): Promise<boolean> {
    const undo = await this.history.find(undoId);
    return undo !== null && undo.status !== 'failed';
  }

  /**
   * Takes the undo lock of the import for `undoId` before anything is written: a document whose `_id` is the
   * import's id, so that of two undos started at once the server's primary key admits exactly one (a
   * conditional findOneAndUpdate would not do: FerretDB 1.24 lets two concurrent ones both match). A lock
   * left by an undo that failed, or that crashed before recording itself, is taken over.
   */
  private async lock(undone: ImportRecord, undoId: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.locks.insertOne({ _id: undone._id, accountId: undone.accountId, undoId, at: new Date() });
        return;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
      const held = await this.locks.findOne({ _id: undone._id });
      if (held && attempt === 1 && (await this.lockIsStale(held))) {
        await this.locks.deleteOne({ _id: undone._id, undoId: held.undoId });
        continue;
      }
      const holder = held ? await this.history.find(held.undoId) : null;
      throw new AppError(
        'undo-already-undone',
        `Import #${undone.number} (${undone.file.name}) was just undone by someone else` +
          (holder ? ` (#${holder.number}).` : '.'),
        { importId: undone._id, undoneBy: held?.undoId ?? null },
      );
    }
  }

  private async lockIsStale(lock: UndoLock): Promise<boolean> {
    const undo = await this.history.find(lock.undoId);
    if (undo) return undo.status === 'failed';
    // The undo records itself right after taking the lock; one that has not for a minute never will.
    return Date.now() - lock.at.getTime() > STALE_LOCK_MS;
  }

  /** Gives the import back after a failed undo (or one that was undone), so it may be undone again. */
  private async release(importId: string, undoId: string): Promise<void> {
    await this.locks.deleteOne({ _id: importId, undoId });
    await this.imports.updateOne(
      { _id: importId, 'undoneBy.importId': undoId },
      { $unset: { undoneBy: '' } },
    );
  }

  private async rowsRecorded(undoId: string): Promise<number> {
    return (await this.history.get(undoId)).progress.rowsDone;
  }

  /** The import's rows that changed the account, a group at a time, in row order. */
  private async *groups(importId: string): AsyncGenerator<RowResult[]> {
    let group: RowResult[] = [];
    for await (const row of this.history.rowResults(importId)) {
      if (!REVERSIBLE.has(row.outcome)) continue;
      group.push(row);
      if (group.length >= ROWS_PER_GROUP) {
        yield group;
        group = [];
      }
    }
    if (group.length > 0) yield group;
  }

  private async usersByEmail(accountId: string, emails: string[]): Promise<Map<string, UserDocument>> {
    const found = new Map<string, UserDocument>();
    if (emails.length === 0) return found;
    for await (const user of this.users.find({ accountId, email: { $in: emails } }))
      found.set(user.email, user);
    return found;
  }

  private async reverseGroup(
    accountId: string,
    undone: ImportRecord,
    group: RowResult[],
    now: Date,
  ): Promise<Reversal[]> {
    const users = await this.usersByEmail(
      accountId,
      group.map((r) => r.email),
    );
    return group.map((row) => reverse(row, users.get(row.email), undone._id, now));
  }

  /**
   * Writes a group's reversals, each as one update guarded by the values it expects, then cancels the
   * messages of the users whose status went back. What a concurrent edit got to first is read back and
   * reported as a conflict rather than overwritten.
   */
  private async applyGroup(
    undone: ImportRecord,
    undoId: string,
    reversals: Reversal[],
    now: Date,
  ): Promise<Array<{ reversal: Reversal; result: RowResult }>> {
    const writes = reversals.filter(changes);
    // FerretDB 1.24 scans the collection for every update, even by _id: users whose only change is the same
    // status move (the bulk of any undo: created users deleted again) are written with one updateMany per
    // kind of move, guarded by their expected status; only rows that restore fields go one by one.
    const sameMove = new Map<string, Reversal[]>();
    const oneByOne: Reversal[] = [];
    for (const reversal of writes) {
      const key = statusMoveKey(reversal);
      if (key === undefined) oneByOne.push(reversal);
      else sameMove.set(key, [...(sameMove.get(key) ?? []), reversal]);
    }
    let matched = 0;
    for (const group of sameMove.values()) matched += await this.moveStatuses(group, undoId, now);
    const ops = oneByOne.map((r) => this.writeFor(r, undoId, now));
    for (let i = 0; i < ops.length; i += UPDATES_PER_COMMAND) {
      const result = await this.users.bulkWrite(ops.slice(i, i + UPDATES_PER_COMMAND), { ordered: false });
      matched += result.matchedCount;
    }
    if (matched < writes.length) await this.recheck(writes);
    const applied = writes.filter(changes);
    await this.cancelMessages(applied, undone._id, now);
    return reversals.map((reversal) => ({ reversal, result: resultOf(reversal, undone) }));
  }

  /**
   * Writes one status move shared by many users (see {@link statusMoveKey}) with a single updateMany,
   * guarded like {@link writeFor}: only users still in the status the undo expects change. Returns how many
   * matched.
   */
  private async moveStatuses(group: Reversal[], undoId: string, now: Date): Promise<number> {
    const [first] = group;
    if (!first) return 0;
    const op = this.writeFor(first, undoId, now);
    if (!('updateOne' in op)) throw new Error('a status move is written as an update');
    const { filter, update } = op.updateOne;
    const { _id: _ignored, ...guard } = filter as Document;
    const ids = group.flatMap((r) => (r.user ? [r.user._id] : []));
    const result = await this.users.updateMany(asFilter({ ...guard, _id: { $in: ids } }), update as Document);
    return result.matchedCount;
  }

  private writeFor(reversal: Reversal, undoId: string, now: Date): AnyBulkWriteOperation<UserDocument> {
    const { user, status, fields } = reversal;
    if (!user) throw new Error('a reversal without a user is not written');
    const filter: Document = { _id: user._id };
    const set: Document = { updatedAt: now, lastImportId: undoId };
    const unset: Document = {};
    if (status) {
      filter.status = status.from;
      set.status = status.to;
      if (status.to === 'deleted') set.deletedAt = now;
      if (status.from === 'deleted') unset.deletedAt = '';
      if (status.to === 'invited') unset.activatedAt = '';
      if (status.to === 'active' && !user.activatedAt) set.activatedAt = now;
      if (reversal.requeue) {
        set[OUTBOX_FIELD[reversal.requeue]] = newOutboxEntry(reversal.requeue, undoId, now);
        set.mailDue = true;
      }
    }
    for (const [field, change] of Object.entries(fields)) {
      filter[field] = change.from === null ? { $exists: false } : change.from;
      if (change.to === null) unset[field] = '';
      else set[field] = change.to;
    }
    return {
      updateOne: {
        filter: asFilter(filter),
        update: { $set: set, ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}) },
      },
    };
  }

  /**
   * Some guarded updates found the user changed meanwhile: reads those users again and turns each reversal
   * that did not take into a conflict on what changed.
   */
  private async recheck(writes: Reversal[]): Promise<void> {
    const ids = writes.flatMap((r) => (r.user ? [r.user._id] : []));
    const now = new Map<string, UserDocument>();
    for (let i = 0; i < ids.length; i += ROWS_PER_GROUP) {
      const cursor = this.users.find({ _id: { $in: ids.slice(i, i + ROWS_PER_GROUP) } });
      for await (const user of cursor) now.set(user._id.toHexString(), user);
    }
    for (const reversal of writes) {
      const current = reversal.user ? now.get(reversal.user._id.toHexString()) : undefined;
      if (current && tookEffect(reversal, current)) continue;
      const { source } = reversal;
      const conflicts: UndoConflict[] = [];
      if (reversal.status && current?.status !== reversal.status.to) {
        conflicts.push({
          row: source.row,
          email: source.email,
          field: 'status',
          recorded: reversal.status.from,
          current: current?.status ?? null,
        });
      }
      for (const [field, change] of Object.entries(reversal.fields)) {
        const value = current?.[field as ProfileField] ?? null;
        if (value !== change.to && value !== change.from) {
          conflicts.push({
            row: source.row,
            email: source.email,
            field: field as ProfileField,
            recorded: change.from,
            current: value,
          });
        }
      }
      if (conflicts.length === 0) {
        // Nothing differs from what the undo expected or wanted, yet the update did not match: say so.
        conflicts.push({
          row: source.row,
          email: source.email,
          field: 'status',
          recorded: reversal.status?.from ?? current?.status ?? null,
          current: current?.status ?? null,
        });
      }
      reversal.conflicts.push(...conflicts);
      delete reversal.status;
      delete reversal.cancel;
      delete reversal.requeue;
      reversal.fields = {};
    }
  }

  /**
   * Cancels the still-waiting messages of the reversed rows, each only while it is the one the undone import
   * queued and no worker holds it, then clears `mailDue` of those users with nothing else waiting.
   */
  private async cancelMessages(applied: Reversal[], importId: string, now: Date): Promise<void> {
    const toCancel = applied.filter((r) => r.cancel && r.user);
    if (toCancel.length === 0) return;
    // One updateMany per kind of message and guard rather than one update per user (see applyGroup).
    const byGuard = new Map<string, { kind: MailKind; anyImport: boolean; ids: ObjectId[] }>();
    for (const r of toCancel) {
      const kind = r.cancel as MailKind;
      const anyImport = r.status?.to === 'deleted';
      const key = `${kind}:${anyImport}`;
      const entry = byGuard.get(key) ?? { kind, anyImport, ids: [] };
      if (r.user) entry.ids.push(r.user._id);
      byGuard.set(key, entry);
    }
    let modified = 0;
    for (const { kind, anyImport, ids } of byGuard.values()) {
      const f = OUTBOX_FIELD[kind];
      modified += (
        await this.users.updateMany(
          asFilter({
            _id: { $in: ids },
            ...(anyImport ? {} : { [`${f}.importId`]: importId }),
            $or: [
              { [`${f}.state`]: 'pending' },
              { [`${f}.state`]: 'sending', [`${f}.leaseUntil`]: { $lt: now } },
            ],
          }),
          { $set: { [`${f}.state`]: 'cancelled' }, $unset: { [`${f}.leaseUntil`]: '' } },
        )
      ).modifiedCount;
    }
    const ids = toCancel.flatMap((r) => (r.user ? [r.user._id] : []));
    await this.users.updateMany(
      asFilter({
        _id: { $in: ids },
        mailDue: true,
        ...Object.fromEntries(
          (['invitation', 'activation'] as const).map((k) => [mailState(k), { $nin: LIVE_MAIL_STATES }]),
        ),
      }),
      { $set: { mailDue: false } },
    );
    if (modified === toCancel.length) return;
    // A worker claimed some meanwhile: only those actually cancelled are recorded as cancelled.
    const cancelled = new Set<string>();
    const cursor = this.users.find({ _id: { $in: ids } });
    for await (const user of cursor) {
      for (const kind of ['invitation', 'activation'] as const) {
        const entry = user[OUTBOX_FIELD[kind]];
        if (entry?.state === 'cancelled') {
          cancelled.add(`${user._id.toHexString()}:${kind}`);
        }
      }
    }
    for (const r of toCancel) {
      if (r.user && r.cancel && !cancelled.has(`${r.user._id.toHexString()}:${r.cancel}`)) delete r.cancel;
    }
  }
}

/** Whether the user now holds every value the reversal meant to write. */
function tookEffect(reversal: Reversal, user: UserDocument): boolean {
  if (reversal.status && user.status !== reversal.status.to) return false;
  return Object.entries(reversal.fields).every(
    ([field, change]) => (user[field as ProfileField] ?? null) === change.to,
  );
}

/** An undo's per-row result: what it reversed, or why it left the row alone. */
function resultOf(reversal: Reversal, undone: ImportRecord): RowResult {
  const { source, status, fields, conflicts } = reversal;
  const base = { row: source.row, email: source.email, action: null };
  if (!changes(reversal)) {
    return {
      ...base,
      outcome: 'ignored',
      code: CHANGED_SINCE,
      reason: describeConflicts(conflicts, undone),
    };
  }
  const recordedChanges: RecordedChanges = {};
  for (const [field, change] of Object.entries(fields)) {
    recordedChanges[field as ProfileField] = { old: change.from, new: change.to };
  }
  return {
    ...base,
    outcome: outcomeOf(status),
    ...(conflicts.length > 0 ? { reason: describeConflicts(conflicts, undone) } : {}),
    ...(Object.keys(recordedChanges).length > 0 ? { changes: recordedChanges } : {}),
    ...(status ? { status: { old: status.from, new: status.to } } : {}),
    ...(reversal.requeue ? { notified: reversal.requeue } : {}),
    ...(reversal.cancel ? { cancelled: reversal.cancel } : {}),
  };
}

function target(record: ImportRecord): UndoTarget {
  return {
    importId: record._id,
    number: record.number,
    fileName: record.file.name,
    createdAt: record.createdAt,
    by: record.by,
    status: record.status,
    undoOf: record.undoOf ?? null,
  };
}
