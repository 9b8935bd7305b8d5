import type { ImportFileSummary } from '../import/importReader';
import type { ProblemCode, RequestedAction } from '../import/rowRules';
import type { ImportField, MappingOverrides } from '../import/columns';
import type { MailKind, ProfileField, UserStatus } from '../users/userTypes';

export type ImportStatus = 'planned' | 'running' | 'completed' | 'failed' | 'cancelled';
export type Outcome = 'created' | 'updated' | 'unchanged' | 'deleted' | 'activated' | 'ignored' | 'failed';
export const OUTCOMES: readonly Outcome[] = [
  'created',
  'updated',
  'unchanged',
  'deleted',
  'activated',
  'ignored',
  'failed',
];
export type OutcomeCounts = Record<Outcome, number>;

export function emptyOutcomes(): OutcomeCounts {
  return { created: 0, updated: 0, unchanged: 0, deleted: 0, activated: 0, ignored: 0, failed: 0 };
}

/** One import as history keeps it. Per-row results live in chunks beside it ({@link RowResultChunk}). */
export interface ImportRecord {
  _id: string;
  accountId: string;
  /**
   * The import's number within its account: 1, 2, 3… in creation order, what an admin types ("#12").
   * Unique per account (index `account_number_unique`); assigned by `ImportHistory.create`.
   */
  number: number;
  by: string;
  createdAt: Date;
  startedAt?: Date;
  finishedAt?: Date;
  status: ImportStatus;
  file: ImportFileSummary;
  columns: Record<string, string>;
  ignoredColumns: string[];
  options: {
    defaultStatus: RequestedAction | null;
    createMissingOnUpdate: boolean;
    mapping: MappingOverrides;
    /** What the admin chose for flagged emails; absent when the file had none or nobody chose. */
    flaggedEmails?: 'import' | 'skip';
    /** The admin confirmed re-flowing rows run together on one line; absent otherwise. */
    reflow?: boolean;
  };
  outcomes: OutcomeCounts;
  problemCounts: Partial<Record<ProblemCode, number>>;
  invitations: number;
  activationNotices: number;
  /** `heartbeatAt` moves with every batch: a running import whose heartbeat stopped was interrupted. */
  progress: { rowsDone: number; batchesDone: number; heartbeatAt: Date };
  error?: { code: string; message: string };
  /** This record is the undo of another import (see `ImportUndo`): which one. */
  undoOf?: { importId: string; number: number };
  /**
   * Set on an import once an undo of it started; cleared again when that undo is itself undone, so the
   * import can be undone once more.
   */
  undoneBy?: { importId: string; number: number; at: Date };
}

/**
 * Field changes as history records them. An import always writes a value (`new` is a string); an undo that
 * restores a field that was empty before removes it, recorded as `new: null`.
 */
export type RecordedChanges = Partial<Record<ProfileField, { old: string | null; new: string | null }>>;

/** The result of one row, as the per-row report shows it. */
export interface RowResult {
  row: number;
  email: string;
  action: RequestedAction | null;
  outcome: Outcome;
  reason?: string;
  code?: string;
  changes?: RecordedChanges;
  /**
   * The user's status before and after this row, for every applied row that created a user or changed a
   * status (`old: null`: the user did not exist). Absent on rows recorded before undo existed.
   */
  status?: { old: UserStatus | null; new: UserStatus };
  /** The message this row queued. */
  notified?: MailKind;
  /** An undo's row: the still-pending message of the undone row that it cancelled. */
  cancelled?: MailKind;
  /**
   * For ignored and failed rows: the row's non-empty values as the admin wrote them (a failed row's as the
   * import read them), from which the fix file is made. Absent on rows recorded before fix files existed.
   */
  fields?: Partial<Record<ImportField, string>>;
}

/** Up to one batch of row results; chunking keeps documents small and memory flat for any file size. */
export interface RowResultChunk {
  _id: string;
  importId: string;
  seq: number;
  rows: RowResult[];
}
