import type { ImportPage, ProblemPage, UserHistory } from '../../services/history/historyQueries';
import type { ImportRecord, OutcomeCounts, RowResult } from '../../services/history/importRecord';
import { FIELD_LABELS, type ImportField } from '../../services/import/columns';
import { actionLabel } from '../../services/import/rowRules';
import type { InvitationStatus } from '../../services/notifications/invitationStatus';
import { describeDay, describeMoment } from '../answers/adminClock';
import type { MoreCursor } from '../answers/moreCursor';
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

/** How dates on a card are shown: relative to now, in the administrator's time zone. */
export interface CardClock {
  now: Date;
  utcOffsetMinutes: number;
}

/** "#12", or the id of an import recorded before imports were numbered. */
export function importLabel(record: Pick<ImportRecord, '_id' | 'number'>): string {
  return typeof record.number === 'number' ? `#${record.number}` : record._id;
}

/** "12 created, 3 updated, 2 ignored": the outcomes that happened, in a fixed order. */
export function outcomeSummary(o: OutcomeCounts): string {
  const parts: string[] = [];
  const add = (n: number, word: string) => {
    if (n > 0) parts.push(`${formatCount(n)} ${word}`);
  };
  add(o.created, 'created');
  add(o.updated, 'updated');
  add(o.activated, 'activated');
  add(o.deleted, 'deleted');
  add(o.unchanged, 'unchanged');
  add(o.ignored, 'ignored');
  add(o.failed, 'failed');
  return parts.length > 0 ? parts.join(', ') : 'no rows';
}

const STATUS_NOTE: Record<ImportRecord['status'], string> = {
  planned: ' (planned)',
  running: ' (running)',
  completed: '',
  failed: ' (stopped)',
  cancelled: ' (cancelled)',
};

function column(items: CardElement[], width: string | number = 'auto'): CardElement {
  return { type: 'Column', width, items };
}

function row(columns: CardElement[], extra: CardElement = {}): CardElement {
  return { type: 'ColumnSet', columns, spacing: 'Small', ...extra };
}

function heading(value: string): CardElement {
  return text(value, { size: 'Medium', weight: 'Bolder' });
}

function moreAction(cursor: MoreCursor | undefined): CardElement[] {
  return cursor ? [submit('Show more', { action: 'showMore', cursor })] : [];
}

/** A page of imports as a table: number, date, file and admin, and what each did. */
export function importsListCard(
  page: ImportPage,
  title: string,
  clock: CardClock,
  more: MoreCursor | undefined,
): AdaptiveCard {
  const body: CardElement[] = [heading(title)];
  body.push(
    row(
      [
        column([text('**#**')], '40px'),
        column([text('**Date**')], '90px'),
        column([text('**File and admin**')], 'stretch'),
        column([text('**Result**')], 'stretch'),
      ],
      { separator: true },
    ),
  );
  for (const record of page.imports) {
    body.push(
      row(
        [
          column([text(importLabel(record))], '40px'),
          column([text(describeDay(record.createdAt, clock.now, clock.utcOffsetMinutes))], '90px'),
          column(
            [
              text(escapeMarkdown(record.file.name)),
              text(`by ${escapeMarkdown(record.by)}`, { isSubtle: true, spacing: 'None' }),
            ],
            'stretch',
          ),
          column([text(`${outcomeSummary(record.outcomes)}${STATUS_NOTE[record.status]}`)], 'stretch'),
        ],
        { selectAction: submit('Details', { action: 'showResults', importId: record._id }) },
      ),
    );
  }
  const shown = page.imports.length;
  body.push(
    text(
      `${plural(page.total, 'import')} in all: ${outcomeSummary(page.totals)}.` +
        (page.total > shown ? ' Select an import for its details.' : ''),
      { isSubtle: true, spacing: 'Medium' },
    ),
  );
  return adaptiveCard(body, moreAction(more));
}

/** One line per problem row: "Row 7 (jo@acme) New: email address is not valid". */
export function problemLine(r: RowResult): string {
  return (
    `Row ${r.row}${r.email ? ` (${escapeMarkdown(r.email)})` : ''}` +
    `${r.action ? `, ${actionLabel(r.action)}` : ''}: ${escapeMarkdown(r.reason ?? r.outcome)}`
  );
}

/** A page of an import's ignored and failed rows, with their row numbers and reasons. */
export function problemsCard(
  record: ImportRecord,
  page: ProblemPage,
  skip: number,
  reportUrl: string,
  more: MoreCursor | undefined,
): AdaptiveCard {
  const body: CardElement[] = [
    heading(`Rows not imported: ${importLabel(record)} ${escapeMarkdown(record.file.name)}`),
  ];
  if (page.total === 0) body.push(text('Every row was imported.'));
  else {
    body.push(
      text(
        `${plural(page.total, 'row')} not imported; showing ${formatCount(skip + 1)} to ` +
          `${formatCount(skip + page.rows.length)}.`,
        { isSubtle: true, spacing: 'None' },
      ),
    );
    body.push(
      row([column([text('**Row**')], '50px'), column([text('**Email and reason**')], 'stretch')], {
        separator: true,
      }),
    );
    for (const r of page.rows) {
      body.push(
        row([
          column([text(String(r.row))], '50px'),
          column(
            [
              text(r.email ? escapeMarkdown(r.email) : '(no email)'),
              text(
                `${r.action ? `${actionLabel(r.action)}: ` : ''}${escapeMarkdown(r.reason ?? r.outcome)}`,
                {
                  isSubtle: true,
                  spacing: 'None',
                },
              ),
            ],
            'stretch',
          ),
        ]),
      );
    }
  }
  return adaptiveCard(body, [
    ...moreAction(more),
    { type: 'Action.OpenUrl', title: 'Download report (CSV)', url: reportUrl },
  ]);
}

const USER_STATUS: Record<string, string> = {
  invited: 'Invited (has not signed in yet)',
  active: 'Active',
  deleted: 'Deleted',
};

const OUTCOME_WORD: Record<RowResult['outcome'], string> = {
  created: 'Created',
  updated: 'Updated',
  unchanged: 'Unchanged',
  deleted: 'Deleted',
  activated: 'Activated',
  ignored: 'Ignored',
  failed: 'Failed',
};

/** What an outcome changed, or why nothing was: "Title: Engineer → Lead", "email address is not valid". */
export function outcomeDetail(r: RowResult): string {
  if (r.reason) return r.reason;
  return Object.entries(r.changes ?? {})
    .map(([field, change]) => {
      const label = FIELD_LABELS[field as ImportField] ?? field;
      const from = change?.old ? change.old : '(empty)';
      const to = change?.new ? change.new : '(empty)';
      return `${label}: ${from} → ${to}`;
    })
    .join('; ');
}

/** One user's current state and every import that touched them, newest first. */
export function userHistoryCard(
  history: UserHistory,
  skip: number,
  clock: CardClock,
  more: MoreCursor | undefined,
): AdaptiveCard {
  const { user } = history;
  const body: CardElement[] = [heading(escapeMarkdown(history.email))];
  if (user) {
    const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
    const entries: Array<[string, string]> = [];
    if (name) entries.push(['Name', escapeMarkdown(name)]);
    entries.push(['Status now', USER_STATUS[user.status] ?? user.status]);
    if (user.invitation)
      entries.push([
        'Invitation',
        user.invitation.state === 'sent' && user.invitation.sentAt
          ? `sent ${describeMoment(user.invitation.sentAt, clock.now, clock.utcOffsetMinutes)}`
          : user.invitation.state === 'failed'
            ? 'could not be sent'
            : user.invitation.state === 'cancelled'
              ? 'cancelled (its import was undone)'
              : 'waiting to be sent',
      ]);
    body.push(facts(entries));
  } else {
    body.push(text('Not a user of this account now.', { isSubtle: true }));
  }
  if (history.entries.length > 0) {
    body.push(
      row(
        [
          column([text('**Import**')], '60px'),
          column([text('**Date and file**')], 'stretch'),
          column([text('**What happened**')], 'stretch'),
        ],
        { separator: true, spacing: 'Medium' },
      ),
    );
    for (const e of history.entries) {
      const detail = outcomeDetail(e.row);
      body.push(
        row(
          [
            column([text(`#${e.number}`)], '60px'),
            column(
              [
                text(describeMoment(e.createdAt, clock.now, clock.utcOffsetMinutes)),
                text(`${escapeMarkdown(e.fileName)}, row ${e.row.row}`, { isSubtle: true, spacing: 'None' }),
              ],
              'stretch',
            ),
            column(
              [
                text(OUTCOME_WORD[e.row.outcome]),
                ...(detail ? [text(escapeMarkdown(detail), { isSubtle: true, spacing: 'None' })] : []),
              ],
              'stretch',
            ),
          ],
          { selectAction: submit('Details', { action: 'showResults', importId: e.importId }) },
        ),
      );
    }
    if (history.total > skip + history.entries.length || skip > 0)
      body.push(
        text(
          `Showing ${formatCount(skip + 1)} to ${formatCount(skip + history.entries.length)} of ` +
            `${plural(history.total, 'import')} that mention this address.`,
          { isSubtle: true },
        ),
      );
  }
  return adaptiveCard(body, moreAction(more));
}

const STATE_WORD = { pending: 'Waiting', sent: 'Sent', failed: 'Failed' } as const;

/** Invitation counts by state and a page of the people invited. */
export function invitationsCard(
  status: InvitationStatus,
  title: string,
  skip: number,
  clock: CardClock,
  more: MoreCursor | undefined,
  /** The values of a "Resend failed invitations" button; no button when undefined. */
  resend: Record<string, unknown> | undefined,
): AdaptiveCard {
  const { counts } = status;
  const body: CardElement[] = [
    heading(title),
    facts([
      ['Sent', counts.sent],
      ['Accepted', counts.accepted],
      ['Waiting', counts.pending],
      ['Failed', counts.failed],
    ]),
  ];
  if (status.people.length > 0) {
    body.push(
      row([column([text('**Person**')], 'stretch'), column([text('**Invitation**')], 'stretch')], {
        separator: true,
        spacing: 'Medium',
      }),
    );
    for (const p of status.people) {
      const when =
        p.state === 'sent' && p.sentAt ? ` ${describeDay(p.sentAt, clock.now, clock.utcOffsetMinutes)}` : '';
      body.push(
        row([
          column(
            [
              text(escapeMarkdown(p.email)),
              ...(p.name ? [text(escapeMarkdown(p.name), { isSubtle: true, spacing: 'None' })] : []),
            ],
            'stretch',
          ),
          column(
            [
              text(`${STATE_WORD[p.state]}${when}`, {
                color: p.state === 'failed' ? 'Attention' : 'Default',
              }),
              ...(p.lastError && p.state !== 'sent'
                ? [text(escapeMarkdown(p.lastError), { isSubtle: true, spacing: 'None' })]
                : []),
            ],
            'stretch',
          ),
        ]),
      );
    }
    if (status.peopleTotal > skip + status.people.length || skip > 0)
      body.push(
        text(
          `Showing ${formatCount(skip + 1)} to ${formatCount(skip + status.people.length)} of ` +
            `${plural(status.peopleTotal, 'person', 'people')}.`,
          { isSubtle: true },
        ),
      );
  }
  const actions = moreAction(more);
  if (resend) actions.push(submit('Resend failed invitations', resend));
  return adaptiveCard(body, actions);
}

/** The per-row report of one import, as a download. */
export function reportCard(record: ImportRecord, url: string): AdaptiveCard {
  return adaptiveCard(
    [
      heading(`Report of ${importLabel(record)} ${escapeMarkdown(record.file.name)}`),
      text(
        `One line per row of the file (${plural(record.file.rows, 'row')}): what happened and why. ` +
          `${outcomeSummary(record.outcomes)}.`,
      ),
    ],
    [{ type: 'Action.OpenUrl', title: 'Download report (CSV)', url }],
  );
}

/** The rows an import did not take, as a file to correct and send back. */
export function fixFileCard(record: ImportRecord, rows: number, how: string, url: string): AdaptiveCard {
  return adaptiveCard(
    [
      heading(`Fix the rows not imported: ${importLabel(record)} ${escapeMarkdown(record.file.name)}`),
      text(`${plural(rows, 'row')}, with the values as they were written. ${how}`),
    ],
    [{ type: 'Action.OpenUrl', title: 'Download the rows to fix (CSV)', url }],
  );
}

/** A yes/no question with a confirming button (its submit `action`) and Cancel. */
export function confirmCard(question: string, confirmTitle: string, action: string): AdaptiveCard {
  return adaptiveCard(
    [text(question)],
    [submit(confirmTitle, { action }), submit('Cancel', { action: 'cancel' })],
  );
}
