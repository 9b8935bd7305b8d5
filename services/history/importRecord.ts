import type { ImportFileSummary } from '../import/importReader';
import type { FieldChanges } from '../import/rowDecision';
import type { ProblemCode, RequestedAction } from '../import/rowRules';
import type { MappingOverrides } from '../import/columns';
import type { MailKind } from '../users/userTypes';

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
  };
  outcomes: OutcomeCounts;
  problemCounts: Partial<Record<ProblemCode, number>>;
  invitations: number;
  activationNotices: number;
  /** `heartbeatAt` moves with every batch: a running import whose heartbeat stopped was interrupted. */
  progress: { rowsDone: number; batchesDone: number; heartbeatAt: Date };
  error?: { code: string; message: string };
}

/** The result of one row, as the per-row report shows it. */
export interface RowResult {
  row: number;
  email: string;
  action: RequestedAction | null;
  outcome: Outcome;
  reason?: string;
  code?: string;
  changes?: FieldChanges;
  /** The message this row queued. */
  notified?: MailKind;
}

/** Up to one batch of row results; chunking keeps documents small and memory flat for any file size. */
export interface RowResultChunk {
  _id: string;
  importId: string;
  seq: number;
  rows: RowResult[];
}
