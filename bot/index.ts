import { loadConfig } from '../services/config';
import { openEnrollmentServices } from '../services/enrollmentServices';
import { isAppError } from '../services/errors';
import { createLogger } from '../services/logger';
import { createHealthServer } from './healthServer';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const services = await openEnrollmentServices(config, log);

  const server = createHealthServer(async () => {
    await services.database.db.command({ ping: 1 });
    return true;
  });
  await new Promise<void>((resolve) => server.listen(config.port, resolve));
  log.info('Enrollment Assistant is listening', { port: config.port, engine: services.database.engine });
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
