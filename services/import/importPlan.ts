import type { ImportRecord } from '../history/importRecord';
import type { ImportHistory } from '../history/importHistory';
import type { UserDirectory } from '../users/userDirectory';
import type { Profile } from '../users/userTypes';
import { IMPORT_FIELDS } from './columns';
import { DELIMITER_NAMES } from './delimiter';
import {
  DEFAULT_BATCH_SIZE,
  decideInBatches,
  summarizeFile,
  type ImportFileSummary,
  type PreparedImport,
} from './importReader';
import type { EmailFlag } from './emailDomainCheck';
import type { FileShape } from './fileShape';
import type { Effect } from './rowDecision';
import type { ProblemCode, RequestedAction, RowProblem } from './rowRules';

/** How many problems a plan lists row by row; the rest are counted. The commit's report has them all. */
export const PLAN_PROBLEM_LIMIT = 1000;
export const PLAN_PREVIEW_ROWS = 10;
const DELETION_SAMPLE = 25;
/** How many flagged emails a plan lists row by row; the rest are counted. */
export const PLAN_FLAGGED_ROWS = 100;

/** A row whose email is flagged: a likely typo, or outside the account's allowed domains. */
export interface FlaggedEmailRow {
  row: number;
  email: string;
  kind: EmailFlag['kind'];
  /** The domain the address probably meant. */
  suggestion?: string;
  /** The account's allowed domains, for `outside-allowed`. */
  allowed?: string[];
  /** Where the address is in an email list ("item 7 on line 3"). */
  where?: string;
}

/**
 * What an email list comes to. Every valid address is counted once: it is either to invite (a create), an
 * existing user left alone ("unchanged"), or a flagged address skipped as the admin chose. `invalid` and
 * `duplicates` are the entries ignored as `invalid-email` and `duplicate-email`.
 */
export interface EmailListSummary {
  /** The list's header as written ("Email"), or null when it has none. */
  header: string | null;
  /** Distinct valid addresses. */
  addresses: number;
  toInvite: number;
  alreadyUsers: number;
  invalid: number;
  /** Entries repeating an address listed again later. */
  duplicates: number;
}

/** A run-together file's re-flow, for the admin to confirm. */
export interface ReflowSummary {
  columns: number;
  /** Values after the header. */
  values: number;
  rows: number;
  /** True when the header has a line of its own and the rows are all on the next one. */
  headerOnOwnLine: boolean;
  /** The header, in file order. */
  headers: string[];
  /** The first re-flowed rows (three), values trimmed. */
  sample: string[][];
}

export interface PlanPreviewRow extends Profile {
  row: number;
  action: RequestedAction;
  effect: Effect;
  email: string;
}

/** What an import would do, computed without writing anything. */
export interface ImportPlan {
  accountId: string;
  /** `delimiterName` is null for a workbook, which has no delimiter. */
  file: Omit<ImportFileSummary, 'shape'> & { delimiterName: string | null; shape: FileShape };
  columns: Record<string, string>;
  ignoredColumns: string[];
  /** Rows that will be applied, by the User Status they ask for. */
  actions: Record<RequestedAction, number>;
  /** What those rows will do to the account as it is now. */
  effects: Record<Effect, number>;
  invitations: number;
  activationNotices: number;
  problems: RowProblem[];
  problemCounts: Partial<Record<ProblemCode, number>>;
  problemsTruncated: boolean;
  preview: PlanPreviewRow[];
  deletions: { count: number; liveUsers: number; sample: string[] };
  /**
   * Rows that would create users with doubtful emails, the first {@link PLAN_FLAGGED_ROWS} listed. They are
   * imported (and counted among the creates) unless the options say to skip them, when they are ignored
   * with `flagged-email`.
   */
  flagged: { count: number; rows: FlaggedEmailRow[] };
  /** For an email list (`file.shape` 'email-list'): what its addresses come to; otherwise null. */
  emailList: EmailListSummary | null;
  /** For rows run together on one line (`file.shape` 'run-together'): how they re-flow; otherwise null. */
  reflow: ReflowSummary | null;
  /** Decisions the file needs from the admin before it imports as they probably intend. */
  needs: Array<
    | 'default-status'
    | 'create-missing-on-update'
    | 'confirm-deletions'
    | 'confirm-reimport'
    | 'confirm-flagged-emails'
    /** The rows run together on one line; importing them re-flowed needs the `reflow` option. */
    | 'confirm-reflow'
  >;
  alreadyImported: null | { importId: string; fileName: string; createdAt: Date; by: string };
}

/** Counts and samples a plan from the same per-row decisions the commit applies. */
export async function planImport(
  directory: UserDirectory,
  history: ImportHistory,
  prepared: PreparedImport,
  batchSize = DEFAULT_BATCH_SIZE,
): Promise<ImportPlan> {
  const actions: Record<RequestedAction, number> = { new: 0, update: 0, delete: 0, activate: 0 };
  const effects: Record<Effect, number> = { create: 0, update: 0, delete: 0, activate: 0, unchanged: 0 };
  const problems: RowProblem[] = [];
  const problemCounts: Partial<Record<ProblemCode, number>> = {};
  const preview: PlanPreviewRow[] = [];
  const deletionSample: string[] = [];
  let invitations = 0;
  let activationNotices = 0;
  let missingStatus = 0;
  let updateNotFound = 0;
  const flagged: ImportPlan['flagged'] = { count: 0, rows: [] };
  const noteFlag = (row: number, email: string, flag: EmailFlag | undefined, where?: string) => {
    if (!flag) return;
    flagged.count++;
    if (flagged.rows.length < PLAN_FLAGGED_ROWS)
      flagged.rows.push({ row, email, ...flag, ...(where ? { where } : {}) });
  };

  for await (const batch of decideInBatches(directory, prepared, batchSize)) {
    for (const decision of batch) {
      if (decision.kind === 'ignore') {
        const { problem } = decision;
        noteFlag(problem.row, problem.email, decision.flag, problem.where);
        problemCounts[problem.code] = (problemCounts[problem.code] ?? 0) + 1;
        if (problems.length < PLAN_PROBLEM_LIMIT) problems.push(problem);
        if (problem.code === 'missing-field' && problem.field === 'status') missingStatus++;
        if (problem.code === 'not-found' && problem.action === 'update') updateNotFound++;
        continue;
      }
      noteFlag(decision.row, decision.email, decision.flag, decision.where);
      actions[decision.action]++;
      effects[decision.effect]++;
      if (decision.notify === 'invitation') invitations++;
      if (decision.notify === 'activation') activationNotices++;
      if (decision.effect === 'delete' && deletionSample.length < DELETION_SAMPLE)
        deletionSample.push(decision.email);
      if (preview.length < PLAN_PREVIEW_ROWS) {
        preview.push({
          row: decision.row,
          action: decision.action,
          effect: decision.effect,
          email: decision.email,
          ...decision.profile,
        });
      }
    }
  }

  const { layout, mapping, accountId } = prepared;
  const [liveUsers, earlier] = await Promise.all([
    directory.countLive(accountId),
    history.findCompletedBySha256(accountId, layout.sha256),
  ]);
  const needs: ImportPlan['needs'] = [];
  if (missingStatus > 0) needs.push('default-status');
  if (updateNotFound > 0) needs.push('create-missing-on-update');
  if (effects.delete > 25 || (liveUsers > 0 && effects.delete > liveUsers * 0.1))
    needs.push('confirm-deletions');
  if (earlier) needs.push('confirm-reimport');
  if (flagged.count > 0 && prepared.options.flaggedEmails === undefined) needs.push('confirm-flagged-emails');
  if (layout.shape === 'run-together' && !prepared.options.reflow) needs.push('confirm-reflow');

  return {
    accountId,
    file: {
      ...summarizeFile(prepared),
      delimiterName: layout.delimiter === null ? null : DELIMITER_NAMES[layout.delimiter],
      shape: layout.shape ?? 'table',
    },
    columns: columnHeaders(prepared),
    ignoredColumns: mapping.ignoredColumns,
    actions,
    effects,
    invitations,
    activationNotices,
    problems,
    problemCounts,
    problemsTruncated: problems.length < sum(problemCounts),
    preview,
    deletions: { count: effects.delete, liveUsers, sample: deletionSample },
    flagged,
    emailList:
      layout.shape === 'email-list'
        ? {
            header: layout.emailList?.header ?? null,
            addresses:
              prepared.dataRows -
              (problemCounts['invalid-email'] ?? 0) -
              (problemCounts['duplicate-email'] ?? 0),
            toInvite: effects.create,
            alreadyUsers: effects.unchanged,
            invalid: problemCounts['invalid-email'] ?? 0,
            duplicates: problemCounts['duplicate-email'] ?? 0,
          }
        : null,
    reflow: layout.runTogether
      ? {
          columns: layout.runTogether.columns,
          values: layout.runTogether.values,
          rows: layout.runTogether.rows,
          headerOnOwnLine: layout.runTogether.headerOnOwnLine,
          headers: layout.headers,
          sample: layout.runTogether.sample,
        }
      : null,
    needs,
    alreadyImported: earlier ? summarizeEarlier(earlier) : null,
  };
}

/** "42 addresses to invite, 3 invalid, 2 already users": an email list's plan in a line. */
export function describeEmailList(list: EmailListSummary): string {
  const parts = [
    `${list.toInvite} ${list.toInvite === 1 ? 'address' : 'addresses'} to invite`,
    `${list.invalid} invalid`,
    `${list.alreadyUsers} already ${list.alreadyUsers === 1 ? 'a user' : 'users'}`,
  ];
  if (list.duplicates > 0)
    parts.push(`${list.duplicates} ${list.duplicates === 1 ? 'duplicate' : 'duplicates'}`);
  const skipped = list.addresses - list.toInvite - list.alreadyUsers;
  if (skipped > 0) parts.push(`${skipped} flagged and skipped`);
  return parts.join(', ');
}

/** Field → header text, in field order. */
export function columnHeaders(prepared: Pick<PreparedImport, 'mapping'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const field of IMPORT_FIELDS) {
    const column = prepared.mapping.columns[field];
    if (column) out[field] = column.header;
  }
  return out;
}

function summarizeEarlier(record: ImportRecord): NonNullable<ImportPlan['alreadyImported']> {
  return { importId: record._id, fileName: record.file.name, createdAt: record.createdAt, by: record.by };
}

function sum(counts: Partial<Record<string, number>>): number {
  return Object.values(counts).reduce<number>((total, n) => total + (n ?? 0), 0);
}
