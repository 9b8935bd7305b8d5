import {
  Prompt,
  type PromptOptions,
  type PromptRecognizerResult,
  type PromptValidator,
} from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';

/** A message as the admin sent it: typed text, a card button's values, or both. */
export interface AdminReply {
  text: string;
  value: unknown;
}

/**
 * Waits for the admin's next message, typed or clicked. Text prompts ignore card submits (they carry no
 * text), and every card action here must also work by typing, so one prompt takes both and leaves their
 * meaning to the validator.
 */
export class ReplyPrompt extends Prompt<AdminReply> {
  constructor(dialogId: string, validator: PromptValidator<AdminReply>) {
    super(dialogId, validator);
  }

  protected async onPrompt(
    context: TurnContext,
    _state: object,
    options: PromptOptions,
    isRetry: boolean,
  ): Promise<void> {
    // The validator has already said what was wrong on a retry; the card on screen is still the prompt.
    if (!isRetry && options.prompt) await context.sendActivity(options.prompt);
  }

  protected async onRecognize(context: TurnContext): Promise<PromptRecognizerResult<AdminReply>> {
    const { activity } = context;
    const text = typeof activity.text === 'string' ? activity.text : '';
    const value: unknown = activity.value;
    const succeeded = activity.type === 'message' && (text.trim() !== '' || value !== undefined);
    return succeeded ? { succeeded, value: { text, value } } : { succeeded: false };
  }
}
