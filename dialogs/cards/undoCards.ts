import type { UndoConflict, UndoCounts, UndoPlan, UndoResult } from '../../services/import/importUndo';
import { FIELD_LABELS, type ImportField } from '../../services/import/columns';
import { adaptiveCard, escapeMarkdown, facts, plural, submit, text, type AdaptiveCard } from './adaptiveCard';

/** What an undo does, as card facts: only the kinds that happen. */
function countFacts(counts: UndoCounts, done: boolean): Array<[string, number]> {
  const rows: Array<[string, number]> = [
    [done ? 'Created users deleted again' : 'Created users to delete again', counts.deleteCreated],
    [done ? 'Users whose fields went back' : 'Users whose fields go back', counts.restoreFields],
    [done ? 'Deleted users restored' : 'Deleted users to restore', counts.restoreDeleted],
    [done ? 'Activations reverted' : 'Activations to revert', counts.revertActivations],
    [done ? 'Users active again' : 'Users to make active again', counts.reactivations],
    [done ? 'Waiting invitations cancelled' : 'Waiting invitations to cancel', counts.cancelInvitations],
    [
      done ? 'Waiting activation notices cancelled' : 'Waiting activation notices to cancel',
      counts.cancelActivationNotices,
    ],
    [done ? 'Messages queued again' : 'Messages to queue again', counts.requeueMessages],
  ];
  return rows.filter(([, n]) => n > 0);
}

/** "Row 7 jane@acme.com: Title is now “Lead” (the import set “Engineer”)". */
export function conflictLine(c: UndoConflict): string {
  const what = c.field === 'status' ? 'status' : (FIELD_LABELS[c.field as ImportField] ?? c.field);
  const now =
    c.current === null ? (c.field === 'status' ? 'no longer in the account' : 'empty') : `“${c.current}”`;
  const set = c.recorded === null ? 'left it empty' : `set “${c.recorded}”`;
  return `Row ${c.row} ${c.email}: ${what} is now ${now} (the import ${set})`;
}

/**
 * "deletes the 40 users it created, restores the fields of 3 users and cancels 12 waiting messages" (or, for
 * what was done, "deleted … restored … cancelled"): the sentence beside the card.
 */
export function undoSentence(counts: UndoCounts, done = false): string {
  const verb = (present: string, past: string) => (done ? past : present);
  const parts: string[] = [];
  if (counts.deleteCreated)
    parts.push(`${verb('deletes', 'deleted')} the ${plural(counts.deleteCreated, 'user')} it created`);
  if (counts.restoreFields)
    parts.push(`${verb('restores', 'restored')} the fields of ${plural(counts.restoreFields, 'user')}`);
  if (counts.restoreDeleted)
    parts.push(`${verb('restores', 'restored')} ${plural(counts.restoreDeleted, 'deleted user')}`);
  if (counts.revertActivations)
    parts.push(`${verb('reverts', 'reverted')} ${plural(counts.revertActivations, 'activation')}`);
  if (counts.reactivations)
    parts.push(`${verb('makes', 'made')} ${plural(counts.reactivations, 'user')} active again`);
  const cancelled = counts.cancelInvitations + counts.cancelActivationNotices;
  if (cancelled) parts.push(`${verb('cancels', 'cancelled')} ${plural(cancelled, 'waiting message')}`);
  if (counts.requeueMessages)
    parts.push(`${verb('queues', 'queued')} ${plural(counts.requeueMessages, 'message')} again`);
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1] ?? ''}`;
}

const CONFLICTS_SHOWN = 10;

function conflictBlocks(conflicts: readonly UndoConflict[], total: number) {
  if (total === 0) return [];
  const blocks = [
    text(`**Left alone: ${plural(total, 'change')} made since**`, { spacing: 'Medium' }),
    ...conflicts
      .slice(0, CONFLICTS_SHOWN)
      .map((c) => text(`- ${escapeMarkdown(conflictLine(c))}`, { spacing: 'None' })),
  ];
  if (total > CONFLICTS_SHOWN)
    blocks.push(text(`…and ${plural(total - CONFLICTS_SHOWN, 'more')}.`, { isSubtle: true }));
  return blocks;
}

/** What undoing an import would do, with Undo and Cancel. */
export function undoPlanCard(plan: UndoPlan, label: string): AdaptiveCard {
  return adaptiveCard(
    [
      text(`Undo ${escapeMarkdown(label)}?`, { size: 'Medium', weight: 'Bolder' }),
      ...(plan.import.undoOf
        ? [
            text(
              `This import is itself the undo of #${plan.import.undoOf.number}: undoing it applies that import again.`,
            ),
          ]
        : []),
      facts(countFacts(plan.counts, false)),
      ...conflictBlocks(plan.conflicts, plan.conflictsTotal),
      text('Users are deleted softly: undoing this undo brings them back.', { isSubtle: true }),
    ],
    [
      submit('Undo', { action: 'confirmUndo' }, { style: 'destructive' }),
      submit('Cancel', { action: 'cancel' }),
    ],
  );
}

/** What an applied undo did. */
export function undoResultCard(result: UndoResult, label: string): AdaptiveCard {
  return adaptiveCard([
    text(`Undone: ${escapeMarkdown(label)}`, { size: 'Medium', weight: 'Bolder' }),
    text(
      `Recorded as import #${result.record.number}. To take the undo back, say “undo import #${result.record.number}”.`,
      {
        isSubtle: true,
        spacing: 'None',
      },
    ),
    facts(countFacts(result.counts, true)),
    ...conflictBlocks(result.conflicts, result.conflictsTotal),
  ]);
}
