import { TestAdapter, type Activity } from 'botbuilder';
import {
  HELP_TEXT,
  IMPORT_START_TEXT,
  NOTHING_MORE_TEXT,
  NOTHING_TO_CANCEL_TEXT,
  WELCOME_TEXT,
} from '../../bot/enrollmentBot';
import { AccountDirectory } from '../../services/accounts/accountDirectory';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { startTestBotApp, type TestBotApp } from '../support/testBotApp';

const TENANT = '6f0c3b7e-1d2a-4c5b-9e8f-0a1b2c3d4e5f';
let bot: TestBotApp;

beforeAll(async () => {
  bot = await startTestBotApp({
    DEFAULT_ACCOUNT: 'acme',
    ADMINS: 'admin-1',
    TENANT_ACCOUNTS: `${TENANT}=acme`,
  });
});
afterAll(async () => bot.close());

let conversationSeq = 0;
function adapter(channelId: string, from = { id: 'admin-1', name: 'Ada' }, tenant = TENANT) {
  return new TestAdapter((context) => bot.app.bot.run(context), {
    channelId,
    from,
    recipient: { id: 'bot', name: 'Enrollment Assistant' },
    conversation: {
      id: `conv-${channelId}-${++conversationSeq}`,
      isGroup: false,
      conversationType: 'personal',
      name: 'chat',
      ...(channelId === 'msteams' ? { tenantId: tenant } : {}),
    },
  });
}

const csv = (text: string, name = 'users.csv') => ({
  contentType: 'text/csv',
  name,
  contentUrl: `data:text/csv;base64,${Buffer.from(text).toString('base64')}`,
});

const fileMessage = (text: string, name = 'users.csv', extra: Partial<Activity> = {}): Partial<Activity> => ({
  type: 'message',
  text: '',
  attachments: [csv(text, name)] as Activity['attachments'],
  ...extra,
});

const teamsData = (tenant = TENANT): Partial<Activity> => ({ channelData: { tenant: { id: tenant } } });
const cardJson = (reply: Partial<Activity>) => JSON.stringify(reply.attachments?.[0]?.content ?? {});
const CLEAN =
  'Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\nbad-email,Bob,Ray,New\n';

describe.each(['msteams', 'webchat'])('the bot on %s', (channelId) => {
  const extra = channelId === 'msteams' ? teamsData() : {};

  it('introduces itself and explains what it can do', async () => {
    await adapter(channelId)
      .send({ type: 'message', text: 'hello', ...extra })
      .assertReply((r) => expect(r.text).toContain(WELCOME_TEXT))
      .send({ type: 'message', text: 'help', ...extra })
      .assertReply(HELP_TEXT)
      .startTest();
  });

  it('refuses someone who is not an administrator, showing no data', async () => {
    await adapter(channelId, { id: 'intruder', name: 'Eve' })
      .send(fileMessage(CLEAN, 'users.csv', extra))
      .assertReply((r) => {
        expect(r.text).toMatch(/only the administrators of this account/);
        expect(r.text).toContain('intruder');
        expect(r.attachments ?? []).toHaveLength(0);
      })
      .send({ type: 'message', text: 'show last import results', ...extra })
      .assertReply((r) => expect(r.text).toMatch(/only the administrators/))
      .startTest();
  });

  it('lets administrators stored in the database in', async () => {
    await new AccountDirectory(bot.services.database.db).addAdmin('acme', 'stored-admin', 'test');
    await adapter(channelId, { id: 'stored-admin', name: 'Sam' })
      .send(fileMessage(CLEAN, 'users.csv', extra))
      .assertReply('Got it, reading your file…')
      .assertReply((r) => expect(r.text).toContain('users.csv: 2 rows'))
      .startTest();
  });

  it('uses a file sent during a review instead of the first one', async () => {
    await adapter(channelId)
      .send(fileMessage(CLEAN, 'first.csv', extra))
      .assertReply('Got it, reading your file…')
      .assertReply((r) => expect(r.text).toContain('first.csv'))
      .send(fileMessage(CLEAN, 'second.csv', extra))
      .assertReply('I set the previous plan aside (nothing was imported) and will use this file.')
      .assertReply('Got it, reading your file…')
      .assertReply((r) => expect(r.text).toContain('second.csv'))
      .send({ type: 'message', text: 'yes', ...extra })
      .assertReply((r) => expect(r.text).toMatch(/^Importing second\.csv now/))
      .startTest();
    const job = await bot.app.queue.active('acme');
    expect(job?.fileName).toBe('second.csv');
    // The job is never run here (its replies would go to the test adapter's made-up serviceUrl): drop it so
    // the account is free for the next test.
    await bot.services.database.db.collection('importJobs').deleteMany({ accountId: 'acme' });
  });
});

describe('answers about the latest import', () => {
  it('says when there is none, then shows results and ignored rows once an import ran', async () => {
    await adapter('webchat', { id: 'admin-1', name: 'Ada' })
      .send({ type: 'message', text: 'show last import results' })
      .assertReply('This account has no imports yet. Send me a user file (CSV, TXT or Excel) to start one.')
      .startTest();

    // An import run through the engine, as the background job would.
    const record = await bot.services.imports.commit(
      fileSourceFromBuffer('staff.csv', Buffer.from(CLEAN)),
      'acme',
      {},
      { by: 'Ada' },
    );
    await adapter('webchat')
      .send({ type: 'message', text: 'Show last import results' })
      .assertReply((r) => {
        expect(r.text).toContain(`Import finished: staff.csv (import #${record.number}).`);
        expect(r.text).toContain('ignored 1');
        expect(cardJson(r)).toContain('"title":"Created","value":"1"');
        expect(cardJson(r)).toMatch(/reports\/imp_[a-z0-9]+\.csv\?/);
      })
      .send({ type: 'message', text: 'show ignored rows' })
      .assertReply((r) => {
        expect(r.text).toMatch(/^1 row of #\d+ staff\.csv was not imported, mostly: .*email/);
        expect(cardJson(r)).toContain('"text":"3"');
        expect(cardJson(r)).toContain('bad-email');
      })
      .send({ type: 'message', text: '', value: { action: 'showIgnored', importId: record._id } })
      .assertReply((r) => expect(cardJson(r)).toContain('bad-email'))
      .startTest();
    expect(
      await bot.services.database.db.collection(USERS_COLLECTION).countDocuments({ accountId: 'acme' }),
    ).toBeGreaterThan(0);
  });

  it('never shows another account an import', async () => {
    const other = await bot.services.imports.commit(
      fileSourceFromBuffer('other.csv', Buffer.from(CLEAN)),
      'globex',
      {},
      { by: 'Gil' },
    );
    await adapter('webchat')
      .send({ type: 'message', text: '', value: { action: 'showResults', importId: other._id } })
      .assertReply('I could not find that import in this account.')
      .startTest();
  });
});

describe('understanding what the admin says', () => {
  it('answers small talk, the other intents and a "show more" with nothing to continue', async () => {
    await adapter('webchat')
      .send({ type: 'message', text: 'Good morning' })
      .assertReply((r) => expect(r.text).toContain(WELCOME_TEXT))
      .send({ type: 'message', text: 'cancel' })
      .assertReply(NOTHING_TO_CANCEL_TEXT)
      .send({ type: 'message', text: 'i want to import some new users' })
      .assertReply(IMPORT_START_TEXT)
      .send({ type: 'message', text: 'what can you do' })
      .assertReply(HELP_TEXT)
      .send({ type: 'message', text: 'show more' })
      .assertReply(NOTHING_MORE_TEXT)
      .startTest();
  });

  it('asks with suggested actions instead of guessing, and understands the suggestion', async () => {
    await adapter('msteams', { id: 'admin-1', name: 'Ada' })
      .send({ type: 'message', text: 'order me a pizza', ...teamsData() })
      .assertReply((r) => {
        expect(r.text).toMatch(/^I (am not sure what you mean|can only help with importing users)/);
        const actions = r.suggestedActions?.actions ?? [];
        expect(actions.length).toBeGreaterThanOrEqual(2);
        expect(actions.every((a) => a.type === 'imBack')).toBe(true);
      })
      .send({ type: 'message', text: 'List all imports', ...teamsData() })
      .assertReply((r) => {
        expect(r.text).toMatch(/^\d+ imports?; the newest is #\d+ /);
        expect(cardJson(r)).toContain('File and admin');
      })
      .send({ type: 'message', text: 'show more', ...teamsData() })
      .assertReply(NOTHING_MORE_TEXT)
      .startTest();
  });

  it('asks which import when a question fits several, in the admin’s words', async () => {
    for (const name of ['dup.csv', 'dup.csv']) {
      await bot.services.imports.commit(
        fileSourceFromBuffer(name, Buffer.from(CLEAN)),
        'acme',
        {},
        { by: 'Ada' },
      );
    }
    await adapter('webchat')
      .send({ type: 'message', text: 'what went wrong with dup.csv' })
      .assertReply((r) => {
        expect(r.text).toMatch(/^Which import: #(\d+) dup\.csv today, or #(\d+) dup\.csv today\?$/);
        expect(r.suggestedActions?.actions.map((a) => a.value)).toContain('cancel');
      })
      .send({ type: 'message', text: 'the first one' })
      .assertReply((r) => expect(r.text).toMatch(/^1 row of #\d+ dup\.csv was not imported/))
      // A new question while the assistant waits for an answer is taken as the new question.
      .send({ type: 'message', text: 'what went wrong with dup.csv' })
      .assertReply((r) => expect(r.text).toMatch(/^Which import:/))
      .send({ type: 'message', text: 'list all imports' })
      .assertReply((r) => expect(r.text).toMatch(/^\d+ imports; the newest is #\d+ dup\.csv today\./))
      .send({ type: 'message', text: 'the first one' })
      .assertReply((r) => expect(r.text).toMatch(/^I am not sure what you mean|^I can only help/))
      // A reply that is neither an answer nor a question is asked again; "stop" still leaves.
      .send({ type: 'message', text: 'look up a user' })
      .assertReply('Which user do you mean? Send me their email address, such as jane@acme.com.')
      .send({ type: 'message', text: 'hmm' })
      .assertReply('I need an email address, such as jane@acme.com, to look a user up. Or say "cancel".')
      .send({ type: 'message', text: 'stop' })
      .assertReply('OK, I left everything as it was.')
      .send({ type: 'message', text: 'what happened to jane@acme.com?' })
      .assertReply((r) =>
        expect(r.text).toMatch(/^jane@acme\.com: (created|unchanged|updated) by import #\d+ \(dup\.csv/),
      )
      .startTest();
  });
});

describe('issue 7 in the admin’s words', () => {
  it('offers the rows to fix, and undoes an import after showing what it does', async () => {
    const record = await bot.services.imports.commit(
      fileSourceFromBuffer(
        'undo-me.csv',
        Buffer.from(
          'Email ID,First Name,Last Name,User Status\numa@undo.com,Uma,Dee,New\nnot-an-email,Bob,Ray,New\n',
        ),
      ),
      'acme',
      {},
      { by: 'Ada' },
    );
    const label = `#${record.number} undo-me.csv`;
    await adapter('webchat')
      .send({ type: 'message', text: `fix the failed rows of import #${record.number}` })
      .assertReply((r) => {
        expect(r.text?.startsWith(`Here is the row of ${label} that was not imported`)).toBe(true);
        expect(r.text).toContain(`/reports/${record._id}.fix.csv?`);
      })
      .send({ type: 'message', text: 'undo the last import please' })
      .assertReply((r) =>
        expect(r.text?.startsWith(`Undoing ${label} (today, by Ada) deletes the 1 user it created`)).toBe(
          true,
        ),
      )
      .send({ type: 'message', text: 'undo' })
      .assertReply((r) => expect([r.type, r.text]).toEqual(['typing', undefined]))
      .assertReply((r) => expect(r.text?.startsWith(`Undone: ${label}.`)).toBe(true))
      .startTest();
    const uma = await bot.services.database.db
      .collection(USERS_COLLECTION)
      .findOne({ accountId: 'acme', email: 'uma@undo.com' });
    expect(uma?.status).toBe('deleted');
  });
});

describe('Teams organisations', () => {
  it('refuses a tenant that is not linked to an account', async () => {
    const stranger = '0e0e0e0e-1111-4222-8333-444455556666';
    await adapter('msteams', { id: 'admin-1', name: 'Ada' }, stranger)
      .send(fileMessage(CLEAN, 'users.csv', teamsData(stranger)))
      .assertReply((r) => expect(r.text).toMatch(/not linked to an Enrollment Assistant account/))
      .startTest();
  });
});
