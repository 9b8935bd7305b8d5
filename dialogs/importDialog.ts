import { randomBytes } from 'node:crypto';
import { CardFactory, MessageFactory, TurnContext } from 'botbuilder';
import {
  WaterfallDialog,
  type DialogContext,
  type DialogTurnResult,
  type PromptValidatorContext,
  type WaterfallStepContext,
} from 'botbuilder-dialogs';
import { z } from 'zod';
import { isAppError } from '../services/errors';
import type { ImportField } from '../services/import/columns';
import type { FileSource } from '../services/import/fileSource';
import { parseImportOptions, type ImportOptions } from '../services/import/importOptions';
import type { ImportPlan } from '../services/import/importPlan';
import type { NewImportJob } from '../services/jobs/importJobQueue';
import { CancelAndHelpDialog, CANCELLED_TEXT } from './cancelAndHelpDialog';
import { plural } from './cards/adaptiveCard';
import { deletionCard, planCard, planHeaders, planSummary, TYPED_HINT } from './cards/planCard';
import { PlanWaitDialog, type PlanOutcome } from './planWaitDialog';
import { ReplyPrompt, type AdminReply } from './replyPrompt';
import { parseDeletionReply, parseReviewReply, type ReviewContext } from './reviewReply';

export const IMPORT_DIALOG = 'importDialog';
const FLOW = 'importDialog.flow';
const REVIEW_PROMPT = 'importDialog.review';
const PLAN_WAIT = 'importDialog.planWait';
const DELETION_PROMPT = 'importDialog.deletions';

/** What the import conversation needs from the domain; the bot wires it to the services. */
export interface ImportFlowServices {
  /** Picks the one user file among the attachments and downloads it safely. */
  receiveFile(attachments: unknown[]): Promise<FileSource>;
  /** Keeps the file's bytes so the plan can be recomputed and any instance can run the import. */
  saveUpload(accountId: string, source: FileSource): Promise<StoredFile>;
  plan(uploadId: string, accountId: string, options: ImportOptions): Promise<ImportPlan>;
  /**
   * Works the plan out outside the turn and delivers it into this conversation later (see
   * {@link attachPlanOutcome}); for files too large to plan within a channel's turn time-out.
   */
  planLater(request: { uploadId: string; accountId: string; options: ImportOptions; replyTo: string }): void;
  /** Queues the import as a background job; throws AppError `import-busy` while the account has one. */
  startImport(request: Omit<NewImportJob, 'importId'>): Promise<{ importId: string }>;
}

/** An upload as the dialog knows it. */
export interface StoredFile {
  id: string;
  name: string;
  bytes: number;
}

/** Files up to this size are planned within the turn; larger ones in the background. */
export const INLINE_PLAN_MAX_BYTES = 2 * 1024 * 1024;

const optionsSchema = z.object({
  accountId: z.string().min(1),
  by: z.string().min(1),
  upload: z.object({ id: z.string().min(1), name: z.string(), bytes: z.number().int().min(0) }).optional(),
  importOptions: z.unknown().optional(),
  previousOptions: z.unknown().optional(),
  note: z.string().optional(),
});

/** How the import dialog is started, and restarted with new choices. */
export interface ImportDialogOptions {
  accountId: string;
  /** Who is importing, as history records it. */
  by: string;
  /** The stored upload, once received. */
  upload?: StoredFile;
  importOptions?: ImportOptions;
  /** The choices of the plan before this change, to go back to if the change cannot be planned. */
  previousOptions?: ImportOptions;
  /** What changed since the last plan. */
  note?: string;
}

/** What the review steps remember between turns: only plain JSON, since it is stored as conversation state. */
interface ReviewState {
  upload: StoredFile;
  review: ReviewContext;
  deletions: { count: number; liveUsers: number; sample: string[] } | null;
}

const REVIEW_HELP =
  'I am waiting for your decision on the plan above. Press Import (or type "yes") to import it; "cancel" ' +
  'changes nothing. To fix a column, type "map <column> to <field>", e.g. "map Business Phone to Work Phone", ' +
  'or "don\'t import Title". For rows without a User Status, type "use New as default". For Update rows ' +
  'naming people the account does not have, type "create them as New" or "skip them". For flagged email ' +
  'addresses (likely typos, or outside the allowed domains), type "import them anyway" or "skip flagged". When ' +
  'the rows of a file are run together on one line, check the re-flowed rows on the card and type "yes, ' +
  'reflow" to import them (or "split into rows" to confirm first). For a workbook, type "use sheet <name>" to read ' +
  'another of its sheets. I show the plan again after every change.';

const DELETION_HELP =
  'This file deletes many users, so I need a separate confirmation: type "delete" to go ahead, or "cancel" to ' +
  'change nothing. To keep those users, cancel, change their User Status in the file and send it again.';

/** Why a confirmation is not taken yet: the plan flags emails and the admin has not said what to do with them. */
function flaggedUndecidedText(count: number): string {
  return (
    `${count === 1 ? '1 email address on the plan looks' : `${plural(count, 'email address', 'email addresses')} on the plan look`} ` +
    "mistyped or outside the account's allowed domains. Before I import, choose on the card whether to import " +
    `${count === 1 ? 'it' : 'them'}, or type "import them anyway" or "skip flagged".`
  );
}

/** Why a confirmation is not taken yet: the file's rows run together and the admin has not confirmed the split. */
function reflowUndecidedText(): string {
  return (
    'The rows of this file are run together on one line, so where each row ends is my guess. Check the ' +
    're-flowed rows on the card: if they are right, press "Re-flow and import" or type "yes, reflow"; ' +
    'otherwise type "cancel", put each user on a line of its own and send the file again.'
  );
}

/**
 * The sheet read and the workbook's sheets, when a workbook's first plan failed because that sheet holds no
 * user list (no header, no email column) and the workbook has other sheets to try; otherwise null.
 */
function sheetChoice(err: unknown): { sheet: string; sheets: string[] } | null {
  if (!isAppError(err) || !['file-no-header', 'file-no-email-column'].includes(err.code)) return null;
  const { sheet, sheets } = err.details ?? {};
  if (typeof sheet !== 'string' || !Array.isArray(sheets)) return null;
  const names = sheets.filter((name): name is string => typeof name === 'string');
  return names.some((name) => name !== sheet) ? { sheet, sheets: names } : null;
}

/** The waterfall's per-run values, typed: the dialog keeps the review between turns here. */
function stepValues(step: WaterfallStepContext): {
  state?: ReviewState;
  upload?: StoredFile;
} {
  return step.values as { state?: ReviewState; upload?: StoredFile };
}

function reviewState(step: WaterfallStepContext): ReviewState {
  const { state } = stepValues(step);
  if (!state) throw new Error('The import review has no plan in its state.');
  return state;
}

/**
 * The import conversation: receive the file, show the plan, take the admin's corrections until they confirm
 * or cancel, confirm large deletions separately, then hand the import to a background job.
 */
export class ImportDialog extends CancelAndHelpDialog {
  /**
   * @param inlinePlanMaxBytes files larger than this are planned in the background (tests lower it to take
   *   that path with small files).
   */
  constructor(
    private readonly flow: ImportFlowServices,
    private readonly inlinePlanMaxBytes = INLINE_PLAN_MAX_BYTES,
  ) {
    super(IMPORT_DIALOG);
    this.addDialog(new PlanWaitDialog(PLAN_WAIT))
      .addDialog(new ReplyPrompt(REVIEW_PROMPT, this.validateReview.bind(this)))
      .addDialog(new ReplyPrompt(DELETION_PROMPT, this.validateDeletion.bind(this)))
      .addDialog(
        new WaterfallDialog(FLOW, [
          this.receiveStep.bind(this),
          this.planStep.bind(this),
          this.showPlanStep.bind(this),
          this.reviewStep.bind(this),
          this.deletionStep.bind(this),
        ]),
      );
    this.initialDialogId = FLOW;
  }

  protected helpText(dc: DialogContext): string {
    const waitingOn = dc.activeDialog?.id;
    const child = dc.child?.activeDialog?.id;
    return child === DELETION_PROMPT || waitingOn === DELETION_PROMPT ? DELETION_HELP : REVIEW_HELP;
  }

  private static options(step: WaterfallStepContext): ImportDialogOptions {
    const parsed = optionsSchema.parse(step.options);
    return {
      ...parsed,
      importOptions: parsed.importOptions === undefined ? {} : parseImportOptions(parsed.importOptions),
      previousOptions:
        parsed.previousOptions === undefined ? undefined : parseImportOptions(parsed.previousOptions),
    };
  }

  private async receiveStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = ImportDialog.options(step);
    if (options.upload) return step.next(options.upload);
    try {
      await step.context.sendActivity('Got it, reading your file…');
      // The dialog starts on the message that carries the file.
      const source = await this.flow.receiveFile(step.context.activity.attachments ?? []);
      return step.next(await this.flow.saveUpload(options.accountId, source));
    } catch (err) {
      return this.explainOrThrow(step, err);
    }
  }

  private async planStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = ImportDialog.options(step);
    const upload = step.result as StoredFile;
    stepValues(step).upload = upload;
    const importOptions = options.importOptions ?? {};
    if (upload.bytes > this.inlinePlanMaxBytes) {
      await step.context.sendActivity(
        `${upload.name} is large (${(upload.bytes / (1024 * 1024)).toFixed(1)} MB): I am working out its plan ` +
          'and will post it here in a moment.',
      );
      this.flow.planLater({
        uploadId: upload.id,
        accountId: options.accountId,
        options: importOptions,
        replyTo: JSON.stringify(TurnContext.getConversationReference(step.context.activity)),
      });
      return step.beginDialog(PLAN_WAIT, { uploadId: upload.id, fileName: upload.name });
    }
    let outcome: PlanOutcome;
    try {
      outcome = {
        uploadId: upload.id,
        plan: await this.flow.plan(upload.id, options.accountId, importOptions),
      };
    } catch (error) {
      outcome = { uploadId: upload.id, error };
    }
    return step.next(outcome);
  }

  private async showPlanStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = ImportDialog.options(step);
    const outcome = step.result as PlanOutcome;
    const upload = stepValues(step).upload as StoredFile;
    const importOptions = options.importOptions ?? {};
    const plan = outcome.plan;
    if (!plan) {
      const err = outcome.error;
      // A sheet chosen by name may lack a header or an email column: that too goes back to the last plan.
      const undoable = /^(file-no-email|file-no-header|file-sheet-|mapping-|option-)/;
      if (options.previousOptions && isAppError(err) && undoable.test(err.code)) {
        // A correction that cannot be planned must not end the conversation: go back to the last good plan.
        await step.context.sendActivity(`${err.message} I kept the previous choices.`);
        return step.replaceDialog(IMPORT_DIALOG, {
          ...options,
          upload,
          importOptions: options.previousOptions,
          previousOptions: undefined,
          note: undefined,
        } satisfies ImportDialogOptions);
      }
      const choice = sheetChoice(err);
      if (choice) {
        // The sheet read first holds no user list, but the workbook has others: let the admin pick one.
        const state: ReviewState = {
          upload,
          review: {
            headers: [],
            columns: {},
            planId: randomBytes(6).toString('hex'),
            options: importOptions,
            ...choice,
            noPlan: true,
          },
          deletions: null,
        };
        stepValues(step).state = state;
        const other = choice.sheets.find((name) => name !== choice.sheet);
        return step.prompt(REVIEW_PROMPT, {
          prompt: `${(err as Error).message} Type "use sheet ${other}" to read another sheet, or "cancel".`,
          validations: state.review,
        });
      }
      return this.explainOrThrow(step, err);
    }
    const planId = randomBytes(6).toString('hex');
    const headers = planHeaders(plan);
    const state: ReviewState = {
      upload,
      review: {
        headers,
        columns: plan.columns as Partial<Record<ImportField, string>>,
        planId,
        options: importOptions,
        flagged: plan.flagged.count,
        ...(plan.reflow ? { runTogether: true } : {}),
        ...(plan.file.sheet !== undefined ? { sheet: plan.file.sheet, sheets: plan.file.sheets ?? [] } : {}),
      },
      deletions: plan.needs.includes('confirm-deletions') ? plan.deletions : null,
    };
    const values = stepValues(step);
    values.state = state;
    const card = planCard(plan, { planId, options: importOptions, headers, note: options.note });
    const message = MessageFactory.attachment(CardFactory.adaptiveCard(card), planSummary(plan));
    return step.prompt(REVIEW_PROMPT, { prompt: message, validations: state.review });
  }

  private async validateReview(prompt: PromptValidatorContext<AdminReply>): Promise<boolean> {
    if (!prompt.recognized.succeeded || !prompt.recognized.value) return false;
    const ctx = prompt.options.validations as ReviewContext;
    const { text, value } = prompt.recognized.value;
    const reply = parseReviewReply(text, value, ctx);
    switch (reply.kind) {
      case 'confirm':
        if (ctx.noPlan) {
          await prompt.context.sendActivity(
            'There is no plan to import yet. Type "use sheet <name>" to read another sheet, or "cancel".',
          );
          return false;
        }
        if (ctx.runTogether && !(reply.options ?? ctx.options).reflow) {
          await prompt.context.sendActivity(reflowUndecidedText());
          return false;
        }
        if (ctx.flagged && ctx.options.flaggedEmails === undefined) {
          await prompt.context.sendActivity(flaggedUndecidedText(ctx.flagged));
          return false;
        }
        return true;
      case 'change':
      case 'cancel':
        return true;
      case 'help':
        await prompt.context.sendActivity(REVIEW_HELP);
        return false;
      case 'stale':
        await prompt.context.sendActivity(
          'That card belongs to an earlier version of the plan. Use the newest card, or type your answer.',
        );
        return false;
      case 'invalid':
        await prompt.context.sendActivity(`${reply.message} Nothing was changed.`);
        return false;
      case 'unknown':
        await prompt.context.sendActivity(`Sorry, I did not understand that. ${TYPED_HINT}`);
        return false;
    }
  }

  private async reviewStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = ImportDialog.options(step);
    const state = reviewState(step);
    const { text, value } = step.result as AdminReply;
    const reply = parseReviewReply(text, value, state.review);
    if (reply.kind === 'cancel') {
      await step.context.sendActivity(CANCELLED_TEXT);
      return step.endDialog();
    }
    if (reply.kind === 'change') {
      return step.replaceDialog(IMPORT_DIALOG, {
        ...options,
        upload: state.upload,
        importOptions: reply.options,
        previousOptions: state.review.options,
        note: reply.said,
      } satisfies ImportDialogOptions);
    }
    // A confirmation that also made the re-flow choice imports with it.
    if (reply.kind === 'confirm' && reply.options) state.review = { ...state.review, options: reply.options };
    if (state.deletions) {
      const message = MessageFactory.attachment(
        CardFactory.adaptiveCard(deletionCard(state.deletions, state.review.planId)),
        `Please confirm: this import deletes ${plural(state.deletions.count, 'user')}. Type "delete" to go ahead or "cancel".`,
      );
      return step.prompt(DELETION_PROMPT, { prompt: message });
    }
    return this.start(step, options, state);
  }

  private async validateDeletion(prompt: PromptValidatorContext<AdminReply>): Promise<boolean> {
    if (!prompt.recognized.succeeded || !prompt.recognized.value) return false;
    const { text, value } = prompt.recognized.value;
    switch (parseDeletionReply(text, value)) {
      case 'confirm':
      case 'cancel':
        return true;
      case 'help':
        await prompt.context.sendActivity(DELETION_HELP);
        return false;
      case 'unsure':
        await prompt.context.sendActivity('To be sure, please type "delete" (or press the Delete button).');
        return false;
      case 'unknown':
        await prompt.context.sendActivity(`Sorry, I did not understand that. ${DELETION_HELP}`);
        return false;
    }
  }

  private async deletionStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const options = ImportDialog.options(step);
    const state = reviewState(step);
    const { text, value } = step.result as AdminReply;
    if (parseDeletionReply(text, value) !== 'confirm') {
      await step.context.sendActivity(CANCELLED_TEXT);
      return step.endDialog();
    }
    return this.start(step, options, state);
  }

  private async start(
    step: WaterfallStepContext,
    options: ImportDialogOptions,
    state: ReviewState,
  ): Promise<DialogTurnResult> {
    const reference = TurnContext.getConversationReference(step.context.activity);
    try {
      const { importId } = await this.flow.startImport({
        accountId: options.accountId,
        uploadId: state.upload.id,
        fileName: state.upload.name,
        options: state.review.options,
        by: options.by,
        replyTo: JSON.stringify(reference),
      });
      await step.context.sendActivity(
        `Importing ${state.upload.name} now (import ${importId}). I will post progress here, and the results ` +
          'when it is done. You can close this chat meanwhile.',
      );
      return step.endDialog({ importId });
    } catch (err) {
      if (isAppError(err) && err.code === 'import-busy') {
        // Keep the plan: the admin only has to confirm again once the other import is done.
        await step.context.sendActivity(`${err.message} I kept your plan; I show it again below.`);
        return step.replaceDialog(IMPORT_DIALOG, {
          ...options,
          upload: state.upload,
          importOptions: state.review.options,
          note: 'Say "yes" when the other import has finished.',
        } satisfies ImportDialogOptions);
      }
      throw err;
    }
  }

  /** Problems with the file are the admin's to fix and are explained; anything else is a fault. */
  private async explainOrThrow(step: WaterfallStepContext, err: unknown): Promise<DialogTurnResult> {
    if (isAppError(err) && /^(file-|attachment-|upload-|mapping-|option-)/.test(err.code)) {
      await step.context.sendActivity(`${err.message} Nothing was changed.`);
      return step.endDialog();
    }
    throw err;
  }
}
