import { FIELD_LABELS, type ImportField } from '../services/import/columns';
import type { ImportPlan } from '../services/import/importPlan';
import type { ProblemCode } from '../services/import/rowRules';

const PROBLEM_TITLES: Record<ProblemCode, string> = {
  'invalid-email': 'Invalid email',
  'missing-field': 'Missing value',
  'unknown-status': 'Unknown User Status',
  'duplicate-email': 'Email repeated later in the file',
  'not-found': 'No such user in the account',
};

const NEED_TEXT: Record<ImportPlan['needs'][number], string> = {
  'default-status': 'Some rows have no User Status: choose a default (New, Update, Delete or Activate).',
  'create-missing-on-update':
    'Some Update rows name users the account does not have: skip them or create them as New.',
  'confirm-deletions': 'This file deletes many users: the deletions need a separate confirmation.',
  'confirm-reimport': 'This exact file was imported before.',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The plan as a chat message (Markdown, which Teams and Web Chat both render). */
export function planMessage(plan: ImportPlan): string {
  const f = plan.file;
  const e = plan.effects;
  const lines = [
    `**${f.name}**: ${plural(f.rows, 'row')}, ${f.encoding.toUpperCase()}, ${f.delimiterName}-separated.`,
    '',
    `Columns: ${Object.entries(plan.columns)
      .map(([field, header]) => `"${header}" → ${FIELD_LABELS[field as ImportField]}`)
      .join(', ')}.`,
  ];
  if (plan.ignoredColumns.length > 0)
    lines.push(`Ignored columns: ${plan.ignoredColumns.map((c) => `"${c}"`).join(', ')}.`);
  lines.push(
    '',
    `This import would create ${e.create}, update ${e.update}, activate ${e.activate} and delete ${e.delete} ` +
      `users (${e.unchanged} already up to date), and send ${plural(plan.invitations, 'invitation')} and ` +
      `${plural(plan.activationNotices, 'activation notice')}.`,
  );
  if (plan.deletions.count > 0)
    lines.push(
      `Deletes: ${plan.deletions.sample.join(', ')}${plan.deletions.count > plan.deletions.sample.length ? ', …' : ''}.`,
    );
  const kinds = Object.entries(plan.problemCounts) as Array<[ProblemCode, number]>;
  if (kinds.length > 0) {
    lines.push('', 'Rows it would ignore:');
    for (const [code, count] of kinds) {
      const rows = plan.problems
        .filter((p) => p.code === code)
        .slice(0, 3)
        .map((p) => p.row);
      lines.push(
        `- ${PROBLEM_TITLES[code]}: ${count} (rows ${rows.join(', ')}${count > rows.length ? ', …' : ''})`,
      );
    }
  }
  if (plan.needs.length > 0) {
    lines.push('', ...plan.needs.map((need) => `- ${NEED_TEXT[need]}`));
  }
  return lines.join('\n');
}
