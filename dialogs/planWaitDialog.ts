import type { TurnContext } from 'botbuilder';
import { Dialog, type DialogContext, type DialogTurnResult } from 'botbuilder-dialogs';
import type { ImportPlan } from '../services/import/importPlan';

/** A plan worked out outside the turn, or why it could not be. */
export interface PlanOutcome {
  uploadId: string;
  plan?: ImportPlan;
  error?: unknown;
}

/**
 * Where a finished background plan rides into the turn that delivers it. Turn state, unlike an activity's
 * value, cannot be set by a channel client, so nobody can hand the dialog a plan of their own making.
 */
const PLAN_OUTCOME = Symbol('enrollment.planOutcome');

export function attachPlanOutcome(context: TurnContext, outcome: PlanOutcome): void {
  context.turnState.set(PLAN_OUTCOME, outcome);
}

export function planOutcomeOf(context: TurnContext): PlanOutcome | undefined {
  return context.turnState.get(PLAN_OUTCOME) as PlanOutcome | undefined;
}

interface WaitState {
  uploadId: string;
  fileName: string;
}

/**
 * Waits for the plan of a large file, which is worked out outside the turn because channels give up on a
 * turn after 10 to 15 seconds. Ends with the {@link PlanOutcome} once the delivering turn brings it.
 */
export class PlanWaitDialog extends Dialog<WaitState> {
  override async beginDialog(dc: DialogContext, options?: WaitState): Promise<DialogTurnResult> {
    if (!options) throw new Error('PlanWaitDialog needs the upload it waits for.');
    const state = dc.activeDialog?.state as WaitState;
    state.uploadId = options.uploadId;
    state.fileName = options.fileName;
    return Dialog.EndOfTurn;
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = dc.activeDialog?.state as WaitState;
    const outcome = planOutcomeOf(dc.context);
    if (outcome?.uploadId === state.uploadId) return dc.endDialog(outcome);
    if (dc.context.activity.type === 'message') {
      await dc.context.sendActivity(
        `I am still working out the plan for ${state.fileName}; I will post it here as soon as it is ready. ` +
          'Say "cancel" to stop.',
      );
    }
    return Dialog.EndOfTurn;
  }
}
