import { ActivityHandler, type TurnContext } from 'botbuilder';

export const WELCOME_TEXT =
  'Hi, I am Enrollment Assistant. I bring users into your account from a CSV or TXT user file: I work out ' +
  'its encoding, delimiter and columns, show exactly what will change, and import it when you confirm.';

/**
 * The bot's turn handler. The import conversation is being built (see the dialogs folder); until then the
 * bot greets, explains itself and says what it can and cannot do yet, rather than pretending.
 */
export class EnrollmentBot extends ActivityHandler {
  constructor() {
    super();
    this.onMembersAdded(async (context, next) => {
      const botId = context.activity.recipient.id;
      if ((context.activity.membersAdded ?? []).some((m) => m.id !== botId))
        await context.sendActivity(WELCOME_TEXT);
      await next();
    });
    this.onMessage(async (context, next) => {
      await this.reply(context);
      await next();
    });
  }

  private async reply(context: TurnContext): Promise<void> {
    const hasFile = (context.activity.attachments ?? []).length > 0;
    await context.sendActivity(
      hasFile
        ? 'I received your file, but importing in chat is not available yet. Until it is, an administrator ' +
            'can import it with the enroll command line (npm run -s enroll -- import <file> --account <id>).'
        : `${WELCOME_TEXT} Importing in chat is not available yet.`,
    );
  }
}
