import { CardFactory, MessageFactory, type Activity, type TurnContext } from 'botbuilder';
import {
  WaterfallDialog,
  type DialogContext,
  type DialogInstance,
  type DialogState,
  type PromptOptions,
  type DialogTurnResult,
  type PromptValidatorContext,
  type WaterfallStepContext,
} from 'botbuilder-dialogs';
import type { ImportFilter, ImportReference } from '../services/history/historyQueries';
import type { ImportRecord } from '../services/history/importRecord';
import type { UndoPlan, UndoResult } from '../services/import/importUndo';
import { isAppError } from '../services/errors';
import type { AdminMention } from '../services/understanding/adminMention';
import { extractEntities } from '../services/understanding/entities';
import type { Entities } from '../services/understanding/recognizer';
import { describeDay, describePeriod } from './answers/adminClock';
import { pickImport, type ImportChoice } from './answers/importChoice';
import type { MoreCursor } from './answers/moreCursor';
import {
  describeSubject,
  type AskContext,
  type InvitationSubject,
  type QuestionAnswers,
  type QuestionServices,
} from './answers/questionAnswers';
import { CancelAndHelpDialog } from './cancelAndHelpDialog';
import { confirmCard, importLabel } from './cards/historyCards';
import { undoPlanCard, undoResultCard, undoSentence } from './cards/undoCards';
import { formatCount, plural } from './cards/adaptiveCard';
import { ReplyPrompt, type AdminReply } from './replyPrompt';
import { isConfirm, normalizeUtterance } from './reviewReply';

export const QUESTION_DIALOG = 'questionDialog';
const STEPS = 'questionSteps';
const CHOOSE_IMPORT_PROMPT = 'chooseImportPrompt';
const EMAIL_PROMPT = 'emailPrompt';
const CONFIRM_RESEND_PROMPT = 'confirmResendPrompt';
const CONFIRM_UNDO_PROMPT = 'confirmUndoPrompt';

/** The intents this dialog answers from history; the bot answers the others (help, cancel…) itself. */
export const HISTORY_INTENTS = [
  'history.last',
  'history.list',
  'import.details',
  'import.problems',
  'user.lookup',
  'invitations.status',
  'invitations.resend',
  'report.download',
  'import.retry',
  'import.undo',
] as const;
export type HistoryIntent = (typeof HISTORY_INTENTS)[number];

export function isHistoryIntent(intent: string): intent is HistoryIntent {
  return (HISTORY_INTENTS as readonly string[]).includes(intent);
}

export interface QuestionDialogOptions {
  accountId: string;
  /** The asking administrator as imports record them, for "my imports". */
  adminName: string;
  intent: HistoryIntent;
  entities: Entities;
  /** The administrator a list question named ("imports by Ann"), if any. */
  admin?: AdminMention;
  /** A resend that also covers invitations delivered but not accepted ("… that were not accepted"). */
  notAccepted?: boolean;
  utcOffsetMinutes: number;
}

/** Step values kept in dialog state between turns: plain JSON only. */
interface QuestionValues {
  importId?: string;
  /** The import the admin is asked to confirm undoing. */
  undo?: { importId: string; label: string };
  email?: string;
  candidates?: ImportChoice[];
}

/** Where the bot keeps the next page of the last long answer, for a typed "show more". */
export type RememberMore = (context: TurnContext, cursor: MoreCursor | undefined) => Promise<void>;

/** Intents that are about one import; with nothing named, they mean the latest. */
const ONE_IMPORT: ReadonlySet<HistoryIntent> = new Set([
  'history.last',
  'import.details',
  'import.problems',
  'report.download',
  'import.retry',
  'import.undo',
]);

/**
 * Answers a question about past imports: finds the import (asking "Which import?" when several fit) or the
 * person (asking for the address when none was given), answers with a sentence and a card, and for
 * resending invitations says what would be resent and waits for a yes.
 */
export class QuestionDialog extends CancelAndHelpDialog {
  constructor(
    private readonly answers: QuestionAnswers,
    private readonly services: Pick<QuestionServices, 'resolveImport' | 'findImport'>,
    private readonly undo: Pick<QuestionServices, 'planUndo' | 'applyUndo'>,
    private readonly rememberMore: RememberMore,
    private readonly now: () => Date = () => new Date(),
  ) {
    super(QUESTION_DIALOG);
    this.addDialog(new ReplyPrompt(CHOOSE_IMPORT_PROMPT, this.validateChoice.bind(this)))
      .addDialog(new ReplyPrompt(EMAIL_PROMPT, this.validateEmail.bind(this)))
      .addDialog(new ReplyPrompt(CONFIRM_RESEND_PROMPT, this.validateConfirm.bind(this)))
      .addDialog(new ReplyPrompt(CONFIRM_UNDO_PROMPT, this.validateUndo.bind(this)))
      .addDialog(
        new WaterfallDialog(STEPS, [
          this.subjectStep.bind(this),
          this.choiceStep.bind(this),
          this.answerStep.bind(this),
          this.confirmedStep.bind(this),
        ]),
      );
    this.initialDialogId = STEPS;
  }

  /**
   * Whether a message answers what this dialog is waiting for (an import's number, an address, a yes), as
   * opposed to a new question the admin moved on to. `instance` is this dialog's entry on the stack.
   */
  acceptsReply(instance: DialogInstance, reply: AdminReply): boolean {
    const inner = (instance.state as { dialogs?: DialogState } | undefined)?.dialogs?.dialogStack ?? [];
    // The dialog on top of the stack (the prompt waiting for this reply) is the last one.
    const waiting = inner[inner.length - 1];
    const options = (waiting?.state as { options?: PromptOptions } | undefined)?.options;
    switch (waiting?.id) {
      case CHOOSE_IMPORT_PROMPT:
        return Boolean(pickImport(reply.text, reply.value, (options?.validations as ImportChoice[]) ?? []));
      case EMAIL_PROMPT:
        return Boolean(extractEntities(reply.text).entities.email);
      case CONFIRM_RESEND_PROMPT:
        return isResendConfirmation(reply);
      case CONFIRM_UNDO_PROMPT:
        return isUndoConfirmation(reply);
      default:
        return false;
    }
  }

  protected override helpText(dc: DialogContext): string {
    const prompt = dc.activeDialog?.id;
    if (prompt === CHOOSE_IMPORT_PROMPT)
      return 'Say which import you mean by its number (such as #12), "the first one" or "latest", or "cancel".';
    if (prompt === EMAIL_PROMPT)
      return 'Send the email address of the user you are asking about, or "cancel".';
    if (prompt === CONFIRM_RESEND_PROMPT)
      return 'Say "yes" to send those invitations again, or "no" to leave them as they are.';
    if (prompt === CONFIRM_UNDO_PROMPT)
      return 'Say "undo" to undo that import as the card shows, or "cancel" to leave everything as it is.';
    return 'Ask about past imports, or send a user file to import.';
  }

  protected override cancelledText(): string {
    return 'OK, I left everything as it was.';
  }

  private ask(step: WaterfallStepContext): AskContext {
    const o = this.options(step);
    return {
      accountId: o.accountId,
      channelId: step.context.activity.channelId,
      now: this.now(),
      utcOffsetMinutes: o.utcOffsetMinutes,
    };
  }

  private options(step: WaterfallStepContext): QuestionDialogOptions {
    return step.options as QuestionDialogOptions;
  }

  private values(step: WaterfallStepContext): QuestionValues {
    return step.values as QuestionValues;
  }

  /** Finds what the question is about: one import, or one person. */
  private async subjectStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const o = this.options(step);
    const values = this.values(step);
    if (o.intent === 'user.lookup') {
      if (o.entities.email) {
        values.email = o.entities.email;
        return step.next();
      }
      return step.prompt(EMAIL_PROMPT, {
        prompt: MessageFactory.text(
          'Which user do you mean? Send me their email address, such as jane@acme.com.',
        ),
        retryPrompt: MessageFactory.text(
          'I need an email address, such as jane@acme.com, to look a user up. Or say "cancel".',
        ),
      });
    }
    const namesImport = Boolean(o.entities.importRef || o.entities.fileName);
    const aboutOneImport =
      ONE_IMPORT.has(o.intent) ||
      ((o.intent === 'invitations.status' || o.intent === 'invitations.resend') && namesImport);
    if (!aboutOneImport) return step.next();

    const ref: ImportReference = {
      importRef: o.entities.importRef,
      fileName: o.entities.fileName,
      from: o.entities.from ? new Date(o.entities.from) : undefined,
      to: o.entities.to ? new Date(o.entities.to) : undefined,
    };
    const resolution = await this.services.resolveImport(o.accountId, ref);
    if (resolution.kind === 'found') {
      values.importId = resolution.record._id;
      return step.next();
    }
    if (resolution.kind === 'not-found') {
      await step.context.sendActivity(this.notFoundText(resolution.reason, ref, step));
      return step.endDialog();
    }
    const ctx = this.ask(step);
    const candidates = resolution.candidates;
    values.candidates = candidates.map((c) => ({
      importId: c._id,
      number: c.number,
      fileName: c.file.name,
    }));
    const mentions = candidates.map(
      (c) => `${importLabel(c)} ${c.file.name} ${describeDay(c.createdAt, ctx.now, ctx.utcOffsetMinutes)}`,
    );
    const listed =
      mentions.length > 1
        ? `${mentions.slice(0, -1).join(', ')}, or ${mentions[mentions.length - 1] ?? ''}`
        : mentions.join('');
    const question =
      `Which import: ${listed}?` +
      (resolution.more
        ? ' There are more; give its number, or narrow it down with a date or file name.'
        : '');
    const prompt = MessageFactory.suggestedActions(
      [...candidates.map((c) => importLabel(c)), 'cancel'],
      question,
    );
    return step.prompt(CHOOSE_IMPORT_PROMPT, {
      prompt,
      retryPrompt: MessageFactory.suggestedActions(
        [...candidates.map((c) => importLabel(c)), 'cancel'],
        `Please pick one of ${candidates.map((c) => importLabel(c)).join(', ')} (say its number), or say "cancel".`,
      ),
      validations: values.candidates,
    });
  }

  /** Takes the admin's pick of import or the address they gave. */
  private async choiceStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const values = this.values(step);
    const reply = step.result as AdminReply | undefined;
    if (reply && values.candidates) {
      values.importId = pickImport(reply.text, reply.value, values.candidates)?.importId;
      values.candidates = undefined;
    } else if (reply && this.options(step).intent === 'user.lookup') {
      values.email = extractEntities(reply.text).entities.email;
    }
    return step.next();
  }

  /** Answers; for a resend, says what would be sent and asks first. */
  private async answerStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const o = this.options(step);
    const values = this.values(step);
    const ctx = this.ask(step);
    let record: ImportRecord | undefined;
    if (values.importId) {
      record = (await this.services.findImport(o.accountId, values.importId)) ?? undefined;
      if (!record) {
        await step.context.sendActivity('I could not find that import in this account any more.');
        return step.endDialog();
      }
    }
    switch (o.intent) {
      case 'history.last':
      case 'import.details':
        return this.reply(step, record && (await this.answers.importDetails(ctx, record)));
      case 'import.problems':
        return this.reply(step, record && (await this.answers.problems(ctx, record)));
      case 'report.download':
        return this.reply(step, record && this.answers.report(ctx, record));
      case 'import.retry':
        return this.reply(step, record && this.answers.fixFile(ctx, record));
      case 'history.list':
        return this.reply(step, await this.answers.importsList(ctx, this.listFilter(o)));
      case 'user.lookup':
        return this.reply(step, values.email ? await this.answers.userHistory(ctx, values.email) : undefined);
      case 'invitations.status':
        return this.reply(step, await this.answers.invitations(ctx, this.invitationSubject(o, record)));
      case 'invitations.resend':
        return this.askResend(step, ctx, this.invitationSubject(o, record));
      case 'import.undo':
        return record ? this.askUndo(step, record) : step.endDialog();
    }
  }

  private async reply(
    step: WaterfallStepContext,
    answer: { activity: Partial<Activity>; more?: MoreCursor } | undefined,
  ): Promise<DialogTurnResult> {
    if (answer) {
      await step.context.sendActivity(answer.activity);
      await this.rememberMore(step.context, answer.more);
    }
    return step.endDialog();
  }

  private async askResend(
    step: WaterfallStepContext,
    ctx: AskContext,
    subject: InvitationSubject,
  ): Promise<DialogTurnResult> {
    const options = { notAccepted: this.options(step).notAccepted === true };
    const plan = await this.answers.planResend(ctx, subject, options);
    const what = describeSubject(subject, ctx);
    const where = what ? ` ${what}` : ' in this account';
    if (plan.failed + plan.pending + plan.notAccepted === 0) {
      const skipped =
        plan.skipped > 0
          ? ` (${plural(plan.skipped, 'failed invitation')} belong to users who were deleted or are already active, so I left them.)`
          : '';
      const none = options.notAccepted
        ? 'no invitation failed or is still unaccepted, and waiting ones go out on their own'
        : 'no invitation failed, and waiting ones go out on their own';
      await step.context.sendActivity(`There is nothing to resend${where}: ${none}.${skipped}`);
      return step.endDialog();
    }
    (step.values as QuestionValues & { subject?: SubjectJson }).subject = subjectJson(subject);
    const parts: string[] = [];
    if (plan.failed > 0) parts.push(`send ${plural(plan.failed, 'failed invitation')} again`);
    if (plan.notAccepted > 0)
      parts.push(`send ${plural(plan.notAccepted, 'invitation')} not accepted yet again (with a new link)`);
    if (plan.pending > 0) parts.push(`send ${plural(plan.pending, 'waiting invitation')} now`);
    const question = `I will ${parts.join(' and ')}${where}. Resend them?`;
    const card = confirmCard(question, 'Resend', 'confirmResend');
    return step.prompt(CONFIRM_RESEND_PROMPT, {
      prompt: MessageFactory.attachment(CardFactory.adaptiveCard(card), question),
      retryPrompt: MessageFactory.text('Say "yes" to resend them, or "no" to leave them as they are.'),
    });
  }

  /** Carries out what the admin just confirmed: the resend or the undo. */
  private async confirmedStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const values = this.values(step);
    if (values.undo) return this.undoStep(step, values.undo);
    return this.resendStep(step);
  }

  private async askUndo(step: WaterfallStepContext, record: ImportRecord): Promise<DialogTurnResult> {
    const ctx = this.ask(step);
    let plan: UndoPlan;
    try {
      plan = await this.undo.planUndo(ctx.accountId, record._id);
    } catch (err) {
      if (!isAppError(err)) throw err;
      await step.context.sendActivity(err.message);
      return step.endDialog();
    }
    const label = `${importLabel(record)} ${record.file.name}`;
    const when = describeDay(record.createdAt, ctx.now, ctx.utcOffsetMinutes);
    if (plan.rows === 0) {
      await step.context.sendActivity(
        plan.conflictsTotal > 0
          ? `There is nothing left to undo in ${label}: everything it changed has changed again since.`
          : `There is nothing to undo in ${label}: it changed no users.`,
      );
      return step.endDialog();
    }
    this.values(step).undo = { importId: record._id, label };
    const since =
      plan.conflictsTotal > 0
        ? ` ${plural(plan.conflictsTotal, 'change')} made since ${plan.conflictsTotal === 1 ? 'is' : 'are'} left alone.`
        : '';
    const question = `Undoing ${label} (${when}, by ${record.by}) ${undoSentence(plan.counts)}.${since} Undo it?`;
    return step.prompt(CONFIRM_UNDO_PROMPT, {
      prompt: MessageFactory.attachment(CardFactory.adaptiveCard(undoPlanCard(plan, label)), question),
      retryPrompt: MessageFactory.text(
        'Say "undo" to undo it as shown, or "cancel" to leave everything as it is.',
      ),
    });
  }

  private async undoStep(
    step: WaterfallStepContext,
    undo: { importId: string; label: string },
  ): Promise<DialogTurnResult> {
    const ctx = this.ask(step);
    await step.context.sendActivity({ type: 'typing' });
    let result: UndoResult;
    try {
      result = await this.undo.applyUndo(ctx.accountId, undo.importId, this.options(step).adminName);
    } catch (err) {
      if (!isAppError(err)) throw err;
      await step.context.sendActivity(err.message);
      return step.endDialog();
    }
    const since =
      result.conflictsTotal > 0
        ? ` ${plural(result.conflictsTotal, 'change')} made since ${result.conflictsTotal === 1 ? 'was' : 'were'} left alone.`
        : '';
    await step.context.sendActivity(
      MessageFactory.attachment(
        CardFactory.adaptiveCard(undoResultCard(result, undo.label)),
        `Undone: ${undo.label}. It ${undoSentence(result.counts, true)}.${since} ` +
          `The undo is import #${result.record.number}; say "undo import #${result.record.number}" to take it back.`,
      ),
    );
    return step.endDialog();
  }

  private async resendStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const stored = (step.values as { subject?: SubjectJson }).subject;
    if (!stored) return step.endDialog();
    const ctx = this.ask(step);
    const subject = await this.subjectFrom(stored, ctx.accountId);
    if (!subject) {
      await step.context.sendActivity('I could not find that import in this account any more.');
      return step.endDialog();
    }
    const result = await this.answers.resend(ctx, subject, {
      notAccepted: this.options(step).notAccepted === true,
    });
    const total = result.requeued + result.expedited + result.notAccepted;
    await step.context.sendActivity(
      total === 0
        ? 'Nothing needed resending any more: those invitations were sent or changed meanwhile.'
        : `Done: ${plural(total, 'invitation')} will go out within a minute` +
            `${result.requeued > 0 ? ` (${formatCount(result.requeued)} that had failed)` : ''}. ` +
            'Ask "invitation status" to see how they get on.',
    );
    return step.endDialog();
  }

  private listFilter(o: QuestionDialogOptions): ImportFilter {
    const by = o.admin?.kind === 'self' ? o.adminName : o.admin?.kind === 'named' ? o.admin.name : undefined;
    return {
      from: o.entities.from ? new Date(o.entities.from) : undefined,
      to: o.entities.to ? new Date(o.entities.to) : undefined,
      by,
      fileName: o.entities.fileName,
    };
  }

  private invitationSubject(o: QuestionDialogOptions, record: ImportRecord | undefined): InvitationSubject {
    if (record) return { record };
    return {
      from: o.entities.from ? new Date(o.entities.from) : undefined,
      to: o.entities.to ? new Date(o.entities.to) : undefined,
    };
  }

  private async subjectFrom(stored: SubjectJson, accountId: string): Promise<InvitationSubject | undefined> {
    const subject: InvitationSubject = {
      from: stored.from ? new Date(stored.from) : undefined,
      to: stored.to ? new Date(stored.to) : undefined,
    };
    if (!stored.importId) return subject;
    const record = await this.services.findImport(accountId, stored.importId);
    return record ? { record } : undefined;
  }

  private notFoundText(
    reason: 'no-imports' | 'no-match',
    ref: ImportReference,
    step: WaterfallStepContext,
  ): string {
    if (reason === 'no-imports')
      return 'This account has no imports yet. Send me a user file (CSV, TXT or Excel) to start one.';
    const ctx = this.ask(step);
    const named = ref.importRef
      ? /^\d+$/.test(ref.importRef)
        ? `#${ref.importRef}`
        : ref.importRef
      : [
          ref.fileName ? `of ${ref.fileName}` : '',
          describePeriod(ref.from, ref.to, ctx.now, ctx.utcOffsetMinutes),
        ]
          .filter(Boolean)
          .join(' ');
    return `I found no import ${named} in this account. Ask "list imports" to see them all.`;
  }

  private async validateChoice(prompt: PromptValidatorContext<AdminReply>): Promise<boolean> {
    const reply = prompt.recognized.value;
    const candidates = prompt.options.validations as ImportChoice[] | undefined;
    return this.orRetry(
      prompt,
      Boolean(reply && candidates && pickImport(reply.text, reply.value, candidates)),
    );
  }

  private async validateEmail(prompt: PromptValidatorContext<AdminReply>): Promise<boolean> {
    const reply = prompt.recognized.value;
    return this.orRetry(prompt, Boolean(reply && extractEntities(reply.text).entities.email));
  }

  private async validateUndo(prompt: PromptValidatorContext<AdminReply>): Promise<boolean> {
    const reply = prompt.recognized.value;
    return this.orRetry(prompt, Boolean(reply && isUndoConfirmation(reply)));
  }

  private async validateConfirm(prompt: PromptValidatorContext<AdminReply>): Promise<boolean> {
    const reply = prompt.recognized.value;
    return this.orRetry(prompt, Boolean(reply && isResendConfirmation(reply)));
  }

  /** The reply prompt leaves retries to its validator: say what is needed, and keep waiting. */
  private async orRetry(prompt: PromptValidatorContext<AdminReply>, valid: boolean): Promise<boolean> {
    if (!valid && prompt.options.retryPrompt) await prompt.context.sendActivity(prompt.options.retryPrompt);
    return valid;
  }
}

const UNDO_WORDS = new Set(
  ['undo', 'revert', 'roll back', 'rollback'].flatMap((verb) =>
    ['', 'yes ', 'yes, '].flatMap((yes) =>
      ['', ' it', ' that', ' them'].flatMap((what) => [
        `${yes}${verb}${what}`,
        `${yes}${verb}${what} please`,
      ]),
    ),
  ),
);

/** "undo", "yes, undo it" or the card's Undo button. */
function isUndoConfirmation(reply: AdminReply): boolean {
  const value = reply.value as { action?: unknown } | undefined;
  return (
    value?.action === 'confirmUndo' || isConfirm(reply.text) || UNDO_WORDS.has(normalizeUtterance(reply.text))
  );
}

/** "yes", "resend them" or the card's Resend button. */
function isResendConfirmation(reply: AdminReply): boolean {
  const value = reply.value as { action?: unknown } | undefined;
  return (
    value?.action === 'confirmResend' ||
    isConfirm(reply.text) ||
    /^resend(?: them)?$/i.test(reply.text.trim())
  );
}

/** An invitation subject as dialog state keeps it. */
interface SubjectJson {
  importId?: string;
  from?: string;
  to?: string;
}

function subjectJson(subject: InvitationSubject): SubjectJson {
  return {
    importId: subject.record?._id,
    from: subject.from?.toISOString(),
    to: subject.to?.toISOString(),
  };
}
