import type {
  UndoConflict,
  UndoCounts,
  UndoPlan,
  UndoResult,
  UndoTarget,
} from '../services/import/importUndo';
import { importJson, importText } from './cliOutput';

/** How many conflicts the text output lists before pointing at --json. */
const CONFLICTS_SHOWN = 20;

/** The plan of an undo as `undo --json` prints it without --yes. */
export function undoPlanJson(plan: UndoPlan) {
  return {
    applied: false,
    import: plan.import,
    windowDays: plan.windowDays,
    undoableUntil: plan.undoableUntil,
    rows: plan.rows,
    counts: plan.counts,
    conflicts: plan.conflicts,
    conflictsTotal: plan.conflictsTotal,
  };
}

/** What `undo --yes --json` prints: the undo's own import record, what it did and what it left alone. */
export function undoResultJson(result: UndoResult) {
  return {
    applied: true,
    import: result.undone,
    undo: {
      ...importJson(result.record),
      number: result.record.number,
      undoOf: result.record.undoOf ?? null,
    },
    rows: result.rows,
    counts: result.counts,
    conflicts: result.conflicts,
    conflictsTotal: result.conflictsTotal,
  };
}

function describeTarget(target: UndoTarget): string {
  const what = target.undoOf
    ? `undo #${target.number} (of #${target.undoOf.number})`
    : `import #${target.number}`;
  return `${what} ${target.fileName} by ${target.by} on ${target.createdAt.toISOString()} [${target.importId}]`;
}

/** The counts that are not zero, as a list of lines. */
function countLines(counts: UndoCounts, applied: boolean): string[] {
  const will = (future: string, past: string) => (applied ? past : future);
  const lines: Array<[number, string]> = [
    [counts.deleteCreated, will('delete the users it created', 'deleted the users it created')],
    [counts.restoreFields, will('restore the fields it changed of', 'restored the fields it changed of')],
    [counts.restoreDeleted, will('restore the users it deleted', 'restored the users it deleted')],
    [counts.revertActivations, will('revert the activations of', 'reverted the activations of')],
    [counts.reactivations, will('activate again', 'activated again')],
    [counts.cancelInvitations, will('cancel waiting invitations:', 'cancelled waiting invitations:')],
    [
      counts.cancelActivationNotices,
      will('cancel waiting activation notices:', 'cancelled waiting activation notices:'),
    ],
    [counts.requeueMessages, will('queue cancelled messages again:', 'queued cancelled messages again:')],
  ];
  return lines.filter(([n]) => n > 0).map(([n, text]) => `  ${text} ${n}`);
}

function conflictLines(conflicts: UndoConflict[], total: number): string[] {
  if (total === 0) return [];
  const value = (v: string | null) => (v === null ? '(empty)' : `"${v}"`);
  const lines = [`Left alone, changed since (${total}):`];
  for (const c of conflicts.slice(0, CONFLICTS_SHOWN)) {
    lines.push(
      c.field === 'status' && c.current === null
        ? `  row ${c.row}: ${c.email} is no longer in the account`
        : `  row ${c.row}: ${c.email} ${c.field} is now ${value(c.current)} (the import left ${value(c.recorded)})`,
    );
  }
  if (total > CONFLICTS_SHOWN)
    lines.push(`  … and ${total - CONFLICTS_SHOWN} more (use --json for the list)`);
  return lines;
}

/** The plan of an undo as text, ending with how to apply it. */
export function undoPlanText(plan: UndoPlan, command: string): string {
  const lines = [`Undo of ${describeTarget(plan.import)}`];
  if (plan.rows === 0) {
    lines.push('Nothing to undo: it changed no users, or everything it changed has changed again since.');
  } else {
    lines.push(
      `Will change ${plan.rows} user${plan.rows === 1 ? '' : 's'}:`,
      ...countLines(plan.counts, false),
    );
  }
  lines.push(...conflictLines(plan.conflicts, plan.conflictsTotal));
  lines.push(
    `Can be undone until ${plan.undoableUntil.toISOString()} (UNDO_WINDOW_DAYS=${plan.windowDays}).`,
  );
  if (plan.rows > 0) lines.push(`Nothing was changed. To undo it: ${command} --yes`);
  return lines.join('\n');
}

/** An applied undo as text. */
export function undoResultText(result: UndoResult): string {
  return [
    `Undid ${describeTarget(result.undone)} as #${result.record.number}:`,
    ...countLines(result.counts, true),
    ...conflictLines(result.conflicts, result.conflictsTotal),
    importText(result.record),
  ].join('\n');
}
