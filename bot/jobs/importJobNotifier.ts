import {
  CardFactory,
  MessageFactory,
  type Attachment,
  type CloudAdapter,
  type TurnContext,
} from 'botbuilder';
import { formatCount } from '../../dialogs/cards/adaptiveCard';
import { resultCard, resultSummary } from '../../dialogs/cards/resultCard';
import type { ImportRecord } from '../../services/history/importRecord';
import type { ImportResults } from '../../services/history/importResults';
import type { ImportJob } from '../../services/jobs/importJobQueue';
import type { ImportJobEvents, JobProgress } from '../../services/jobs/importJobRunner';
import type { Logger } from '../../services/logger';
import { parseReplyAddress } from '../replyAddress';

export interface ImportJobNotifierDeps {
  adapter: Pick<CloudAdapter, 'continueConversationAsync'>;
  /** The bot's app id ('' when running unauthenticated). */
  appId: string;
  queue: { setProgressMessage(jobId: string, messageId: string): Promise<void> };
  results: ImportResults;
  log: Logger;
  /** Extra attachments for a finished import on a channel, e.g. the Teams FileConsentCard for the report. */
  reportOffer?: (channelId: string, record: ImportRecord) => Attachment | undefined;
}

/**
 * Tells the admin how a background import is going, in the conversation where they confirmed it: one
 * progress message updated in place where the channel allows it, then the result card.
 */
export class ImportJobNotifier implements ImportJobEvents {
  /** Progress message ids by job, for jobs this instance has reported on. */
  private readonly progressIds = new Map<string, string>();
  /** Channels that refused an update once: later progress goes out as new messages. */
  private readonly noUpdates = new Set<string>();

  constructor(private readonly deps: ImportJobNotifierDeps) {}

  async started(job: ImportJob): Promise<void> {
    await this.showProgress(job, `Importing ${job.fileName}: starting…`);
  }

  async progress(job: ImportJob, progress: JobProgress): Promise<void> {
    const percent = progress.totalRows > 0 ? Math.floor((progress.rowsDone / progress.totalRows) * 100) : 100;
    await this.showProgress(
      job,
      `Importing ${job.fileName}: ${formatCount(progress.rowsDone)} of ${formatCount(progress.totalRows)} rows (${percent}%).`,
    );
  }

  async finished(job: ImportJob, record: ImportRecord): Promise<void> {
    await this.showProgress(
      job,
      `Imported ${job.fileName}: all ${formatCount(record.file.rows)} rows handled.`,
    );
    const view = await this.deps.results.view(record);
    await this.send(job, async (context) => {
      await context.sendActivity(
        MessageFactory.attachment(CardFactory.adaptiveCard(resultCard(view)), resultSummary(view)),
      );
      const offer = this.deps.reportOffer?.(context.activity.channelId, record);
      if (offer) await context.sendActivity(MessageFactory.attachment(offer));
    });
    this.progressIds.delete(job._id);
  }

  async failed(job: ImportJob, error: { code: string; message: string }): Promise<void> {
    await this.showProgress(job, `The import of ${job.fileName} stopped.`);
    await this.send(job, async (context) => {
      await context.sendActivity(
        `The import of ${job.fileName} (import ${job._id}) stopped: ${error.message} Rows applied before it ` +
          'stopped are in its results ("show last import results"); sending the same file again applies the rest.',
      );
    });
    this.progressIds.delete(job._id);
  }

  /** Updates the job's progress message, or posts one; the id is kept on the job for other instances. */
  private async showProgress(job: ImportJob, text: string): Promise<void> {
    await this.send(job, async (context) => {
      const channel = context.activity.channelId;
      const existing = this.progressIds.get(job._id) ?? job.progressMessageId;
      if (existing && !this.noUpdates.has(channel)) {
        try {
          await context.updateActivity({ id: existing, type: 'message', text });
          return;
        } catch {
          // Not every channel can edit a message (Direct Line cannot); from now on post new ones there.
          this.noUpdates.add(channel);
        }
      }
      const sent = await context.sendActivity(text);
      if (sent?.id && !existing) {
        this.progressIds.set(job._id, sent.id);
        await this.deps.queue.setProgressMessage(job._id, sent.id);
      }
    });
  }

  private async send(job: ImportJob, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    const reference = parseReplyAddress(job.replyTo);
    if (!reference) {
      this.deps.log.error('An import job has no usable reply address', { jobId: job._id });
      return;
    }
    await this.deps.adapter.continueConversationAsync(this.deps.appId, reference, logic);
  }
}
