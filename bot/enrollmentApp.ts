import { ConversationState, type CloudAdapter } from 'botbuilder';
import type restify from 'restify';
import { MorePages } from '../dialogs/answers/morePages';
import { QuestionAnswers } from '../dialogs/answers/questionAnswers';
import { ImportDialog, type ImportFlowServices } from '../dialogs/importDialog';
import { QuestionDialog } from '../dialogs/questionDialog';
import { attachPlanOutcome, type PlanOutcome } from '../dialogs/planWaitDialog';
import { AccountDirectory } from '../services/accounts/accountDirectory';
import type { Config } from '../services/config';
import type { EnrollmentServices } from '../services/enrollmentServices';
import { ImportResults } from '../services/history/importResults';
import { signReportPath, type ReportFormat } from '../services/history/reportLinks';
import { ImportJobQueue } from '../services/jobs/importJobQueue';
import { ImportJobRunner } from '../services/jobs/importJobRunner';
import type { Logger } from '../services/logger';
import { loadOrCreateSecret } from '../services/settings/sharedSecret';
import { createRecognizer } from '../services/understanding/createRecognizer';
import { UploadStore } from '../services/uploads/uploadStore';
import { AccountAccess, teamsEmailLookup, type AccessSettings } from './access/accountAccess';
import { downloadAttachment, pickUserFile } from './attachments/attachmentDownloader';
import { EnrollmentBot } from './enrollmentBot';
import { registerDirectLine } from './directLine/directLineChannel';
import { createHttpServer } from './httpServer';
import { registerAcceptRoute } from './invitations/acceptRoute';
import { ImportJobNotifier } from './jobs/importJobNotifier';
import { registerReportRoute } from './reports/reportRoute';
import { MongoStorage } from './storage/mongoStorage';
import { createReportFileConsentHandler, reportFileConsentCard } from './teams/reportFileConsent';
import { registerWebChatPage } from './webChat/webChatPage';
import { parseReplyAddress } from './replyAddress';
import { createQuestionServices } from './questionServices';

/** Where channels serve uploaded files from (Bot Framework, Teams/SharePoint). */
export const ALLOWED_ATTACHMENT_HOSTS = [
  '*.botframework.com',
  'smba.trafficmanager.net',
  '*.smba.trafficmanager.net',
  '*.sharepoint.com',
  '*.blob.core.windows.net',
];

const REPORT_KEY_NAME = 'reportLinkKey';

export interface EnrollmentAppDeps {
  config: Config;
  services: EnrollmentServices;
  adapter: CloudAdapter;
  /** The bot's Microsoft app id; '' when unauthenticated. */
  appId: string;
  access: AccessSettings;
  log: Logger;
  /** Plain-http file and upload URLs on loopback are accepted only when the bot runs unauthenticated. */
  allowLoopbackHttp: boolean;
  /** Extra hosts attachments may come from (tests). */
  extraAttachmentHosts?: string[];
  /** Extra hosts Teams report uploads may go to (tests). */
  extraUploadHosts?: string[];
  /** Files larger than this are planned in the background; tests lower it. */
  inlinePlanMaxBytes?: number;
}

/** The loopback address of a listening server: the local channel talks to this very process. */
function selfUrl(server: restify.Server): string {
  const address = server.address();
  return `http://127.0.0.1:${address.port}`;
}

/** The running bot: its HTTP server, and the background importer that any instance may run. */
export interface EnrollmentApp {
  server: restify.Server;
  bot: EnrollmentBot;
  runner: ImportJobRunner;
  queue: ImportJobQueue;
  uploads: UploadStore;
  /** Stops the importer (its current job is released for another instance) and the HTTP server. */
  close(): Promise<void>;
}

/**
 * Builds the bot on the domain services: state in MongoDB, the import dialog, the background import runner
 * with its proactive notifier, and the HTTP routes (messages, probes, signed reports).
 */
export async function createEnrollmentApp(deps: EnrollmentAppDeps): Promise<EnrollmentApp> {
  const { config, services, log } = deps;
  const localChannel = config.localChannel === 'on' || (config.localChannel === 'auto' && deps.appId === '');
  const db = services.database.db;
  const uploads = new UploadStore(db);
  const queue = new ImportJobQueue(db);
  const directory = new AccountDirectory(db);
  // The local chat page's turns come back from this very process (its Direct Line channel's serviceUrl).
  const access = new AccountAccess(
    deps.access,
    directory,
    (context) => teamsEmailLookup(context, log),
    localChannel
      ? (activity) => activity.channelId === 'webchat' && activity.serviceUrl === selfUrl(server)
      : undefined,
  );
  const reportKey = config.reportLinkSecret
    ? Buffer.from(config.reportLinkSecret, 'utf8')
    : await loadOrCreateSecret(db, REPORT_KEY_NAME);
  const signedUrl = (format: ReportFormat) => (importId: string, accountId: string) =>
    config.publicUrl +
    signReportPath(
      {
        importId,
        accountId,
        format,
        expiresAt: new Date(Date.now() + config.reportLinkTtlHours * 3600 * 1000),
      },
      reportKey,
    );
  const reportUrl = signedUrl('csv');
  /** The fix file's link: the rows not imported, to correct and send back (`results.fixFileUrl(record)`). */
  const fixFileUrl = signedUrl('fix.csv');
  const results = new ImportResults(db, services.imports.history, reportUrl, fixFileUrl);

  const flow: ImportFlowServices = {
    receiveFile: (attachments) =>
      downloadAttachment(pickUserFile(attachments), {
        maxBytes: config.maxFileBytes,
        allowedHosts: [...ALLOWED_ATTACHMENT_HOSTS, ...(deps.extraAttachmentHosts ?? [])],
        allowLoopbackHttp: deps.allowLoopbackHttp,
      }),
    saveUpload: async (accountId, source) => {
      const upload = await uploads.save(accountId, source);
      return { id: upload._id, name: upload.name, bytes: upload.bytes };
    },
    plan: async (uploadId, accountId, options) =>
      services.imports.plan(await uploads.source(uploadId, accountId), accountId, options),
    planLater: (request) => {
      void deliverPlanLater(request);
    },
    startImport: async (request) => {
      const job = await queue.enqueue(request);
      return { importId: job._id };
    },
  };

  /** Plans a large file outside the turn, then runs a turn in its conversation that carries the plan. */
  const deliverPlanLater = async (request: Parameters<ImportFlowServices['planLater']>[0]) => {
    let outcome: PlanOutcome;
    try {
      outcome = {
        uploadId: request.uploadId,
        plan: await flow.plan(request.uploadId, request.accountId, request.options),
      };
    } catch (error) {
      outcome = { uploadId: request.uploadId, error };
    }
    const reference = parseReplyAddress(request.replyTo);
    if (!reference) {
      log.error('A background plan has no usable reply address', { uploadId: request.uploadId });
      return;
    }
    try {
      await deps.adapter.continueConversationAsync(deps.appId, reference, async (context) => {
        attachPlanOutcome(context, outcome);
        await bot.run(context);
      });
    } catch (err) {
      log.error('Could not deliver a plan worked out in the background', {
        uploadId: request.uploadId,
        error: err as Error,
      });
    }
  };

  const conversationState = new ConversationState(new MongoStorage(db));
  const questionServices = createQuestionServices(
    db,
    services.imports.history,
    results,
    reportUrl,
    services.imports.undo,
  );
  const answers = new QuestionAnswers(questionServices);
  const morePages = new MorePages(conversationState);
  const bot = new EnrollmentBot({
    access,
    conversationState,
    importDialog: new ImportDialog(flow, deps.inlinePlanMaxBytes),
    questionDialog: new QuestionDialog(answers, questionServices, questionServices, morePages.remember),
    results,
    recognizer: await createRecognizer(config),
    answers,
    morePages,
    onReportFileConsent: createReportFileConsentHandler({
      history: services.imports.history,
      access,
      log,
      allowLoopbackHttp: deps.allowLoopbackHttp,
      ...(deps.extraUploadHosts ? { allowedHosts: deps.extraUploadHosts } : {}),
    }),
  });

  const notifier = new ImportJobNotifier({
    adapter: deps.adapter,
    appId: deps.appId,
    queue,
    results,
    log,
    reportOffer: (channelId, record) => (channelId === 'msteams' ? reportFileConsentCard(record) : undefined),
  });
  const runner = new ImportJobRunner({ queue, uploads, imports: services.imports, events: notifier, log });

  let draining = false;
  let directLine: { idle(): Promise<void> } | undefined;
  const server = createHttpServer({
    adapter: deps.adapter,
    bot,
    isDraining: () => draining,
    isReady: async () => {
      await db.command({ ping: 1 });
      return true;
    },
    registerRoutes: (s) => {
      registerReportRoute(s, { history: services.imports.history, key: reportKey, log });
      registerAcceptRoute(s, {
        db,
        inviteUrlBase: config.inviteUrlBase,
        accountName: config.accountName,
        ttlDays: config.inviteTtlDays,
        log,
      });
      if (localChannel) {
        directLine = registerDirectLine(s, {
          db,
          selfUrl: () => selfUrl(s),
          maxFileBytes: config.maxFileBytes,
          log,
          tokensFor: config.localChannel === 'on' ? 'anyone' : 'loopback',
        });
        registerWebChatPage(s, { botName: 'Enrollment Assistant', log });
      }
    },
  });
  if (localChannel) {
    log.info('The local chat page is on: its users administer the default account', {
      page: `${config.publicUrl}/`,
      account: deps.access.defaultAccount,
      servesBrowsers: config.localChannel === 'on' ? 'anywhere (LOCAL_CHANNEL=on)' : 'on this machine only',
    });
  }

  return {
    server,
    bot,
    runner,
    queue,
    uploads,
    close: async () => {
      // New turns get 503 (channels retry them), the import in progress is handed back after its current
      // batch so another instance resumes it, and turns already running are allowed to finish.
      draining = true;
      const closed = new Promise<void>((resolve) => {
        server.close(() => resolve());
      });
      server.server.closeIdleConnections();
      await runner.stop();
      await directLine?.idle();
      await closed;
    },
  };
}
