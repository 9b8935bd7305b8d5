import {
  CardFactory,
  MessageFactory,
  TeamsActivityHandler,
  type ConversationState,
  type FileConsentCardResponse,
  type Activity,
  type StatePropertyAccessor,
  type TurnContext,
} from 'botbuilder';
import { DialogSet, type DialogState } from 'botbuilder-dialogs';
import { z } from 'zod';
import type { ImportResults } from '../services/history/importResults';
import { ignoredRowsCard, resultCard, resultSummary } from '../dialogs/cards/resultCard';
import { IMPORT_DIALOG, type ImportDialog, type ImportDialogOptions } from '../dialogs/importDialog';
import { planOutcomeOf } from '../dialogs/planWaitDialog';
import { isHelp, normalizeUtterance } from '../dialogs/reviewReply';
import { refusalText, type AccessResult } from './access/accountAccess';
import { hasFileAttachment } from './attachments/attachmentDownloader';

export const WELCOME_TEXT =
  'Hi, I am Enrollment Assistant. I bring users into your account from a CSV or TXT user file: I work out ' +
  'its encoding, delimiter and columns, show exactly what will change, and import it when you confirm.';

export const HELP_TEXT =
  `${WELCOME_TEXT}\n\n` +
  '- Send me the file (drag it into this chat) to see its plan; nothing changes until you confirm.\n' +
  '- Columns: Email ID, First Name, Last Name, Alternate ID, Work Phone, Title, Department, User Status ' +
  '(New, Update, Delete or Activate); other header names are recognised, and you can correct the mapping.\n' +
  '- Ask "show last import results" or "show ignored rows" about the latest import.\n' +
  '- "cancel" stops whatever we are doing, "help" explains the current step.';

/** The ignored rows listed in chat; the CSV report has all of them. */
const IGNORED_ROWS_SHOWN = 25;

/** Buttons on result cards, checked before use. */
const resultActionSchema = z.object({
  action: z.enum(['showIgnored', 'showResults']),
  importId: z.string().regex(/^imp_[a-z0-9]+$/),
});

export interface EnrollmentBotDeps {
  /** Decides the conversation's account and whether the sender administers it. */
  access: { check(context: TurnContext): Promise<AccessResult> };
  conversationState: ConversationState;
  importDialog: ImportDialog;
  results: ImportResults;
  /** Handles a Teams user's answer to the report FileConsentCard. */
  onReportFileConsent?: (context: TurnContext, response: FileConsentCardResponse) => Promise<void>;
}

/**
 * The bot's turn handler: checks who is talking, starts the import conversation when a file arrives, routes
 * replies to it, and answers questions about the latest import. Conversation state is saved after every
 * turn, also a failed one, so a running review survives errors.
 */
export class EnrollmentBot extends TeamsActivityHandler {
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  private readonly dialogs: DialogSet;

  constructor(private readonly deps: EnrollmentBotDeps) {
    super();
    this.dialogState = deps.conversationState.createProperty<DialogState>('dialogState');
    this.dialogs = new DialogSet(this.dialogState).add(deps.importDialog);

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
        await dc.cancelAllDialogs();
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

    if (dc.activeDialog) {
      await dc.continueDialog();
      return;
    }

    const said = normalizeUtterance(activity.text ?? '');
    if (/\b(ignored|skipped|rejected|failed|invalid|problems?|errors?)\b/.test(said)) {
      await this.showImport(context, access.accountId, undefined, 'showIgnored');
    } else if (
      /\b(last|latest|recent|previous)\b.*\b(import|result|results)\b|^(results?|status)$/.test(said)
    ) {
      await this.showImport(context, access.accountId, undefined, 'showResults');
    } else if (isHelp(said)) {
      await context.sendActivity(HELP_TEXT);
    } else {
      await context.sendActivity(
        `${WELCOME_TEXT} Send me a file to see what it would do, or ask "show last import results".`,
      );
    }
  }

  /** Shows one import's results or its ignored rows; the latest import when no id is given. */
  private async showImport(
    context: TurnContext,
    accountId: string,
    importId: string | undefined,
    what: 'showIgnored' | 'showResults',
  ): Promise<void> {
    const { results } = this.deps;
    const record = importId ? await results.find(importId, accountId) : await results.latest(accountId);
    if (!record) {
      await context.sendActivity(
        importId
          ? 'I could not find that import in this account.'
          : 'This account has no imports yet. Send me a user file to start one.',
      );
      return;
    }
    if (what === 'showIgnored') {
      const view = await results.view(record, IGNORED_ROWS_SHOWN);
      const summary =
        view.problemTotal === 0
          ? `Every row of ${record.file.name} was imported.`
          : `${view.problemTotal} rows of ${record.file.name} were not imported.`;
      await context.sendActivity(
        MessageFactory.attachment(CardFactory.adaptiveCard(ignoredRowsCard(view)), summary),
      );
      return;
    }
    const view = await results.view(record);
    await context.sendActivity(
      MessageFactory.attachment(CardFactory.adaptiveCard(resultCard(view)), resultSummary(view)),
    );
  }
}
