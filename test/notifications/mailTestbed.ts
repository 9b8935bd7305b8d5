import { silentLogger } from '../../services/logger';
import { createMailTransport, type MailTransport } from '../../services/notifications/mailTransport';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { startSmtpTestServer, type SmtpTestServer } from './smtpTestServer';
import { testClock } from './userFixtures';

/** A database, a real SMTP server with a transport to it, and a clock the test moves by hand. */
export interface MailTestbed {
  t: TestDatabase;
  smtp: SmtpTestServer;
  transport: MailTransport;
  clock: ReturnType<typeof testClock>;
}

/**
 * Sets up a {@link MailTestbed} for the enclosing describe block: opened once, emptied of users and mail
 * before each test. Its fields are filled in by the hooks, so read them inside tests only.
 */
export function useMailTestbed(): MailTestbed {
  const bed = {} as MailTestbed;
  beforeAll(async () => {
    bed.t = await openTestDatabase();
    bed.smtp = await startSmtpTestServer();
    bed.transport = createMailTransport(
      { smtpUrl: bed.smtp.url, mailFrom: 'Acme IT <it@acme.example>', dataDir: '/nonexistent' },
      silentLogger,
    );
  });
  afterAll(async () => {
    await bed.transport.close();
    await bed.smtp.close();
    await bed.t.close();
  });
  beforeEach(async () => {
    await bed.t.db.collection(USERS_COLLECTION).deleteMany({});
    bed.smtp.received.length = 0;
    bed.smtp.rcptAttempts.length = 0;
    bed.smtp.rejectRecipients = false;
    bed.clock = testClock();
  });
  return bed;
}
