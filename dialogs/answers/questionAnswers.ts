import { CardFactory, MessageFactory, type Activity, type Attachment } from 'botbuilder';
import type {
  ImportFilter,
  ImportPage,
  ImportReference,
  ImportResolution,
  ProblemPage,
  UserHistory,
} from '../../services/history/historyQueries';
import type { ImportRecord } from '../../services/history/importRecord';
import type { ImportResultView } from '../../services/history/importResults';
import type { InvitationScope, InvitationStatus } from '../../services/notifications/invitationStatus';
import type { UndoPlan, UndoResult } from '../../services/import/importUndo';
import type { ResendOptions, ResendPlan, ResendResult } from '../../services/notifications/invitationResend';
import { formatCount, plural } from '../cards/adaptiveCard';
import {
  importLabel,
  fixFileCard,
  importsListCard,
  invitationsCard,
  problemsCard,
  reportCard,
  userHistoryCard,
} from '../cards/historyCards';
import { resultCard, resultSummary } from '../cards/resultCard';
import { describeDay, describePeriod } from './adminClock';
import type { MoreCursor } from './moreCursor';

/** Page sizes: what reads comfortably in one chat message. */
export const IMPORTS_PAGE = 10;
export const PROBLEMS_PAGE = 15;
export const INVITATIONS_PAGE = 15;
export const USER_HISTORY_PAGE = 10;

/** What the answers read, all of it scoped to one account by the caller. */
export interface QuestionServices {
  listImports(accountId: string, filter: ImportFilter, skip: number, limit: number): Promise<ImportPage>;
  resolveImport(accountId: string, ref: ImportReference): Promise<ImportResolution>;
  /** The import if it belongs to the account, else null. */
  findImport(accountId: string, importId: string): Promise<ImportRecord | null>;
  problemRows(record: ImportRecord, skip: number, limit: number): Promise<ProblemPage>;
  userHistory(accountId: string, email: string, skip: number, limit: number): Promise<UserHistory>;
  importView(record: ImportRecord): Promise<ImportResultView>;
  /** The per-row report's signed link. */
  reportUrl(record: ImportRecord): string;
  /** The fix file's signed link (the rows not imported, to correct and send back); null when none failed. */
  fixFileUrl(record: ImportRecord): string | null;
  invitationStatus(
    accountId: string,
    scope: InvitationScope,
    page: { skip: number; limit: number },
  ): Promise<InvitationStatus>;
  planResend(accountId: string, scope: InvitationScope, options: ResendOptions): Promise<ResendPlan>;
  resendInvitations(accountId: string, scope: InvitationScope, options: ResendOptions): Promise<ResendResult>;
  /** What undoing the import would do; throws an AppError saying why when it cannot be undone. */
  planUndo(accountId: string, importId: string): Promise<UndoPlan>;
  /** Undoes the import now; the undo is recorded as an import of its own. */
  applyUndo(accountId: string, importId: string, by: string): Promise<UndoResult>;
  /** In Teams, the report offered as a file in the admin's OneDrive (a FileConsentCard). */
  reportFileOffer?(record: ImportRecord): Attachment;
}

/** Who asks, and how their dates read. */
export interface AskContext {
  accountId: string;
  channelId: string;
  now: Date;
  utcOffsetMinutes: number;
}

/** A reply, and where its next page starts when there is one. */
export interface Answer {
  activity: Partial<Activity>;
  more?: MoreCursor;
}

/** How invitations are scoped in an answer: by one import, a period, or the whole account. */
export interface InvitationSubject {
  record?: ImportRecord;
  from?: Date;
  to?: Date;
}

function cardReply(card: object, summary: string): Partial<Activity> {
  return MessageFactory.attachment(CardFactory.adaptiveCard(card), summary);
}

const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);
const date = (s: string | undefined) => (s ? new Date(s) : undefined);

/** "#12 users.csv today". */
export function importMention(record: ImportRecord, ctx: AskContext): string {
  return `${importLabel(record)} ${record.file.name} ${describeDay(record.createdAt, ctx.now, ctx.utcOffsetMinutes)}`;
}

/**
 * Builds every answer about past imports from the recorded history: counts come from the stored results,
 * never from the files.
 */
export class QuestionAnswers {
  constructor(private readonly services: QuestionServices) {}

  /** A page of the account's imports, filtered. */
  async importsList(ctx: AskContext, filter: ImportFilter, skip = 0): Promise<Answer> {
    const page = await this.services.listImports(ctx.accountId, filter, skip, IMPORTS_PAGE);
    const scope = describeFilter(filter, ctx);
    if (page.total === 0) {
      return {
        activity: MessageFactory.text(
          scope
            ? `I found no imports ${scope}. Try a wider period, or ask "list imports" for all of them.`
            : 'This account has no imports yet. Send me a user file (CSV, TXT or Excel) to start one.',
        ),
      };
    }
    if (page.imports.length === 0) {
      return {
        activity: MessageFactory.text('That was the last of them: there are no more imports to show.'),
      };
    }
    const next = skip + page.imports.length;
    const more: MoreCursor | undefined =
      next < page.total
        ? {
            kind: 'imports',
            skip: next,
            from: iso(filter.from),
            to: iso(filter.to),
            by: filter.by,
            fileName: filter.fileName,
          }
        : undefined;
    const first = skip + 1;
    const shown =
      page.total > page.imports.length || skip > 0
        ? ` Showing ${formatCount(first)} to ${formatCount(next)}${more ? '; say "show more" for the next ones' : ''}.`
        : '';
    const newest = page.imports[0];
    const summary =
      `${plural(page.total, 'import')}${scope ? ` ${scope}` : ''}` +
      (skip === 0 && newest ? `; the newest is ${importMention(newest, ctx)}.` : '.') +
      shown;
    const title = `Imports${scope ? ` ${scope}` : ''}`;
    return { activity: cardReply(importsListCard(page, title, ctx, more), summary), more };
  }

  /** One import: its counts, mail and first problems (the result card). */
  async importDetails(ctx: AskContext, record: ImportRecord): Promise<Answer> {
    const view = await this.services.importView(record);
    const summary = `${importLabel(record)}, ${describeDay(record.createdAt, ctx.now, ctx.utcOffsetMinutes)} by ${record.by}. ${resultSummary(view)}`;
    return { activity: cardReply(resultCard(view), summary) };
  }

  /** A page of one import's ignored and failed rows. */
  async problems(ctx: AskContext, record: ImportRecord, skip = 0): Promise<Answer> {
    const page = await this.services.problemRows(record, skip, PROBLEMS_PAGE);
    const label = `${importLabel(record)} ${record.file.name}`;
    if (page.total === 0) {
      return {
        activity: MessageFactory.text(`Every row of ${label} was imported: nothing was ignored or failed.`),
      };
    }
    if (page.rows.length === 0) {
      return {
        activity: MessageFactory.text(`That was all: ${label} has no more rows that were not imported.`),
      };
    }
    const next = skip + page.rows.length;
    const more: MoreCursor | undefined =
      next < page.total ? { kind: 'problems', skip: next, importId: record._id } : undefined;
    const reasons = topReasons(page);
    const summary =
      `${plural(page.total, 'row')} of ${label} ${page.total === 1 ? 'was' : 'were'} not imported` +
      `${reasons ? `, mostly: ${reasons}` : ''}.` +
      (more
        ? ` Showing ${formatCount(skip + 1)} to ${formatCount(next)}; say "show more" for the rest.`
        : '');
    return {
      activity: cardReply(problemsCard(record, page, skip, this.services.reportUrl(record), more), summary),
      more,
    };
  }

  /** What happened to one person across the account's imports, and where they stand now. */
  async userHistory(ctx: AskContext, email: string, skip = 0): Promise<Answer> {
    const history = await this.services.userHistory(ctx.accountId, email, skip, USER_HISTORY_PAGE);
    if (history.total === 0 && !history.user) {
      return {
        activity: MessageFactory.text(
          `No import in this account mentions ${history.email}, and there is no user with that address. ` +
            'Check the spelling, or ask "list imports" to see what was imported.',
        ),
      };
    }
    const next = skip + history.entries.length;
    const more: MoreCursor | undefined =
      next < history.total ? { kind: 'user', skip: next, email: history.email } : undefined;
    const latest = skip === 0 ? history.entries[0] : undefined;
    const now = history.user
      ? ` They are ${userStatusWord(history.user.status)} now.`
      : ' They are not a user of this account now.';
    const story = latest
      ? `${history.email}: ${latest.row.outcome} by import #${latest.number} (${latest.fileName}, ${describeDay(latest.createdAt, ctx.now, ctx.utcOffsetMinutes)})` +
        `${latest.row.reason ? `: ${latest.row.reason}` : ''}.` +
        (history.total > 1 ? ` ${plural(history.total, 'import')} mention them in all.` : '')
      : history.total === 0
        ? `${history.email} is in this account but no recorded import mentions them.`
        : `${history.email}: more imports that mention them.`;
    return { activity: cardReply(userHistoryCard(history, skip, ctx, more), `${story}${now}`), more };
  }

  /** Invitation counts and a page of the people invited, for an import, a period or the account. */
  async invitations(ctx: AskContext, subject: InvitationSubject, skip = 0): Promise<Answer> {
    const scope = invitationScope(subject);
    const status = await this.services.invitationStatus(ctx.accountId, scope, {
      skip,
      limit: INVITATIONS_PAGE,
    });
    const what = describeSubject(subject, ctx);
    const { counts } = status;
    if (counts.total === 0) {
      return {
        activity: MessageFactory.text(
          subject.record
            ? `${importLabel(subject.record)} ${subject.record.file.name} sent no invitations: it created no new users.`
            : `No invitations were sent ${what || 'in this account yet'}.`,
        ),
      };
    }
    const next = skip + status.people.length;
    const more: MoreCursor | undefined =
      next < status.peopleTotal
        ? {
            kind: 'invitations',
            skip: next,
            importId: subject.record?._id,
            from: iso(subject.from),
            to: iso(subject.to),
          }
        : undefined;
    const summary =
      `${plural(counts.total, 'invitation')} ${what || 'in this account'}: ${formatCount(counts.sent)} sent` +
      `${counts.accepted > 0 ? ` (${formatCount(counts.accepted)} accepted)` : ''}, ` +
      `${formatCount(counts.pending)} waiting, ${formatCount(counts.failed)} failed.` +
      (counts.failed > 0 ? ' Say "resend failed invitations" to try the failed ones again.' : '');
    const title = `Invitations ${what || 'in this account'}`;
    const resend = counts.failed > 0 ? resendData(subject) : undefined;
    return {
      activity: cardReply(invitationsCard(status, title, skip, ctx, more, resend), summary),
      more,
    };
  }

  /** The per-row report of one import: a signed link, and in Teams the file itself on request. */
  report(ctx: AskContext, record: ImportRecord): Answer {
    const url = this.services.reportUrl(record);
    const label = `${importLabel(record)} ${record.file.name}`;
    const card = reportCard(record, url);
    const activity = cardReply(card, `Here is the per-row report of ${label}: ${url}`);
    const offer = ctx.channelId === 'msteams' ? this.services.reportFileOffer?.(record) : undefined;
    if (offer) activity.attachments = [...(activity.attachments ?? []), offer];
    return { activity };
  }

  /** The rows an import did not take, as a file to correct and send back. */
  fixFile(ctx: AskContext, record: ImportRecord): Answer {
    const label = `${importLabel(record)} ${record.file.name}`;
    const url = this.services.fixFileUrl(record);
    const total = record.outcomes.ignored + record.outcomes.failed;
    if (!url || total === 0) {
      return {
        activity: MessageFactory.text(`Every row of ${label} was imported: there is nothing to fix.`),
      };
    }
    const rows = plural(total, 'row');
    const how =
      'Correct them in the file (the last column, Problem, says what is wrong with each) and send it back ' +
      'here: only those rows are imported, and any still wrong are reported again.';
    const card = fixFileCard(record, total, how, url);
    return {
      activity: cardReply(
        card,
        `${total === 1 ? 'Here is the row' : `Here are the ${rows}`} of ${label} that ${total === 1 ? 'was' : 'were'} not imported, to fix: ${url} ${how}`,
      ),
    };
  }

  /** The next page of an earlier answer. */
  async more(ctx: AskContext, cursor: MoreCursor): Promise<Answer> {
    switch (cursor.kind) {
      case 'imports':
        return this.importsList(
          ctx,
          { from: date(cursor.from), to: date(cursor.to), by: cursor.by, fileName: cursor.fileName },
          cursor.skip,
        );
      case 'problems': {
        const record = await this.services.findImport(ctx.accountId, cursor.importId);
        if (!record)
          return { activity: MessageFactory.text('I could not find that import in this account.') };
        return this.problems(ctx, record, cursor.skip);
      }
      case 'invitations': {
        const record = cursor.importId
          ? await this.services.findImport(ctx.accountId, cursor.importId)
          : undefined;
        if (record === null)
          return { activity: MessageFactory.text('I could not find that import in this account.') };
        return this.invitations(ctx, { record, from: date(cursor.from), to: date(cursor.to) }, cursor.skip);
      }
      case 'user':
        return this.userHistory(ctx, cursor.email, cursor.skip);
    }
  }

  /** What to resend, for the confirmation question. */
  async planResend(
    ctx: AskContext,
    subject: InvitationSubject,
    options: ResendOptions = {},
  ): Promise<ResendPlan> {
    return this.services.planResend(ctx.accountId, invitationScope(subject), options);
  }

  async resend(
    ctx: AskContext,
    subject: InvitationSubject,
    options: ResendOptions = {},
  ): Promise<ResendResult> {
    return this.services.resendInvitations(ctx.accountId, invitationScope(subject), options);
  }
}

function userStatusWord(status: string): string {
  return status === 'invited' ? 'invited (not signed in yet)' : status;
}

function topReasons(page: ProblemPage): string {
  const counts = new Map<string, number>();
  for (const r of page.rows) {
    const reason = r.reason ?? r.outcome;
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([reason]) => reason)
    .join('; ');
}

/** "since Nov 3 by Ann for users.csv", or "" for no filter. */
export function describeFilter(filter: ImportFilter, ctx: AskContext): string {
  const parts: string[] = [];
  const period = describePeriod(filter.from, filter.to, ctx.now, ctx.utcOffsetMinutes);
  if (period) parts.push(period);
  if (filter.by) parts.push(`by ${filter.by}`);
  if (filter.fileName) parts.push(`of ${filter.fileName}`);
  return parts.join(' ');
}

/** "for #12 users.csv", "since Nov 3", or "" for the whole account. */
export function describeSubject(subject: InvitationSubject, ctx: AskContext): string {
  if (subject.record) return `for ${importLabel(subject.record)} ${subject.record.file.name}`;
  return describePeriod(subject.from, subject.to, ctx.now, ctx.utcOffsetMinutes);
}

export function invitationScope(subject: InvitationSubject): InvitationScope {
  return { importId: subject.record?._id, from: subject.from, to: subject.to };
}

/** The "Resend failed invitations" button's values: the same scope, checked again when clicked. */
export function resendData(subject: InvitationSubject): Record<string, unknown> {
  return {
    action: 'resendInvitations',
    ...(subject.record ? { importId: subject.record._id } : {}),
    ...(subject.from ? { from: subject.from.toISOString() } : {}),
    ...(subject.to ? { to: subject.to.toISOString() } : {}),
  };
}
