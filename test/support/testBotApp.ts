import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { loadAccessSettings } from '../../bot/access/accountAccess';
import { createBotAdapter, type BotAdapterOverrides } from '../../bot/botAdapter';
import { loadBotSettings } from '../../bot/botSettings';
import { createEnrollmentApp, type EnrollmentApp } from '../../bot/enrollmentApp';
import { handleTurnError } from '../../bot/turnErrors';
import { TurnLogging } from '../../bot/turnLogging';
import { loadConfig } from '../../services/config';
import { openEnrollmentServices, type EnrollmentServices } from '../../services/enrollmentServices';
import { createLogger } from '../../services/logger';

export interface TestBotApp {
  url: string;
  app: EnrollmentApp;
  services: EnrollmentServices;
  logLines: string[];
  close(): Promise<void>;
}

/**
 * The whole bot as `npm start` assembles it, on a fresh database of the test server, listening on a free
 * loopback port. The importer is not started: tests run jobs with `app.runner.runOnce()` when they want.
 */
export async function startTestBotApp(
  env: NodeJS.ProcessEnv = {},
  adapterOverrides?: BotAdapterOverrides,
  appOptions: { inlinePlanMaxBytes?: number } = {},
): Promise<TestBotApp> {
  const uri = process.env.TEST_MONGODB_URI;
  if (!uri) throw new Error('TEST_MONGODB_URI is not set: run the tests through jest');
  const dbName = `bot${randomBytes(6)
    .toString('hex')
    .replace(/[0-9]/g, (d) => 'abcdefghij'[Number(d)] ?? 'x')}`;
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'enrollment-bot-'));
  // The local Web Chat channel is left to the tests about it.
  const fullEnv = {
    MONGODB_URI: uri,
    MONGODB_DB: dbName,
    DATA_DIR: dataDir,
    PORT: '0',
    LOCAL_CHANNEL: 'off',
    ...env,
  };
  const config = loadConfig(fullEnv);
  const botSettings = loadBotSettings(fullEnv);
  const logLines: string[] = [];
  const log = createLogger('debug', (line) => logLines.push(line));
  const adapter = createBotAdapter(botSettings, adapterOverrides);
  adapter.use(new TurnLogging(log));
  adapter.onTurnError = (context, error) => handleTurnError(context, error, log);
  const services = await openEnrollmentServices(config, log);
  const app = await createEnrollmentApp({
    config,
    services,
    adapter,
    appId: botSettings.auth.MicrosoftAppId ?? '',
    access: loadAccessSettings(fullEnv),
    log,
    allowLoopbackHttp: true,
    extraUploadHosts: ['127.0.0.1'],
    ...appOptions,
  });
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    app,
    services,
    logLines,
    close: async () => {
      app.server.server.closeAllConnections();
      await app.close();
      await services.close();
      const client = await MongoClient.connect(uri);
      await client
        .db(dbName)
        .dropDatabase()
        .catch(() => undefined);
      await client.close();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}
