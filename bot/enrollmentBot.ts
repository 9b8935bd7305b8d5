import {
  TeamsActivityHandler,
  type ConversationState,
  type FileConsentCardResponse,
  type Activity,
  type StatePropertyAccessor,
  type TurnContext,
} from 'botbuilder';
import { DialogSet, type DialogContext, type DialogState } from 'botbuilder-dialogs';
import { z } from 'zod';
import type { ImportResults } from '../services/history/importResults';
import { IMPORT_DIALOG, type ImportDialog, type ImportDialogOptions } from '../dialogs/importDialog';
import { planOutcomeOf } from '../dialogs/planWaitDialog';
import { isCancel, isHelp, normalizeUtterance } from '../dialogs/reviewReply';
import { utcOffsetOf } from '../dialogs/answers/adminClock';
import { clarifyingQuestion } from '../dialogs/answers/clarify';
import { isShowMore, type MorePages } from '../dialogs/answers/morePages';
import { showMoreSubmitSchema, type MoreCursor } from '../dialogs/answers/moreCursor';
import type { QuestionAnswers } from '../dialogs/answers/questionAnswers';
import {
  QUESTION_DIALOG,
  isHistoryIntent,
  type QuestionDialog,
  type QuestionDialogOptions,
} from '../dialogs/questionDialog';
import { findAdminMention } from '../services/understanding/adminMention';
import { MAX_MESSAGE_LENGTH } from '../services/understanding/entities';
import { decide, type Recognition, type Recognizer } from '../services/understanding/recognizer';
import { refusalText, type AccessResult } from './access/accountAccess';
import { hasFileAttachment } from './attachments/attachmentDownloader';

export const WELCOME_TEXT =
  'Hi, I am Enrollment Assistant. I bring users into your account from a CSV or TXT user file or an Excel ' +
  'workbook: I work out its encoding, delimiter (or sheet) and columns, show exactly what will change, and ' +
  'import it when you confirm.';

export const HELP_TEXT =
  `${WELCOME_TEXT}\n\n` +
  '- Send me the file (drag it into this chat) to see its plan; nothing changes until you confirm.\n' +
  '- Columns: Email ID, First Name, Last Name, Alternate ID, Work Phone, Title, Department, User Status ' +
  '(New, Update, Delete or Activate); other header names are recognised, and you can correct the mapping.\n' +
  '- Ask about past imports in your own words, for example: "how did the last import go?", ' +
  '"list imports since Monday", "what went wrong with #12?", "what happened to jane@acme.com?", ' +
  '"who was invited last week?", "resend failed invitations", "download the report of users.csv".\n' +
  '- "Fix the failed rows" gives you a file of the rows not imported, to correct and send back; ' +
  '"undo import #12" takes an import back (you see what it would do first).\n' +
  '- Long answers continue with "show more".\n' +
  '- "cancel" stops whatever we are doing, "help" explains the current step.';

export const IMPORT_START_TEXT =
  'Send me the user file: drag a CSV, TXT or Excel (.xlsx) file into this chat. I work out its layout and ' +
  'columns and show you exactly who would be created, updated, deleted or activated, and which rows I would ' +
  'ignore and why. Nothing changes until you confirm.';

export const NOTHING_TO_CANCEL_TEXT =
  'There is nothing to cancel: no import or question is waiting for you. Send a file, or ask about past imports.';

export const NOTHING_MORE_TEXT =
  'There is nothing more to show. Ask a question first, such as "list imports" or "show ignored rows".';

/** "… that were not accepted", "who haven't signed up", "unaccepted": a resend that includes delivered ones. */
const NOT_ACCEPTED =
  // eslint-disable-next-line security/detect-unsafe-regex -- alternatives of fixed words only; the message is cut to MAX_MESSAGE_LENGTH
  /\b(?:not|never|haven'?t|hasn'?t|didn'?t|did not|have not|has not|yet to)\s+(?:been\s+|yet\s+)?(?:accept|sign|join|activat|respond|click|use)|\bunaccepted\b|\bstill (?:invited|pending)\b/i;

const GREETINGS =
  /^(?:hi|hello|hey|hey there|hiya|good (?:morning|afternoon|evening|day)|greetings|yo)(?: there)?(?: bot| assistant)?$/;
const THANKS =
  /^(?:thanks?|thank you|thx|ty|cheers|great,? thanks|thanks a lot|many thanks)(?: bot| assistant)?$/;

/** Buttons on result cards, checked before use. */
const resultActionSchema = z.object({
  action: z.enum(['showIgnored', 'showResults']),
  importId: z.string().regex(/^imp_[a-z0-9]+$/),
});

/** The "Resend failed invitations" button of an invitation card: the scope it was shown for. */
const resendActionSchema = z.object({
  action: z.literal('resendInvitations'),
  importId: z
    .string()
    .regex(/^imp_[a-z0-9]+$/)
    .optional(),
  from: z.iso.datetime().optional(),
  to: z.iso.datetime().optional(),
});

export interface EnrollmentBotDeps {
  /** Decides the conversation's account and whether the sender administers it. */
  access: { check(context: TurnContext): Promise<AccessResult> };
  conversationState: ConversationState;
  importDialog: ImportDialog;
  questionDialog: QuestionDialog;
  results: ImportResults;
  /** Understands questions; created once at start (the local engine trains then). */
  recognizer: Recognizer;
  answers: QuestionAnswers;
  morePages: MorePages;
  /** Handles a Teams user's answer to the report FileConsentCard. */
  onReportFileConsent?: (context: TurnContext, response: FileConsentCardResponse) => Promise<void>;
}

/**
 * The bot's turn handler: checks who is talking, starts the import conversation when a file arrives, routes
 * replies to it, and understands questions about past imports, answering them or asking what was meant. Conversation state is saved after every
 * turn, also a failed one, so a running review survives errors.
 */
export class EnrollmentBot extends TeamsActivityHandler {
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  private readonly dialogs: DialogSet;

  constructor(private readonly deps: EnrollmentBotDeps) {
    super();
    this.dialogState = deps.conversationState.createProperty<DialogState>('dialogState');
    this.dialogs = new DialogSet(this.dialogState).add(deps.importDialog).add(deps.questionDialog);

    this.onMembersAdded(async (context, next) => {
      const botId = context.activity.recipient.id;
      if ((context.activity.membersAdded ?? []).some((m) => m.id !== botId)) {
        await context.sendActivity(`${WELCOME_TEXT} Send me a file to see what it would do.`);
      }
      await next();
    });
    this.onMessage(async (context, next) => {
      await this.onMessageTurn(context);
      await next();
    });
    // A plan worked out in the background arrives as a turn of its own (see planWaitDialog).
    this.onEvent(async (context, next) => {
      if (planOutcomeOf(context)) await this.deliverPlan(context);
      await next();
    });
  }

  override async run(context: TurnContext): Promise<void> {
    try {
      await super.run(context);
    } finally {
      await this.deps.conversationState.saveChanges(context, false);
    }
  }

  protected override async handleTeamsFileConsentAccept(
    context: TurnContext,
    response: FileConsentCardResponse,
  ): Promise<void> {
    if (this.deps.onReportFileConsent) await this.deps.onReportFileConsent(context, response);
  }

  protected override async handleTeamsFileConsentDecline(context: TurnContext): Promise<void> {
    await context.sendActivity('No problem: the report link in the result card works too.');
  }

  /**
   * Continues the waiting dialog with a plan worked out in the background. Its card is held back until the
   * dialog state that expects an answer to it is saved: the admin may answer the moment the card shows, and
   * that answer must find the plan, not the wait.
   */
  private async deliverPlan(context: TurnContext): Promise<void> {
    const held: Array<Partial<Activity>> = [];
    let holding = true;
    context.onSendActivities(async (_context, activities, next) => {
      if (!holding) return next();
      held.push(...activities);
      return activities.map(() => ({ id: '' }));
    });
    const dc = await this.dialogs.createContext(context);
    if (dc.activeDialog) await dc.continueDialog();
    await this.deps.conversationState.saveChanges(context, false);
    holding = false;
    if (held.length > 0) await context.sendActivities(held);
  }

  private async onMessageTurn(context: TurnContext): Promise<void> {
    const { activity } = context;
    const access = await this.deps.access.check(context);
    if (!access.ok) {
      await context.sendActivity(access.reason);
      return;
    }
    if (!access.isAdmin) {
      await context.sendActivity(refusalText(access.principal));
      return;
    }
    const dc = await this.dialogs.createContext(context);

    if (hasFileAttachment(activity.attachments)) {
      if (dc.activeDialog) {
        const wasPlan = dc.activeDialog.id === IMPORT_DIALOG;
        await dc.cancelAllDialogs();
        if (wasPlan)
          await context.sendActivity(
            'I set the previous plan aside (nothing was imported) and will use this file.',
          );
      }
      const options: ImportDialogOptions = {
        accountId: access.accountId,
        by: activity.from.name?.trim() || access.principal,
      };
      await dc.beginDialog(IMPORT_DIALOG, options);
      return;
    }

    const resultAction = resultActionSchema.safeParse(activity.value);
    if (resultAction.success) {
      await this.showImport(context, access.accountId, resultAction.data.importId, resultAction.data.action);
      return;
    }
    const said = typeof activity.text === 'string' ? activity.text.trim() : '';
    const more = showMoreSubmitSchema.safeParse(activity.value);
    if (more.success) {
      await this.showMore(context, access.accountId, more.data.cursor);
      return;
    }

    const utcOffsetMinutes = utcOffsetOf(activity);
    let recognition: Recognition | undefined;
    const understand = async () =>
      (recognition ??= await this.deps.recognizer.recognize(said, new Date(), { utcOffsetMinutes }));

    if (dc.activeDialog) {
      if (!(await this.movesOn(dc, said, activity.value, understand))) {
        await dc.continueDialog();
        return;
      }
      // A question waiting for a reply got a new question instead: drop it and answer the new one.
      await dc.cancelAllDialogs();
    }

    if (isShowMore(said)) {
      const cursor = await this.deps.morePages.nextPage(context);
      if (!cursor) {
        await context.sendActivity(NOTHING_MORE_TEXT);
        return;
      }
      await this.showMore(context, access.accountId, cursor);
      return;
    }

    const adminName = activity.from.name?.trim() || access.principal;
    const resend = resendActionSchema.safeParse(activity.value);
    if (resend.success) {
      const { importId, from, to } = resend.data;
      await this.ask(dc, {
        accountId: access.accountId,
        adminName,
        intent: 'invitations.resend',
        entities: { importRef: importId, from, to },
        utcOffsetMinutes,
      });
      return;
    }

    if (!said) {
      await context.sendActivity(`${WELCOME_TEXT} Send me a file to see what it would do, or ask "help".`);
      return;
    }
    const smallTalk = normalizeUtterance(said);
    if (GREETINGS.test(smallTalk)) {
      await context.sendActivity(
        `${WELCOME_TEXT} Send me a file to see what it would do, or ask about past imports ("help" lists examples).`,
      );
      return;
    }
    if (THANKS.test(smallTalk)) {
      await context.sendActivity(
        'You are welcome. Ask me anything else about your imports, or send another file.',
      );
      return;
    }
    const understood = await understand();
    const decision = decide(understood);
    if (decision.action === 'clarify') {
      await context.sendActivity(clarifyingQuestion(decision));
      return;
    }
    const { intent } = decision;
    if (isHistoryIntent(intent)) {
      await this.ask(dc, {
        accountId: access.accountId,
        adminName,
        intent,
        entities: understood.entities,
        admin: intent === 'history.list' ? findAdminMention(said) : undefined,
        notAccepted: intent === 'invitations.resend' && NOT_ACCEPTED.test(said.slice(0, MAX_MESSAGE_LENGTH)),
        utcOffsetMinutes,
      });
    } else if (intent === 'import.start') {
      await context.sendActivity(IMPORT_START_TEXT);
    } else if (intent === 'cancel') {
      await context.sendActivity(NOTHING_TO_CANCEL_TEXT);
    } else {
      await context.sendActivity(HELP_TEXT);
    }
  }

  /**
   * Whether a message sent while a question waits for its reply is a new request instead: a "Resend" click,
   * or a confident new question that is not an answer to what was asked. The import review keeps every
   * message: its own parser explains what it did not understand.
   */
  private async movesOn(
    dc: DialogContext,
    said: string,
    value: unknown,
    understand: () => Promise<Recognition>,
  ): Promise<boolean> {
    const active = dc.activeDialog;
    if (active?.id !== QUESTION_DIALOG) return false;
    if (resendActionSchema.safeParse(value).success) return true;
    if (!said || isCancel(said) || isHelp(said)) return false;
    if (this.deps.questionDialog.acceptsReply(active, { text: said, value })) return false;
    if (isShowMore(said)) return true;
    const decision = decide(await understand());
    return (
      decision.action === 'answer' && (isHistoryIntent(decision.intent) || decision.intent === 'import.start')
    );
  }

  private async showMore(context: TurnContext, accountId: string, cursor: MoreCursor): Promise<void> {
    const answer = await this.deps.answers.more(
      {
        accountId,
        channelId: context.activity.channelId,
        now: new Date(),
        utcOffsetMinutes: utcOffsetOf(context.activity),
      },
      cursor,
    );
    await context.sendActivity(answer.activity);
    await this.deps.morePages.remember(context, answer.more);
  }

  /** Starts answering a question; a new question replaces the next page of the previous answer. */
  private async ask(dc: DialogContext, options: QuestionDialogOptions): Promise<void> {
    await this.deps.morePages.remember(dc.context, undefined);
    await dc.beginDialog(QUESTION_DIALOG, options);
  }

  /** A result card's button: one import's results, or its rows that were not imported. */
  private async showImport(
    context: TurnContext,
    accountId: string,
    importId: string,
    what: 'showIgnored' | 'showResults',
  ): Promise<void> {
    const record = await this.deps.results.find(importId, accountId);
    if (!record) {
      await context.sendActivity('I could not find that import in this account.');
      return;
    }
    const ask = {
      accountId,
      channelId: context.activity.channelId,
      now: new Date(),
      utcOffsetMinutes: utcOffsetOf(context.activity),
    };
    const answer =
      what === 'showIgnored'
        ? await this.deps.answers.problems(ask, record)
        : await this.deps.answers.importDetails(ask, record);
    await context.sendActivity(answer.activity);
    await this.deps.morePages.remember(context, answer.more);
  }
}
