import type { ImportResultView } from '../../services/history/importResults';
import type { MailCounts } from '../../services/notifications/mailSummary';
import { actionLabel } from '../../services/import/rowRules';
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
import { importLabel } from './historyCards';

const STATUS_TITLE = {
  planned: 'Import planned',
  running: 'Import running',
  completed: 'Import finished',
  failed: 'Import stopped',
  cancelled: 'Import cancelled',
} as const;

function mailLine(label: string, counts: MailCounts): string {
  const total = counts.pending + counts.sent + counts.failed;
  return `${plural(total, label)}: ${formatCount(counts.sent)} sent, ${formatCount(counts.pending)} waiting, ${formatCount(counts.failed)} failed`;
}

/** One line per result a short message can carry: used as the text beside the card. */
export function resultSummary(view: ImportResultView): string {
  const { record } = view;
  const o = record.outcomes;
  const head = `${STATUS_TITLE[record.status]}: ${record.file.name} (import ${importLabel(record)}).`;
  const counts =
    `Created ${formatCount(o.created)}, updated ${formatCount(o.updated)}, activated ${formatCount(o.activated)}, ` +
    `deleted ${formatCount(o.deleted)}, unchanged ${formatCount(o.unchanged)}, ignored ${formatCount(o.ignored)}` +
    `${o.failed > 0 ? `, failed ${formatCount(o.failed)}` : ''}.`;
  const error = record.error ? ` ${record.error.message}` : '';
  return `${head} ${counts}${error}`;
}

/** The import's result: counts per outcome, messages queued and sent, the first problems and the report. */
export function resultCard(view: ImportResultView): AdaptiveCard {
  const { record, mail } = view;
  const o = record.outcomes;
  const body: CardElement[] = [
    text(`${STATUS_TITLE[record.status]}: ${escapeMarkdown(record.file.name)}`, {
      size: 'Medium',
      weight: 'Bolder',
      color: record.status === 'failed' ? 'Attention' : 'Default',
    }),
    text(
      `Import ${importLabel(record)} by ${escapeMarkdown(record.by)} · ${plural(record.file.rows, 'row')}`,
      {
        isSubtle: true,
        spacing: 'None',
      },
    ),
  ];
  if (record.error) body.push(text(escapeMarkdown(record.error.message), { color: 'Attention' }));
  body.push(
    facts([
      ['Created', o.created],
      ['Updated', o.updated],
      ['Activated', o.activated],
      ['Deleted', o.deleted],
      ['Unchanged', o.unchanged],
      ['Ignored', o.ignored],
      ...(o.failed > 0 ? ([['Failed', o.failed]] as Array<[string, number]>) : []),
    ]),
    text(mailLine('invitation', mail.invitations)),
    text(mailLine('activation notice', mail.activationNotices), { spacing: 'None' }),
  );
  if (view.problemRows.length > 0) {
    body.push(text('**Rows not imported**', { spacing: 'Medium' }), ...problemLines(view));
  }
  const actions: CardElement[] = [
    { type: 'Action.OpenUrl', title: 'Download report (CSV)', url: view.reportUrl },
  ];
  if (view.problemTotal > view.problemRows.length)
    actions.push(submit('Show ignored rows', { action: 'showIgnored', importId: record._id }));
  return adaptiveCard(body, actions);
}

function problemLines(view: ImportResultView): CardElement[] {
  const lines = view.problemRows.map((r) =>
    text(
      `- Row ${r.row}${r.email ? ` (${escapeMarkdown(r.email)})` : ''}${r.action ? `, ${actionLabel(r.action)}` : ''}: ${escapeMarkdown(r.reason ?? r.outcome)}`,
      { spacing: 'None' },
    ),
  );
  const more = view.problemTotal - view.problemRows.length;
  if (more > 0)
    lines.push(text(`…and ${plural(more, 'more row')}: the report lists them all.`, { isSubtle: true }));
  return lines;
}
