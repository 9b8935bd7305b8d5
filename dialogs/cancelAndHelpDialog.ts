import {
  ComponentDialog,
  DialogTurnStatus,
  type DialogContext,
  type DialogTurnResult,
} from 'botbuilder-dialogs';
import { isCancel, isHelp } from './reviewReply';

export const CANCELLED_TEXT = 'Cancelled. Nothing was changed. Send another file whenever you are ready.';

/**
 * A flow the admin can leave or ask about at any step: "cancel" (typed or a card's Cancel button) ends it
 * with nothing changed, and "help" explains the current step without losing it.
 */
export abstract class CancelAndHelpDialog extends ComponentDialog {
  /** What the admin can do at the step the flow is waiting on. */
  protected abstract helpText(dc: DialogContext): string;

  /** What the admin is told when they cancel. */
  protected cancelledText(): string {
    return CANCELLED_TEXT;
  }

  override async onContinueDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    return (await this.interrupt(innerDc)) ?? super.onContinueDialog(innerDc);
  }

  private async interrupt(innerDc: DialogContext): Promise<DialogTurnResult | undefined> {
    const { activity } = innerDc.context;
    if (activity.type !== 'message') return undefined;
    const value = activity.value as { action?: unknown } | undefined;
    const said = activity.text ?? '';
    if (isCancel(said) || value?.action === 'cancel') {
      await innerDc.context.sendActivity(this.cancelledText());
      return innerDc.cancelAllDialogs();
    }
    if (isHelp(said) || value?.action === 'help') {
      await innerDc.context.sendActivity(this.helpText(innerDc));
      return { status: DialogTurnStatus.waiting };
    }
    return undefined;
  }
}
