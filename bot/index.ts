import { loadConfig } from '../services/config';
import { openEnrollmentServices } from '../services/enrollmentServices';
import { isAppError } from '../services/errors';
import { createLogger } from '../services/logger';
import { loadAccessSettings } from './access/accountAccess';
import { createBotAdapter } from './botAdapter';
import { loadBotSettings } from './botSettings';
import { createEnrollmentApp } from './enrollmentApp';
import { handleTurnError } from './turnErrors';
import { TurnLogging } from './turnLogging';

/** Azure App Service waits 30 s after SIGTERM before it kills a container. */
const SHUTDOWN_TIMEOUT_MS = 25_000;

async function main(): Promise<void> {
  const config = loadConfig();
  const botSettings = loadBotSettings();
  const access = loadAccessSettings();
  const log = createLogger(config.logLevel);
  if (!botSettings.authenticated) {
    log.warn('MicrosoftAppId is not set: the bot accepts unauthenticated requests. Use this only locally.');
  }
  if (access.admins.size === 0)
    log.warn('ADMINS is empty: only administrators added with "enroll admins add" can import.');

  const adapter = createBotAdapter(botSettings);
  adapter.use(new TurnLogging(log));
  adapter.onTurnError = (context, error) => handleTurnError(context, error, log);

  const services = await openEnrollmentServices(config, log);
  const app = await createEnrollmentApp({
    config,
    services,
    adapter,
    appId: botSettings.auth.MicrosoftAppId ?? '',
    access,
    log,
    allowLoopbackHttp: !botSettings.authenticated,
  });

  await new Promise<void>((resolve) => app.server.listen(config.port, resolve));
  log.info('Enrollment Assistant is listening', { port: config.port, messages: '/api/messages' });
  services.outbox.start(5000);
  app.runner.start();
  log.info('Mail delivery', { via: services.mail.description });

  const shutdown = async (signal: string) => {
    log.info('Shutting down', { signal });
    // A turn or batch that hangs must not keep a stopping instance alive for ever.
    setTimeout(() => {
      log.error('Shutdown took too long; exiting anyway', { afterMs: SHUTDOWN_TIMEOUT_MS });
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    // The importer gives its job back after the current batch, so another instance resumes it at once.
    await app.close();
    await services.close();
    log.info('Stopped cleanly');
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${isAppError(err) ? err.message : ((err as Error).stack ?? String(err))}\n`);
  process.exit(1);
});
