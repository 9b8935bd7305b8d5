import { FIELD_LABELS, IMPORT_FIELDS, type ImportField } from '../../services/import/columns';
import type { ImportOptions } from '../../services/import/importOptions';
import { describeEmailFlag } from '../../services/import/emailDomainCheck';
import { describeEmailList, type ImportPlan } from '../../services/import/importPlan';
import { actionLabel, REQUESTED_ACTIONS, type ProblemCode } from '../../services/import/rowRules';
import { CARD_NO_COLUMN } from '../reviewReply';
import {
  adaptiveCard,
  escapeMarkdown,
  facts,
  formatCount,
  plural,
  submit,
  text,
  type AdaptiveCard,
  type CardElement,
} from './adaptiveCard';

export const PROBLEM_TITLES: Record<ProblemCode, string> = {
  'invalid-email': 'Invalid email',
  'missing-field': 'Missing value',
  'unknown-status': 'Unknown User Status',
  'duplicate-email': 'Email repeated later in the file (the later row is used)',
  'not-found': 'No such user in the account',
  'flagged-email': 'Flagged email, skipped as you chose',
};

/** Rows listed per kind of problem on the card; the report has all of them. */
const ROWS_PER_PROBLEM = 3;
const DELETIONS_SHOWN = 10;
/** Flagged emails listed on the card; the CLI's --json and --dry-run list more. */
const FLAGGED_SHOWN = 10;

/** The typed equivalents of the flagged-emails choice. */
export const FLAGGED_HINT = 'Type "import them anyway" or "skip flagged".';

/** The typed equivalents of the re-flow choice. */
export const REFLOW_HINT =
  'If these rows are right, type "yes, reflow" to import them (or "split into rows").';

export const TYPED_HINT =
  'You can also type: "yes" to import, "cancel", "map Business Phone to Work Phone", "use New as default", ' +
  '"create them as New", or "help".';

/** An email list has no columns or statuses to change. */
export const EMAIL_LIST_HINT = 'You can also type: "yes" to invite them, "cancel", or "help".';

/** What the card needs besides the plan. */
export interface PlanView {
  planId: string;
  options: ImportOptions;
  /** Every header of the file. */
  headers: string[];
  /** What changed since the last plan, shown first. */
  note?: string;
}

/** The headers of the file as the plan knows them: mapped ones and ignored ones. */
export function planHeaders(plan: ImportPlan): string[] {
  return [...Object.values(plan.columns), ...plan.ignoredColumns];
}

/** One-line summary used as the message text beside the card (notifications, screen readers). */
export function planSummary(plan: ImportPlan): string {
  const e = plan.effects;
  const ignored = Object.values(plan.problemCounts).reduce<number>((t, n) => t + (n ?? 0), 0);
  if (plan.emailList) {
    return (
      `${plan.file.name}: an email list of ${plural(plan.file.rows, 'entry', 'entries')}: ` +
      `${describeEmailList(plan.emailList)}. Importing it creates ${formatCount(e.create)}, invited to ` +
      'complete their profile.'
    );
  }
  const shape = plan.reflow
    ? ` run together on one line, re-flowed${plan.needs.includes('confirm-reflow') ? ' (to confirm)' : ''}`
    : '';
  const sheet = plan.file.sheet !== undefined ? `, sheet "${plan.file.sheet}"` : '';
  return (
    `${plan.file.name}${sheet}: ${plural(plan.file.rows, 'row')}${shape}. Importing it creates ${formatCount(e.create)}, ` +
    `updates ${formatCount(e.update)}, activates ${formatCount(e.activate)} and deletes ${formatCount(e.delete)} ` +
    `users; ${plural(ignored, 'row')} would be ignored.`
  );
}

function problemLines(plan: ImportPlan): CardElement[] {
  const kinds = Object.entries(plan.problemCounts) as Array<[ProblemCode, number]>;
  if (kinds.length === 0) return [];
  const lines: CardElement[] = [text('**Rows that will be ignored**', { spacing: 'Medium' })];
  for (const [code, count] of kinds) {
    const sample = plan.problems.filter((p) => p.code === code).slice(0, ROWS_PER_PROBLEM);
    if (plan.emailList) {
      // An email list's entries are found by their place in the file (an address alone on its line has its
      // line as row number), and the entry is all there is.
      const entries = sample.map((p) => `${p.where ?? `line ${p.row}`} ("${escapeMarkdown(p.email)}")`);
      const more = count > sample.length ? `, and ${formatCount(count - sample.length)} more` : '';
      lines.push(
        text(
          `- **${PROBLEM_TITLES[code]}**: ${plural(count, 'entry', 'entries')}: ${entries.join(', ')}${more}.`,
        ),
      );
      continue;
    }
    const rows = sample
      .map((p) => `row ${p.row}${p.email ? ` (${escapeMarkdown(p.email)})` : ''}`)
      .join(', ');
    const more = count > sample.length ? `, and ${formatCount(count - sample.length)} more` : '';
    const reason = sample[0]?.message ? ` ${escapeMarkdown(sample[0].message)}` : '';
    lines.push(text(`- **${PROBLEM_TITLES[code]}**: ${plural(count, 'row')}: ${rows}${more}.${reason}`));
  }
  return lines;
}

/** An email list's counts: what its addresses come to. */
function emailListLines(plan: ImportPlan): CardElement[] {
  const list = plan.emailList;
  if (!list) return [];
  const skipped = list.addresses - list.toInvite - list.alreadyUsers;
  return [
    text(
      `**An email list**: ${escapeMarkdown(describeEmailList(list))}. Each new address is invited and asked to ` +
        'complete their profile; people who are already users are left as they are.',
    ),
    facts([
      ['To invite', list.toInvite],
      ['Already users', list.alreadyUsers],
      ['Invalid', list.invalid],
      ...(list.duplicates > 0 ? [['Listed twice', list.duplicates] as [string, number]] : []),
      ...(skipped > 0 ? [['Flagged, skipped', skipped] as [string, number]] : []),
    ]),
  ];
}

/** A run-together file: how its values were split into rows, and the first rows, to confirm. */
function reflowLines(plan: ImportPlan): CardElement[] {
  const r = plan.reflow;
  if (!r) return [];
  const undecided = plan.needs.includes('confirm-reflow');
  const where = r.headerOnOwnLine
    ? 'all its rows on the line after the header'
    : 'its header and all its rows on one line';
  const lines: CardElement[] = [
    text('**Rows run together on one line**', {
      spacing: 'Medium',
      color: undecided ? 'Warning' : 'Default',
    }),
    text(
      `This file has ${where}. Split after every ${formatCount(r.columns)} values, the ` +
        `${formatCount(r.values)} values make ${plural(r.rows, 'row')}. ` +
        (undecided ? `Check the first ones. ${REFLOW_HINT}` : 'You confirmed the split.'),
    ),
    text(`Columns: ${r.headers.map(escapeMarkdown).join(' · ')}`, { isSubtle: true }),
  ];
  r.sample.forEach((values, i) =>
    lines.push(
      text(`- Row ${i + 2}: ${values.map((v) => (v === '' ? '–' : escapeMarkdown(v))).join(' · ')}`),
    ),
  );
  return lines;
}

/** The rows whose emails look mistyped or lie outside the allowed domains, with what they probably meant. */
function flaggedLines(plan: ImportPlan, options: ImportOptions): CardElement[] {
  const { count, rows } = plan.flagged;
  if (count === 0) return [];
  const what = count === 1 ? 'This address needs' : `These ${formatCount(count)} addresses need`;
  const lines: CardElement[] = [
    text('**Email addresses to check**', { spacing: 'Medium', color: 'Warning' }),
    text(
      `${what} a second look: ${count === 1 ? 'it would create a user but looks' : 'they would create users but look'} ` +
        "mistyped or outside the account's allowed domains." +
        (options.flaggedEmails
          ? ''
          : ` Choose below whether to import ${count === 1 ? 'it' : 'them'}. ${FLAGGED_HINT}`),
    ),
  ];
  for (const f of rows.slice(0, FLAGGED_SHOWN))
    lines.push(
      text(
        `- ${f.where ?? `row ${f.row}`}: ${escapeMarkdown(f.email)}: ${escapeMarkdown(describeEmailFlag(f.email, f))}`,
      ),
    );
  if (count > FLAGGED_SHOWN) lines.push(text(`- and ${formatCount(count - FLAGGED_SHOWN)} more`));
  return lines;
}

/** A workbook's other worksheets, and how to read one of them instead. */
function otherSheetLines(plan: ImportPlan): CardElement[] {
  const { sheet, sheets = [] } = plan.file;
  const others = sheets.filter((name) => name !== sheet);
  const [first] = others;
  if (sheet === undefined || first === undefined) return [];
  return [
    text(
      `Other sheets: ${others.map((name) => `"${escapeMarkdown(name)}"`).join(', ')}. To read another, choose ` +
        `it below or type "use sheet ${escapeMarkdown(first)}".`,
      { isSubtle: true, spacing: 'None' },
    ),
  ];
}

function decisionInputs(plan: ImportPlan, options: ImportOptions): CardElement[] {
  const inputs: CardElement[] = [];
  const { sheet, sheets = [] } = plan.file;
  if (sheet !== undefined && sheets.length > 1) {
    inputs.push({
      type: 'Input.ChoiceSet',
      id: 'sheet',
      label: 'Sheet to read',
      style: 'compact',
      value: sheet,
      choices: sheets.map((name) => ({ title: name, value: name })),
    });
  }
  if (plan.flagged.count > 0 || options.flaggedEmails !== undefined) {
    inputs.push({
      type: 'Input.ChoiceSet',
      id: 'flaggedEmails',
      label: 'Flagged email addresses',
      style: 'compact',
      placeholder: 'Choose…',
      value: options.flaggedEmails ?? '',
      choices: [
        { title: 'Import them', value: 'import' },
        { title: 'Skip them', value: 'skip' },
      ],
    });
  }
  if (plan.needs.includes('default-status') || options.defaultAction) {
    inputs.push({
      type: 'Input.ChoiceSet',
      id: 'defaultStatus',
      label: 'Rows without a User Status',
      style: 'compact',
      value: options.defaultAction ?? '',
      choices: [
        { title: 'Leave them out', value: '' },
        ...REQUESTED_ACTIONS.map((a) => ({ title: `Treat as ${actionLabel(a)}`, value: a })),
      ],
    });
  }
  if (plan.needs.includes('create-missing-on-update') || options.createMissingOnUpdate !== undefined) {
    inputs.push({
      type: 'Input.ChoiceSet',
      id: 'createMissing',
      label: 'Update rows for people the account does not have',
      style: 'compact',
      value: options.createMissingOnUpdate ? 'true' : 'false',
      choices: [
        { title: 'Skip them', value: 'false' },
        { title: 'Create them as New', value: 'true' },
      ],
    });
  }
  return inputs;
}

function mappingInputs(plan: ImportPlan, headers: string[]): CardElement[] {
  const choices = [
    ...headers.map((h) => ({ title: h, value: h })),
    { title: '(not imported)', value: CARD_NO_COLUMN },
  ];
  return IMPORT_FIELDS.map((field: ImportField) => ({
    type: 'Input.ChoiceSet',
    id: `map.${field}`,
    label: FIELD_LABELS[field],
    style: 'compact',
    value: plan.columns[field] ?? CARD_NO_COLUMN,
    choices,
  }));
}

/**
 * The plan as one Adaptive Card: the file, what will happen, what will be ignored and why, the decisions
 * the file needs, and the column mapping, each changeable. Every button has a typed equivalent.
 */
export function planCard(plan: ImportPlan, view: PlanView): AdaptiveCard {
  const f = plan.file;
  const e = plan.effects;
  const ignored = Object.values(plan.problemCounts).reduce<number>((t, n) => t + (n ?? 0), 0);
  const body: CardElement[] = [];
  if (view.note) body.push(text(escapeMarkdown(view.note), { color: 'Accent' }));
  const layoutNote = plan.emailList
    ? `${plural(f.rows, 'entry', 'entries')} · ${f.encoding.toUpperCase()} · email list`
    : f.sheet !== undefined
      ? `${plural(f.rows, 'row')} · Excel workbook · sheet "${escapeMarkdown(f.sheet)}"`
      : `${plural(f.rows, 'row')} · ${f.encoding.toUpperCase()} · ${f.delimiterName}-separated` +
        (plan.reflow ? ' · run together on one line' : '');
  body.push(
    text(`Import plan: ${escapeMarkdown(f.name)}`, { size: 'Medium', weight: 'Bolder' }),
    text(layoutNote, { isSubtle: true, spacing: 'None' }),
    ...otherSheetLines(plan),
  );
  if (plan.alreadyImported) {
    const earlier = plan.alreadyImported;
    body.push(
      text(
        `This exact file was already imported on ${new Date(earlier.createdAt).toISOString().slice(0, 10)} ` +
          `by ${escapeMarkdown(earlier.by)} (import ${earlier.importId}). Importing it again only changes what ` +
          'differs now.',
        { color: 'Warning' },
      ),
    );
  }
  body.push(...emailListLines(plan), ...reflowLines(plan));
  if (!plan.emailList)
    body.push(
      facts([
        ['Create', e.create],
        ['Update', e.update],
        ['Activate', e.activate],
        ['Delete', e.delete],
        ['Already up to date', e.unchanged],
        ['Ignored rows', ignored],
      ]),
    );
  body.push(
    text(
      `Sends ${plural(plan.invitations, 'invitation')} and ${plural(plan.activationNotices, 'activation notice')}.`,
    ),
  );
  if (plan.deletions.count > 0) {
    body.push(
      text(
        `**Deletes ${plural(plan.deletions.count, 'user')}** of the account's ${formatCount(plan.deletions.liveUsers)}: ${namedDeletions(plan.deletions)}.`,
        { color: 'Attention' },
      ),
    );
  }
  body.push(...flaggedLines(plan, view.options));
  body.push(...problemLines(plan));
  const decisions = decisionInputs(plan, view.options);
  if (decisions.length > 0) body.push(text('**Your decisions**', { spacing: 'Medium' }), ...decisions);
  // An email list has one column, the addresses: there is no mapping to show or change.
  if (!plan.emailList)
    body.push(
      text('**Columns**', { spacing: 'Medium' }),
      facts(IMPORT_FIELDS.map((field) => [FIELD_LABELS[field], plan.columns[field] ?? '(not imported)'])),
    );
  if (plan.ignoredColumns.length > 0)
    body.push(
      text(`Not imported: ${plan.ignoredColumns.map((c) => `"${escapeMarkdown(c)}"`).join(', ')}`, {
        isSubtle: true,
      }),
    );
  body.push(
    text(plan.emailList ? EMAIL_LIST_HINT : TYPED_HINT, { isSubtle: true, size: 'Small', spacing: 'Medium' }),
  );

  const importable = e.create + e.update + e.activate + e.delete;
  // Confirming a run-together file's plan also confirms the re-flow it shows.
  const reflow = plan.needs.includes('confirm-reflow');
  const actions: CardElement[] = [
    submit(
      reflow
        ? 'Re-flow and import'
        : importable === 0
          ? 'Record it anyway'
          : plan.alreadyImported
            ? 'Import again'
            : 'Import',
      { action: 'confirm', planId: view.planId, ...(reflow ? { reflow: 'true' } : {}) },
      { style: 'positive' },
    ),
  ];
  if (decisions.length > 0) actions.push(submit('Update plan', { action: 'apply', planId: view.planId }));
  if (!plan.emailList)
    actions.push({
      type: 'Action.ShowCard',
      title: 'Change columns',
      card: adaptiveCard(
        [text('Choose the column that feeds each field.'), ...mappingInputs(plan, view.headers)],
        [submit('Apply columns', { action: 'apply', planId: view.planId })],
      ),
    });
  actions.push(submit('Cancel', { action: 'cancel', planId: view.planId }, { associatedInputs: 'none' }));
  return adaptiveCard(body, actions);
}

/** The first users a file deletes, by email, and how many more. */
function namedDeletions(d: ImportPlan['deletions']): string {
  const shown = d.sample.slice(0, DELETIONS_SHOWN).map(escapeMarkdown).join(', ');
  return d.count > DELETIONS_SHOWN ? `${shown}, and ${formatCount(d.count - DELETIONS_SHOWN)} more` : shown;
}

/** The separate confirmation a large deletion needs. */
export function deletionCard(d: ImportPlan['deletions'], planId: string): AdaptiveCard {
  const share = d.liveUsers > 0 ? Math.round((d.count / d.liveUsers) * 100) : 100;
  return adaptiveCard(
    [
      text(`Confirm the deletion of ${plural(d.count, 'user')}`, {
        size: 'Medium',
        weight: 'Bolder',
        color: 'Attention',
      }),
      text(
        `This file deletes ${plural(d.count, 'user')}, ${share}% of the ${formatCount(d.liveUsers)} users the account has: ${namedDeletions(d)}.`,
      ),
      text('Type **delete** to go ahead, or **cancel** to change nothing.', { isSubtle: true }),
    ],
    [
      submit(
        `Delete ${plural(d.count, 'user')}`,
        { action: 'confirmDeletions', planId },
        { style: 'destructive' },
      ),
      submit('Cancel', { action: 'cancel', planId }, { associatedInputs: 'none' }),
    ],
  );
}
