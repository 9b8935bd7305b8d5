import { TestAdapter, type Activity } from 'botbuilder';
import { loadAccessSettings } from '../../bot/access/accountAccess';
import { downloadAttachment, pickUserFile } from '../../bot/attachments/attachmentDownloader';
import { EnrollmentBot, NOT_YET_TEXT, WELCOME_TEXT } from '../../bot/enrollmentBot';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;
let bot: EnrollmentBot;

beforeAll(async () => {
  t = await openTestDatabase();
  const imports = new ImportService(t.db, { maxFileBytes: 1024 * 1024 });
  bot = new EnrollmentBot({
    access: loadAccessSettings({
      DEFAULT_ACCOUNT: 'acme',
      ADMINS: 'admin-1',
      TENANT_ACCOUNTS: 'tenant-1=acme',
    }),
    receiveFile: async (attachments) =>
      downloadAttachment(pickUserFile(attachments), {
        maxBytes: 1024 * 1024,
        allowedHosts: [],
        allowLoopbackHttp: false,
      }),
    plan: (source, accountId) => imports.plan(source, accountId),
  });
});
afterAll(async () => t.close());

const csv = (text: string) => ({
  contentType: 'text/csv',
  name: 'users.csv',
  contentUrl: `data:text/csv;base64,${Buffer.from(text).toString('base64')}`,
});

function adapter(channelId = 'webchat', from = { id: 'admin-1', name: 'Admin' }) {
  return new TestAdapter((context) => bot.run(context), {
    channelId,
    from,
    recipient: { id: 'bot', name: 'Enrollment Assistant' },
    conversation: {
      id: `conv-${channelId}-${from.id}`,
      isGroup: false,
      conversationType: 'personal',
      name: 'chat',
    },
  });
}

function message(attachments: unknown[], extra: Partial<Activity> = {}): Partial<Activity> {
  return { type: 'message', text: '', attachments: attachments as Activity['attachments'], ...extra };
}

describe('the bot before the import dialog exists', () => {
  it('explains itself when there is no file', async () => {
    await adapter()
      .send('hello')
      .assertReply((reply) => expect(reply.text).toContain(WELCOME_TEXT))
      .startTest();
  });

  it('previews a file for an administrator and writes nothing', async () => {
    const file =
      'Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\nbad-email,Bob,Ray,New\nsam@acme.com,Sam,Lee,\n';
    await adapter()
      .send(message([csv(file)]))
      .assertReply('Got it, reading your file…')
      .assertReply((reply) => {
        expect(reply.text).toContain('**users.csv**: 3 rows, UTF-8, comma-separated.');
        expect(reply.text).toContain('create 1, update 0, activate 0 and delete 0');
        expect(reply.text).toContain('Invalid email: 1 (rows 3)');
        expect(reply.text).toContain('choose a default');
        expect(reply.text).toContain(NOT_YET_TEXT);
      })
      .startTest();
    expect(await t.db.collection(USERS_COLLECTION).countDocuments()).toBe(0);
  });

  it('tells the admin exactly what is wrong with a bad file', async () => {
    await adapter()
      .send(message([csv('')]))
      .assertReply('Got it, reading your file…')
      .assertReply((reply) => expect(reply.text).toMatch(/empty/i))
      .startTest();
  });

  it('refuses someone who is not an administrator, with no data', async () => {
    await adapter('webchat', { id: 'intruder', name: 'Eve' })
      .send(message([csv('Email ID\njane@acme.com\n')]))
      .assertReply((reply) => {
        expect(reply.text).toMatch(/only the administrators/);
        expect(reply.text).toContain('intruder');
      })
      .startTest();
  });

  it('refuses a Teams tenant that is not linked to an account', async () => {
    await adapter('msteams')
      .send(
        message([csv('Email ID\njane@acme.com\n')], { channelData: { tenant: { id: 'unknown-tenant' } } }),
      )
      .assertReply((reply) => expect(reply.text).toMatch(/not linked/))
      .startTest();
  });
});
