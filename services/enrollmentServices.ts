import { AccountDirectory } from './accounts/accountDirectory';
import type { Config } from './config';
import { openDatabase, type Database } from './db/database';
import { ImportService } from './import/importService';
import type { Logger } from './logger';
import { createMailTransport, type MailTransport } from './notifications/mailTransport';
import { OutboxWorker } from './notifications/outboxWorker';

/** Everything a host (the CLI, the bot) needs from the domain, opened once. */
export interface EnrollmentServices {
  config: Config;
  database: Database;
  imports: ImportService;
  /** Stored tenant links and administrators of accounts. */
  accounts: AccountDirectory;
  mail: MailTransport;
  outbox: OutboxWorker;
  close(): Promise<void>;
}

/** Connects to the database and builds the domain services on it. */
export async function openEnrollmentServices(config: Config, log: Logger): Promise<EnrollmentServices> {
  const database = await openDatabase(config, log);
  const imports = new ImportService(database.db, {
    maxFileBytes: config.maxFileBytes,
    undoWindowDays: config.undoWindowDays,
  });
  const mail = createMailTransport(
    { smtpUrl: config.smtpUrl, mailFrom: config.mailFrom, dataDir: config.dataDir },
    log,
  );
  const outbox = new OutboxWorker({
    db: database.db,
    transport: mail,
    accountName: config.accountName,
    inviteUrlBase: config.inviteUrlBase,
    inviteTtlDays: config.inviteTtlDays,
    reminderDays: config.inviteReminderDays,
    log,
  });
  return {
    config,
    database,
    imports,
    accounts: new AccountDirectory(database.db),
    mail,
    outbox,
    close: async () => {
      await outbox.stop();
      await mail.close();
      await database.close();
    },
  };
}
