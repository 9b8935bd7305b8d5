import { MessageFactory, type Activity } from 'botbuilder';
import type { Decision, IntentName } from '../../services/understanding/recognizer';

/**
 * What each intent is offered as in a clarifying question: a label that, clicked or typed back, is
 * understood as that intent with full confidence (checked by the tests against the recognizer).
 */
export const SUGGESTION_FOR: Record<Exclude<IntentName, 'none'>, { label: string; says: string }> = {
  'history.last': { label: 'see the last import results', says: 'Show last import results' },
  'history.list': { label: 'list imports', says: 'List all imports' },
  'import.details': { label: 'see the details of an import', says: 'Show import details' },
  'import.problems': { label: 'see the rows that were not imported', says: 'Show ignored rows' },
  'user.lookup': { label: 'look up what happened to a user', says: 'Look up a user' },
  'invitations.status': { label: 'see the invitation status', says: 'Invitation status' },
  'invitations.resend': { label: 'resend failed invitations', says: 'Resend failed invitations' },
  'report.download': { label: 'download an import report', says: 'Download the report' },
  'import.undo': { label: 'undo an import', says: 'Undo an import' },
  'import.retry': { label: 'fix the rows that failed', says: 'Fix the failed rows' },
  'import.start': { label: 'import a user file', says: 'Import a user file' },
  help: { label: 'see what I can do', says: 'Help' },
  cancel: { label: 'cancel', says: 'Cancel' },
};

/** A clarifying question with the likely intents as suggested actions, instead of a guess. */
export function clarifyingQuestion(decision: Extract<Decision, { action: 'clarify' }>): Partial<Activity> {
  const options = decision.candidates
    .map((c) => c.intent)
    .filter((intent): intent is Exclude<IntentName, 'none'> => intent !== 'none')
    .map((intent) => SUGGESTION_FOR[intent]);
  const labels = options.map((o) => o.label);
  const listed =
    labels.length > 1
      ? `${labels.slice(0, -1).join(', ')} or ${labels[labels.length - 1] ?? ''}`
      : labels.join('');
  const text =
    decision.reason === 'low-confidence'
      ? `I am not sure what you mean. Do you want to ${listed}?`
      : `I can only help with importing users and questions about past imports. You can ${listed}, ` +
        'or send me a user file.';
  return MessageFactory.suggestedActions(
    options.map((o) => o.says),
    text,
  );
}
