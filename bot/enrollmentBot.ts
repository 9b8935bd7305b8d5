import { ActivityHandler, type TurnContext } from 'botbuilder';
import { isAppError, type AppError } from '../services/errors';
import type { FileSource } from '../services/import/fileSource';
import type { ImportPlan } from '../services/import/importPlan';
import { isAdministrator, resolveAccount, type AccessSettings } from './access/accountAccess';
import { planMessage } from './planMessage';

export const WELCOME_TEXT =
  'Hi, I am Enrollment Assistant. I bring users into your account from a CSV or TXT user file: I work out ' +
  'its encoding, delimiter and columns, show exactly what will change, and import it when you confirm.';

export const NOT_YET_TEXT =
  'Nothing was changed: importing from chat is not available yet. To import this file now, use the enroll ' +
  'command line (npm run -s enroll -- import <file> --account <id>).';

export interface EnrollmentBotDeps {
  access: AccessSettings;
  /** Picks the one user file among an activity's attachments and downloads it safely. */
  receiveFile: (attachments: unknown[] | undefined) => Promise<FileSource>;
  plan: (source: FileSource, accountId: string) => Promise<ImportPlan>;
}

/**
 * The bot's turn handler. For now it previews what a sent file would do (a dry run that writes nothing);
 * confirming and importing in chat come with the import dialog.
 */
export class EnrollmentBot extends ActivityHandler {
  constructor(private readonly deps: EnrollmentBotDeps) {
    super();
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
  }

  private async onMessageTurn(context: TurnContext): Promise<void> {
    const { activity } = context;
    if ((activity.attachments ?? []).length === 0) {
      await context.sendActivity(`${WELCOME_TEXT} Send me a file to see what it would do.`);
      return;
    }
    const account = resolveAccount(activity, this.deps.access);
    if (!account.ok) {
      await context.sendActivity(account.reason);
      return;
    }
    if (!isAdministrator(activity, this.deps.access)) {
      await context.sendActivity(
        'Sorry, only the administrators of this account can import users. Ask one of them to add you ' +
          `(your user id here is ${activity.from.aadObjectId ?? activity.from.id}; it goes in the ADMINS setting).`,
      );
      return;
    }
    let plan: ImportPlan;
    try {
      await context.sendActivity('Got it, reading your file…');
      const source = await this.deps.receiveFile(activity.attachments);
      plan = await this.deps.plan(source, account.accountId);
    } catch (err) {
      // Bad files are expected: their messages are written for the admin. Anything else is a real failure.
      if (isExplained(err)) {
        await context.sendActivity(err.message);
        return;
      }
      throw err;
    }
    await context.sendActivity(`${planMessage(plan)}\n\n${NOT_YET_TEXT}`);
  }
}

function isExplained(err: unknown): err is AppError {
  return isAppError(err) && (err.code.startsWith('file-') || err.code.startsWith('attachment-'));
}
