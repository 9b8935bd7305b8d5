import { CloudAdapter, ConfigurationBotFrameworkAuthentication } from 'botbuilder';
import { loadConfig } from '../services/config';
import { openEnrollmentServices } from '../services/enrollmentServices';
import { isAppError } from '../services/errors';
import { createLogger } from '../services/logger';
import { loadBotSettings } from './botSettings';
import { loadAccessSettings } from './access/accountAccess';
import { downloadAttachment, pickUserFile } from './attachments/attachmentDownloader';
import { EnrollmentBot } from './enrollmentBot';
import { createHttpServer } from './httpServer';
import { handleTurnError } from './turnErrors';

/** Where channels serve uploaded files from (Bot Framework, Teams/SharePoint). */
const ALLOWED_ATTACHMENT_HOSTS = [
  '*.botframework.com',
  'smba.trafficmanager.net',
  '*.smba.trafficmanager.net',
  '*.sharepoint.com',
  '*.blob.core.windows.net',
];

async function main(): Promise<void> {
  const config = loadConfig();
  const botSettings = loadBotSettings();
  const log = createLogger(config.logLevel);
  if (!botSettings.authenticated) {
    log.warn('MicrosoftAppId is not set: the bot accepts unauthenticated requests. Use this only locally.');
  }

  const auth = new ConfigurationBotFrameworkAuthentication(botSettings.auth);
  const adapter = new CloudAdapter(auth);
  adapter.onTurnError = (context, error) => handleTurnError(context, error, log);

  const services = await openEnrollmentServices(config, log);
  const access = loadAccessSettings();
  if (access.admins.size === 0)
    log.warn('ADMINS is empty: nobody can import until administrators are configured.');
  const bot = new EnrollmentBot({
    access,
    receiveFile: async (attachments) =>
      downloadAttachment(pickUserFile(attachments), {
        maxBytes: config.maxFileBytes,
        allowedHosts: ALLOWED_ATTACHMENT_HOSTS,
        allowLoopbackHttp: !botSettings.authenticated,
      }),
    plan: (source, accountId) => services.imports.plan(source, accountId),
  });

  const server = createHttpServer({
    adapter,
    bot,
    isReady: async () => {
      await services.database.db.command({ ping: 1 });
      return true;
    },
  });
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  log.info('Enrollment Assistant is listening', { port: config.port, messages: '/api/messages' });
  services.outbox.start(5000);
  log.info('Mail delivery', { via: services.mail.description });

  const shutdown = async (signal: string) => {
    log.info('Shutting down', { signal });
    server.close();
    await services.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${isAppError(err) ? err.message : ((err as Error).stack ?? String(err))}\n`);
  process.exit(1);
});
