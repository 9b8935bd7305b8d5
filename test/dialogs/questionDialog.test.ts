import type { Activity } from 'botbuilder';
import { DialogTestClient } from 'botbuilder-testing';
import { createQuestionServices } from '../../bot/questionServices';
import { FILE_CONSENT_CARD } from '../../bot/teams/reportFileConsent';
import type { MoreCursor } from '../../dialogs/answers/moreCursor';
import { QuestionAnswers } from '../../dialogs/answers/questionAnswers';
import { QuestionDialog, type QuestionDialogOptions } from '../../dialogs/questionDialog';
import { IMPORTS_COLLECTION } from '../../services/db/indexes';
import type { ImportRecord } from '../../services/history/importRecord';
import { ImportResults } from '../../services/history/importResults';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

/** The moment the questions are asked; recorded imports are moved to fixed times before it. */
const NOW = new Date('2030-03-10T12:00:00.000Z');
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;
const HEADER = 'Email ID,First Name,Last Name,Title,User Status\n';

let t: TestDatabase;
let imports: ImportService;
let answers: QuestionAnswers;
let services: ReturnType<typeof createQuestionServices>;
/** What the dialog last asked the bot to remember for "show more". */
let remembered: MoreCursor | undefined;
const recorded: Record<string, ImportRecord> = {};

/** Imports a file through the engine, as the background job does, then moves it to a fixed time. */
async function recordImport(
  accountId: string,
  name: string,
  rows: string,
  by: string,
  createdAt: Date,
): Promise<ImportRecord> {
  const record = await imports.commit(
    fileSourceFromBuffer(name, Buffer.from(HEADER + rows)),
    accountId,
    {},
    {
      by,
    },
  );
  await t.db.collection(IMPORTS_COLLECTION).updateOne({ _id: record._id as never }, { $set: { createdAt } });
  return { ...record, createdAt };
}

beforeAll(async () => {
  t = await openTestDatabase();
  imports = new ImportService(t.db, { maxFileBytes: 1024 * 1024, batchSize: 2 });
  const results = new ImportResults(
    t.db,
    imports.history,
    (importId, accountId) => `https://bot.example.com/reports/${importId}.csv?a=${accountId}`,
    (importId, accountId) => `https://bot.example.com/reports/${importId}.fix.csv?a=${accountId}`,
  );
  services = createQuestionServices(
    t.db,
    imports.history,
    results,
    (importId, accountId) => `https://bot.example.com/reports/${importId}.csv?a=${accountId}`,
    imports.undo,
  );
  answers = new QuestionAnswers(services);

  recorded.first = await recordImport(
    'acme',
    'users.csv',
    'jane@acme.com,Jane,Doe,Engineer,New\nsam@acme.com,Sam,Lee,,New\nbad-email,Bob,Ray,,New\n',
    'Ann Admin',
    new Date(NOW.getTime() - 2 * DAY),
  );
  recorded.second = await recordImport(
    'acme',
    'staff.txt',
    'jane@acme.com,Jane,Doe,Lead,Update\nnewguy@acme.com,New,Guy,,New\n',
    'Sam Boss',
    new Date(NOW.getTime() - DAY),
  );
  recorded.third = await recordImport(
    'acme',
    'users.csv',
    'sam@acme.com,Sam,Lee,,Delete\nnot-an-address@,X,Y,,New\n',
    'Ann Admin',
    new Date(NOW.getTime() - HOUR),
  );
  recorded.other = await recordImport(
    'globex',
    'other.csv',
    'jane@acme.com,Jane,Other,,New\n',
    'Gil',
    new Date(NOW.getTime() - HOUR),
  );
  // One invitation could not be delivered.
  await t.db.collection(USERS_COLLECTION).updateOne(
    { accountId: 'acme', email: 'newguy@acme.com' },
    {
      $set: { 'invitation.state': 'failed', 'invitation.lastError': 'mailbox unavailable', mailDue: false },
    },
  );
});
afterAll(async () => t.close());

type Expect = string | RegExp | ((reply: Partial<Activity>) => void);
type Turn = [say: string | Partial<Activity>, replies: Expect[]];

const cardJson = (reply: Partial<Activity>) => JSON.stringify(reply.attachments?.[0]?.content ?? {});
const suggested = (reply: Partial<Activity>) => reply.suggestedActions?.actions.map((a) => a.value) ?? [];

function check(reply: Partial<Activity> | undefined, expected: Expect): void {
  expect(reply).toBeDefined();
  if (typeof expected === 'string') expect(reply?.text).toBe(expected);
  else if (expected instanceof RegExp) expect(reply?.text).toMatch(expected);
  else expected(reply as Partial<Activity>);
}

const ask = (
  intent: QuestionDialogOptions['intent'],
  entities: QuestionDialogOptions['entities'] = {},
  more: Partial<QuestionDialogOptions> = {},
): QuestionDialogOptions => ({
  accountId: 'acme',
  adminName: 'Sam Boss',
  intent,
  entities,
  utcOffsetMinutes: 0,
  ...more,
});

/**
 * Starts the dialog with the question and plays a table of [admin says, bot replies]; the first row's
 * replies answer the question itself (its "say" is ignored).
 */
async function play(
  channelId: string,
  options: QuestionDialogOptions,
  turns: Turn[],
): Promise<DialogTestClient> {
  remembered = undefined;
  const dialog = new QuestionDialog(
    answers,
    services,
    services,
    async (_context, cursor) => {
      remembered = cursor;
    },
    () => NOW,
  );
  const client = new DialogTestClient(channelId, dialog, options);
  for (const [index, [say, replies]] of turns.entries()) {
    const activity = typeof say === 'string' ? { type: 'message', text: say } : say;
    let reply = (await client.sendActivity(index === 0 ? { type: 'message', text: '' } : activity)) as
      Partial<Activity> | undefined;
    for (const expected of replies) {
      check(reply, expected);
      reply = client.getNextReply() as Partial<Activity> | undefined;
    }
    expect(reply).toBeUndefined();
  }
  return client;
}

const ended = (client: DialogTestClient) => expect(client.dialogTurnResult.status).toBe('complete');

describe.each(['msteams', 'webchat'])('questions about past imports on %s', (channelId) => {
  it('history.last: the latest import, with its number, admin and counts', async () => {
    const client = await play(channelId, ask('history.last'), [
      [
        '',
        [
          (r) => {
            expect(r.text).toMatch(/^#3, today by Ann Admin\. Import finished: users\.csv \(import #3\)\./);
            expect(r.text).toContain('deleted 1');
            expect(r.text).toContain('ignored 1');
            expect(cardJson(r)).toContain('"title":"Deleted","value":"1"');
            expect(cardJson(r)).toContain(`/reports/${recorded.third?._id ?? ''}.csv`);
          },
        ],
      ],
    ]);
    ended(client);
  });

  it('history.list: every import as a table, newest first, with totals', async () => {
    await play(channelId, ask('history.list'), [
      [
        '',
        [
          (r) => {
            expect(r.text).toBe('3 imports; the newest is #3 users.csv today.');
            const card = cardJson(r);
            expect(card.indexOf('"#3"')).toBeLessThan(card.indexOf('"#2"'));
            expect(card.indexOf('"#2"')).toBeLessThan(card.indexOf('"#1"'));
            expect(card).toContain('staff.txt');
            expect(card).toContain('by Sam Boss');
            expect(card).toContain('"yesterday"');
            expect(card).toContain('"Mar 8"');
            // Totals over all three imports: 3 created, 1 updated, 1 deleted, 2 ignored.
            expect(card).toContain('3 imports in all: 3 created, 1 updated, 1 deleted, 2 ignored.');
            expect(card).not.toContain('other.csv');
          },
        ],
      ],
    ]);
    expect(remembered).toBeUndefined();
  });

  it.each<[string, Partial<QuestionDialogOptions>, string]>([
    [
      'a file name',
      { entities: { fileName: 'USERS.csv' } },
      '2 imports of USERS.csv; the newest is #3 users.csv today.',
    ],
    [
      'an admin by name',
      { admin: { kind: 'named', name: 'ann' } },
      '2 imports by ann; the newest is #3 users.csv today.',
    ],
    [
      'the asking admin',
      { admin: { kind: 'self' } },
      '1 import by Sam Boss; the newest is #2 staff.txt yesterday.',
    ],
    [
      'a period',
      { entities: { from: '2030-03-09T00:00:00.000Z', to: '2030-03-09T23:59:59.999Z' } },
      '1 import yesterday; the newest is #2 staff.txt yesterday.',
    ],
  ])('history.list filtered by %s', async (_what, filter, expected) => {
    await play(channelId, { ...ask('history.list'), ...filter }, [['', [expected]]]);
  });

  it('history.list: nothing in the period gets a helpful answer, not an error', async () => {
    await play(
      channelId,
      ask('history.list', { from: '2030-03-10T00:00:00.000Z' }, { utcOffsetMinutes: 0 }),
      [['', [(r) => expect(r.text).toBe('1 import since today; the newest is #3 users.csv today.')]]],
    );
    await play(channelId, ask('history.list', { from: '2031-01-01T00:00:00.000Z' }), [
      [
        '',
        ['I found no imports since Jan 1, 2031. Try a wider period, or ask "list imports" for all of them.'],
      ],
    ]);
  });

  it('import.details: one import by number', async () => {
    await play(channelId, ask('import.details', { importRef: '2' }), [
      [
        '',
        [
          (r) => {
            expect(r.text).toMatch(
              /^#2, yesterday by Sam Boss\. Import finished: staff\.txt \(import #2\)\./,
            );
            expect(cardJson(r)).toContain('"title":"Updated","value":"1"');
          },
        ],
      ],
    ]);
  });

  it('import.details: an unknown number, or another account’s, is not found', async () => {
    await play(channelId, ask('import.details', { importRef: '9' }), [
      ['', ['I found no import #9 in this account. Ask "list imports" to see them all.']],
    ]);
    await play(channelId, ask('import.details', { importRef: recorded.other?._id }), [
      [
        '',
        [
          `I found no import ${recorded.other?._id ?? ''} in this account. Ask "list imports" to see them all.`,
        ],
      ],
    ]);
  });

  it('import.details: several imports fit, so it asks which one and takes the answer', async () => {
    const client = await play(channelId, ask('import.details', { fileName: 'users.csv' }), [
      [
        '',
        [
          (r) => {
            expect(r.text).toBe('Which import: #3 users.csv today, or #1 users.csv Mar 8?');
            expect(suggested(r)).toEqual(['#3', '#1', 'cancel']);
          },
        ],
      ],
      ['the one from tuesday', ['Please pick one of #3, #1 (say its number), or say "cancel".']],
      ['help', [/^Say which import you mean by its number/]],
      ['the second one', [/^#1, Mar 8 by Ann Admin\. Import finished: users\.csv \(import #1\)\./]],
    ]);
    ended(client);
  });

  it('import.details: the choice can be typed as a number or cancelled', async () => {
    await play(channelId, ask('import.details', { fileName: 'users.csv' }), [
      ['', [/^Which import:/]],
      ['#3', [/^#3, today by Ann Admin\./]],
    ]);
    const client = await play(channelId, ask('report.download', { fileName: 'users.csv' }), [
      ['', [/^Which import:/]],
      ['cancel', ['OK, I left everything as it was.']],
    ]);
    ended(client);
  });

  it('import.problems: the rows not imported, with row numbers and reasons', async () => {
    await play(channelId, ask('import.problems', { importRef: '1' }), [
      [
        '',
        [
          (r) => {
            expect(r.text).toMatch(/^1 row of #1 users\.csv was not imported, mostly: .*email/);
            const card = cardJson(r);
            expect(card).toContain('"text":"4"');
            expect(card).toContain('bad-email');
            expect(card).toContain('Download report (CSV)');
          },
        ],
      ],
    ]);
    await play(channelId, ask('import.problems', { importRef: '2' }), [
      ['', ['Every row of #2 staff.txt was imported: nothing was ignored or failed.']],
    ]);
  });

  it('user.lookup: one person across imports, newest first, and where they stand now', async () => {
    await play(channelId, ask('user.lookup', { email: 'jane@acme.com' }), [
      [
        '',
        [
          (r) => {
            expect(r.text).toBe(
              'jane@acme.com: updated by import #2 (staff.txt, yesterday). 2 imports mention them in all. ' +
                'They are invited (not signed in yet) now.',
            );
            const card = cardJson(r);
            expect(card).toContain('Title: Engineer → Lead');
            expect(card.indexOf('"#2"')).toBeLessThan(card.indexOf('"#1"'));
            // globex's Jane is another account's user.
            expect(card).not.toContain('Other');
          },
        ],
      ],
    ]);
  });

  it('user.lookup: asks for the address when none was given', async () => {
    const client = await play(channelId, ask('user.lookup'), [
      ['', ['Which user do you mean? Send me their email address, such as jane@acme.com.']],
      ['sam', ['I need an email address, such as jane@acme.com, to look a user up. Or say "cancel".']],
      [
        'it is sam@acme.com',
        [/^sam@acme\.com: deleted by import #3 \(users\.csv, today\)\. 2 imports mention them/],
      ],
    ]);
    ended(client);
  });

  it('user.lookup: an address no import mentions', async () => {
    await play(channelId, ask('user.lookup', { email: 'nobody@acme.com' }), [
      [
        '',
        [
          'No import in this account mentions nobody@acme.com, and there is no user with that address. ' +
            'Check the spelling, or ask "list imports" to see what was imported.',
        ],
      ],
    ]);
  });

  it('invitations.status: by import, and for the whole account with the failed ones', async () => {
    await play(channelId, ask('invitations.status', { importRef: '1' }), [
      ['', ['2 invitations for #1 users.csv: 0 sent, 2 waiting, 0 failed.']],
    ]);
    await play(channelId, ask('invitations.status'), [
      [
        '',
        [
          (r) => {
            expect(r.text).toBe(
              '3 invitations in this account: 0 sent, 2 waiting, 1 failed. Say "resend failed invitations" to try the failed ones again.',
            );
            const card = cardJson(r);
            expect(card).toContain('newguy@acme.com');
            expect(card).toContain('mailbox unavailable');
            expect(card).toContain('"action":"resendInvitations"');
          },
        ],
      ],
    ]);
    await play(channelId, ask('invitations.status', { importRef: '3' }), [
      ['', ['#3 users.csv sent no invitations: it created no new users.']],
    ]);
  });

  it('import.retry: the rows not imported as a file to fix and send back', async () => {
    await play(channelId, ask('import.retry', { importRef: '1' }), [
      [
        '',
        [
          (r) => {
            expect(r.text).toContain(
              `Here is the row of #1 users.csv that was not imported, to fix: https://bot.example.com/reports/${recorded.first?._id ?? ''}.fix.csv?a=acme Correct them`,
            );
            expect(cardJson(r)).toContain('Download the rows to fix (CSV)');
          },
        ],
      ],
    ]);
    await play(channelId, ask('import.retry', { importRef: '2' }), [
      ['', ['Every row of #2 staff.txt was imported: there is nothing to fix.']],
    ]);
  });

  it('report.download: a signed link, and in Teams the file too', async () => {
    await play(channelId, ask('report.download', { importRef: '1' }), [
      [
        '',
        [
          (r) => {
            expect(r.text).toBe(
              `Here is the per-row report of #1 users.csv: https://bot.example.com/reports/${recorded.first?._id ?? ''}.csv?a=acme`,
            );
            const kinds = (r.attachments ?? []).map((a) => a.contentType);
            expect(kinds).toEqual(
              channelId === 'msteams'
                ? ['application/vnd.microsoft.card.adaptive', FILE_CONSENT_CARD]
                : ['application/vnd.microsoft.card.adaptive'],
            );
          },
        ],
      ],
    ]);
  });
});

describe('invitations.resend', () => {
  const newguy = () =>
    t.db.collection(USERS_COLLECTION).findOne({ accountId: 'acme', email: 'newguy@acme.com' });

  it('says what it would resend, and leaves it when the admin says no', async () => {
    const client = await play('webchat', ask('invitations.resend'), [
      [
        '',
        [
          (r) => {
            expect(r.text).toBe('I will send 1 failed invitation again in this account. Resend them?');
            expect(cardJson(r)).toContain('"action":"confirmResend"');
          },
        ],
      ],
      ['maybe later', ['Say "yes" to resend them, or "no" to leave them as they are.']],
      ['no', ['OK, I left everything as it was.']],
    ]);
    ended(client);
    expect((await newguy())?.invitation?.state).toBe('failed');
  });

  it('queues the failed invitation again when confirmed, then finds nothing more to resend', async () => {
    await play('msteams', ask('invitations.resend', { importRef: '2' }), [
      ['', ['I will send 1 failed invitation again for #2 staff.txt. Resend them?']],
      [
        { type: 'message', text: '', value: { action: 'confirmResend' } },
        [
          'Done: 1 invitation will go out within a minute (1 that had failed). Ask "invitation status" to see how they get on.',
        ],
      ],
    ]);
    const user = await newguy();
    expect(user?.invitation?.state).toBe('pending');
    expect(user?.invitation?.attempts).toBe(0);
    expect(user?.mailDue).toBe(true);
    await play('msteams', ask('invitations.resend', { importRef: '2' }), [
      [
        '',
        [
          'There is nothing to resend for #2 staff.txt: no invitation failed, and waiting ones go out on their own.',
        ],
      ],
    ]);
  });
});

describe('invitations not accepted', () => {
  it('counts accepted ones and resends those delivered but not accepted, with a new link', async () => {
    await imports.commit(
      fileSourceFromBuffer(
        'invites.csv',
        Buffer.from(`${HEADER}kim@inv.com,Kim,Ko,,New\nlee@inv.com,Lee,Li,,New\n`),
      ),
      'invites',
      {},
      { by: 'Ann Admin' },
    );
    const people = t.db.collection(USERS_COLLECTION);
    const sentAt = new Date(Date.now() - DAY);
    await people.updateOne(
      { accountId: 'invites', email: 'kim@inv.com' },
      { $set: { 'invitation.state': 'sent', 'invitation.sentAt': sentAt, mailDue: false } },
    );
    await people.updateOne(
      { accountId: 'invites', email: 'lee@inv.com' },
      {
        $set: {
          'invitation.state': 'sent',
          'invitation.sentAt': sentAt,
          'invitation.acceptedAt': new Date(),
          status: 'active',
          mailDue: false,
        },
      },
    );
    await play('webchat', { ...ask('invitations.status'), accountId: 'invites' }, [
      ['', ['2 invitations in this account: 2 sent (1 accepted), 0 waiting, 0 failed.']],
    ]);
    // Without "not accepted" a resend only looks at failed and waiting ones.
    await play('webchat', { ...ask('invitations.resend'), accountId: 'invites' }, [
      [
        '',
        [
          'There is nothing to resend in this account: no invitation failed, and waiting ones go out on their own.',
        ],
      ],
    ]);
    await play('webchat', { ...ask('invitations.resend', {}, { notAccepted: true }), accountId: 'invites' }, [
      [
        '',
        ['I will send 1 invitation not accepted yet again (with a new link) in this account. Resend them?'],
      ],
      ['yes', [/^Done: 1 invitation will go out within a minute\./]],
    ]);
    const kim = await people.findOne({ accountId: 'invites', email: 'kim@inv.com' });
    expect(kim?.invitation?.state).toBe('pending');
    expect(kim?.mailDue).toBe(true);
    const lee = await people.findOne({ accountId: 'invites', email: 'lee@inv.com' });
    expect(lee?.invitation?.state).toBe('sent');
  });
});

describe('long answers', () => {
  beforeAll(async () => {
    for (let i = 0; i < 12; i++) {
      await recordImport(
        'bulk',
        `batch-${i + 1}.csv`,
        `u${i}@bulk.com,U,${i},,New\n`,
        'Bea',
        new Date(NOW.getTime() - (12 - i) * HOUR),
      );
    }
    const bad = Array.from({ length: 20 }, (_, i) => `broken-${i}@,B,${i},,New`).join('\n');
    await recordImport('bulk', 'broken.csv', `${bad}\n`, 'Bea', new Date(NOW.getTime() - 10 * 60 * 1000));
  });

  it('pages a long list of imports with "show more"', async () => {
    await play('webchat', { ...ask('history.list'), accountId: 'bulk' }, [
      [
        '',
        [
          (r) => {
            expect(r.text).toBe(
              '13 imports; the newest is #13 broken.csv today. Showing 1 to 10; say "show more" for the next ones.',
            );
            expect(cardJson(r)).toContain('"action":"showMore"');
          },
        ],
      ],
    ]);
    expect(remembered).toEqual({ kind: 'imports', skip: 10 });
    const ctx = { accountId: 'bulk', channelId: 'webchat', now: NOW, utcOffsetMinutes: 0 };
    const next = await answers.more(ctx, remembered as MoreCursor);
    expect(next.activity.text).toBe('13 imports. Showing 11 to 13.');
    expect(cardJson(next.activity)).toContain('batch-1.csv');
    expect(cardJson(next.activity)).not.toContain('batch-4.csv');
    expect(next.more).toBeUndefined();
    // Another account's cursor never reaches this account's imports.
    const foreign = await answers.more(
      { ...ctx, accountId: 'acme' },
      { kind: 'problems', skip: 0, importId: recorded.first?._id ?? '' },
    );
    expect(foreign.activity.text).toMatch(/^1 row of #1 users\.csv/);
    const stolen = await answers.more(ctx, {
      kind: 'problems',
      skip: 0,
      importId: recorded.first?._id ?? '',
    });
    expect(stolen.activity.text).toBe('I could not find that import in this account.');
  });

  it('pages the rows not imported', async () => {
    await play('webchat', { ...ask('import.problems'), accountId: 'bulk' }, [
      [
        '',
        [
          (r) => {
            expect(r.text).toMatch(
              /^20 rows of #13 broken\.csv were not imported, mostly: .*Showing 1 to 15; say "show more" for the rest\.$/,
            );
            expect(cardJson(r)).toContain('broken-14@');
            expect(cardJson(r)).not.toContain('broken-15@');
          },
        ],
      ],
    ]);
    const ctx = { accountId: 'bulk', channelId: 'webchat', now: NOW, utcOffsetMinutes: 0 };
    const next = await answers.more(ctx, remembered as MoreCursor);
    expect(cardJson(next.activity)).toContain('broken-19@');
    expect(cardJson(next.activity)).toContain('"text":"21"');
    expect(cardJson(next.activity)).not.toContain('broken-14@');
    expect(next.more).toBeUndefined();
  });
});

describe('import.undo', () => {
  const users = () =>
    t.db.collection(USERS_COLLECTION).find({ accountId: 'undoacct' }).sort({ email: 1 }).toArray();

  it('shows what the undo does, asks, undoes, and can take the undo back', async () => {
    // Recorded now (the undo window counts from the real clock), by the engine as the background job does.
    await imports.commit(
      fileSourceFromBuffer(
        'team.csv',
        Buffer.from(`${HEADER}ana@team.com,Ana,Ito,,New\nbo@team.com,Bo,Berg,,New\n`),
      ),
      'undoacct',
      {},
      { by: 'Ann Admin' },
    );
    const undoAsked = (r: Partial<Activity>) => {
      expect(r.text).toMatch(
        /^Undoing #1 team\.csv \(.+, by Ann Admin\) deletes the 2 users it created and cancels 2 waiting messages\. Undo it\?$/,
      );
      expect(cardJson(r)).toContain('"action":"confirmUndo"');
      expect(cardJson(r)).toContain('Created users to delete again');
    };
    await play('webchat', { ...ask('import.undo'), accountId: 'undoacct' }, [
      ['', [undoAsked]],
      ['cancel', ['OK, I left everything as it was.']],
    ]);
    expect((await users()).map((u) => u.status)).toEqual(['invited', 'invited']);

    const client = await play('msteams', { ...ask('import.undo'), accountId: 'undoacct' }, [
      ['', [undoAsked]],
      ['hmm', ['Say "undo" to undo it as shown, or "cancel" to leave everything as it is.']],
      [
        'yes, undo it',
        [
          (r) => expect(r.type).toBe('typing'),
          (r) => {
            expect(r.text).toBe(
              'Undone: #1 team.csv. It deleted the 2 users it created and cancelled 2 waiting messages. ' +
                'The undo is import #2; say "undo import #2" to take it back.',
            );
            expect(cardJson(r)).toContain('Created users deleted again');
          },
        ],
      ],
    ]);
    ended(client);
    expect((await users()).map((u) => [u.status, u.invitation?.state])).toEqual([
      ['deleted', 'cancelled'],
      ['deleted', 'cancelled'],
    ]);

    // The undo is an import of its own: undoing it brings the users back.
    await play('webchat', { ...ask('import.undo', { importRef: '2' }), accountId: 'undoacct' }, [
      [
        '',
        [
          (r) => {
            expect(r.text).toMatch(/^Undoing #2 Undo of #1 team\.csv \(.+\) .*Undo it\?$/);
            expect(cardJson(r)).toContain('is itself the undo of #1');
          },
        ],
      ],
      [
        { type: 'message', text: '', value: { action: 'confirmUndo' } },
        [(r) => expect(r.type).toBe('typing'), /^Undone: #2 Undo of #1 team\.csv\. .*The undo is import #3;/],
      ],
    ]);
    expect((await users()).map((u) => u.status)).toEqual(['invited', 'invited']);

    // An import already undone says so, and by which import.
    await play('webchat', { ...ask('import.undo', { importRef: '2' }), accountId: 'undoacct' }, [
      ['', [/#3/]],
    ]);
  });
});
