import type { Activity, Middleware } from 'botbuilder';
import { DialogTurnStatus } from 'botbuilder-dialogs';
import { DialogTestClient } from 'botbuilder-testing';
import { CANCELLED_TEXT } from '../../dialogs/cancelAndHelpDialog';
import { ImportDialog, type ImportDialogOptions, type ImportFlowServices } from '../../dialogs/importDialog';
import { attachPlanOutcome, type PlanOutcome } from '../../dialogs/planWaitDialog';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { ImportJobQueue } from '../../services/jobs/importJobQueue';
import { UploadStore } from '../../services/uploads/uploadStore';
import { USERS_COLLECTION } from '../../services/users/userTypes';
import { importFlowServices } from './importFlowServices';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;
let imports: ImportService;
let uploads: UploadStore;
let queue: ImportJobQueue;
let flow: ImportFlowServices;
/** Background plans the dialog asked for; the tests deliver them as the bot would. */
const plannedLater: Array<Parameters<ImportFlowServices['planLater']>[0]> = [];

beforeAll(async () => {
  t = await openTestDatabase();
  ({ flow, imports, uploads, queue } = importFlowServices(t.db, (request) => {
    plannedLater.push(request);
  }));
});
afterAll(async () => t.close());

let accountSeq = 0;
/** Each test imports into its own account, so queued jobs and users never meet. */
const newAccount = () => `acct${++accountSeq}`;

const csvAttachment = (text: string, name = 'users.csv') => ({
  contentType: 'text/csv',
  name,
  contentUrl: `data:text/csv;base64,${Buffer.from(text).toString('base64')}`,
});

const fileMessage = (attachments: unknown[]): Partial<Activity> => ({
  type: 'message',
  text: '',
  attachments: attachments as Activity['attachments'],
});

const submitValue = (value: Record<string, unknown>): Partial<Activity> => ({
  type: 'message',
  text: '',
  value,
});

type Card = { body: Array<Record<string, unknown>>; actions?: Array<Record<string, unknown>> };
const cardOf = (reply: Partial<Activity>): Card => reply.attachments?.[0]?.content as Card;
const cardText = (reply: Partial<Activity>) => JSON.stringify(cardOf(reply));
const planIdOf = (reply: Partial<Activity>) =>
  (cardOf(reply).actions?.[0]?.data as { planId: string } | undefined)?.planId ?? '';

/** An expected reply: its text matches, or the check passes. */
type Expect = string | RegExp | ((reply: Partial<Activity>) => void);
type Turn = [
  say: string | Partial<Activity> | ((last: Partial<Activity>) => Partial<Activity>),
  replies: Expect[],
];

function check(reply: Partial<Activity> | undefined, expected: Expect): void {
  expect(reply).toBeDefined();
  if (typeof expected === 'string') expect(reply?.text).toBe(expected);
  else if (expected instanceof RegExp) expect(reply?.text).toMatch(expected);
  else expected(reply as Partial<Activity>);
}

/** Plays a table of [admin says, bot replies] and returns the client for further checks. */
async function play(
  channelId: string,
  options: ImportDialogOptions,
  turns: Turn[],
): Promise<DialogTestClient> {
  const client = new DialogTestClient(channelId, new ImportDialog(flow), options);
  let last: Partial<Activity> = {};
  for (const [say, replies] of turns) {
    const activity = typeof say === 'function' ? say(last) : say;
    let reply = (await client.sendActivity(activity)) as Partial<Activity> | undefined;
    for (const expected of replies) {
      check(reply, expected);
      if (reply?.attachments?.length) last = reply;
      reply = client.getNextReply() as Partial<Activity> | undefined;
    }
    expect(reply?.text).toBeUndefined();
  }
  return client;
}

const READING = 'Got it, reading your file…';
const CLEAN =
  'Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,New\nsam@acme.com,Sam,Lee,New\n';
const isPlan = (creates: number) => (reply: Partial<Activity>) => {
  expect(reply.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
  expect(reply.text).toContain(`creates ${creates},`);
};

describe.each(['msteams', 'webchat'])('the import dialog on %s', (channelId) => {
  it('imports a clean file in two turns: send, confirm', async () => {
    const accountId = newAccount();
    const client = await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage([csvAttachment(CLEAN)]), [READING, isPlan(2)]],
      ['yes', [/^Importing users\.csv now \(import imp_[a-z0-9]+\)\. I will post progress here/]],
    ]);
    expect(client.dialogTurnResult.status).toBe(DialogTurnStatus.complete);
    const job = await queue.active(accountId);
    expect(job).toMatchObject({ status: 'queued', fileName: 'users.csv', by: 'Ada', options: {} });
    expect(JSON.parse(job?.replyTo ?? '{}')).toMatchObject({
      channelId,
      conversation: { id: expect.any(String) },
    });
    // Nothing is written to the users before the background job runs.
    expect(await t.db.collection(USERS_COLLECTION).countDocuments({ accountId })).toBe(0);
  });

  it('confirms with the card button too', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage([csvAttachment(CLEAN)]), [READING, isPlan(2)]],
      [(card) => submitValue({ action: 'confirm', planId: planIdOf(card) }), [/^Importing users\.csv now/]],
    ]);
    expect(await queue.active(accountId)).not.toBeNull();
  });

  it('fixes the mapping by typing and by the card, showing the recomputed plan each time', async () => {
    const accountId = newAccount();
    const file =
      'Email,First Name,Last Name,Mobile,Office,Role,Status\njane@acme.com,Jane,Doe,0711,0800,CTO,New\n';
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([csvAttachment(file)]),
        [READING, (r) => expect(cardText(r)).toContain('{"title":"Work Phone","value":"Mobile"}')],
      ],
      [
        'map Office to work phone',
        [
          (r) => {
            expect(cardText(r)).toContain('Work Phone now comes from \\"Office\\".');
            expect(cardText(r)).toContain('{"title":"Work Phone","value":"Office"}');
          },
        ],
      ],
      [
        (card) => submitValue({ action: 'apply', planId: planIdOf(card), 'map.title': '__none__' }),
        [(r) => expect(cardText(r)).toContain('{"title":"Title","value":"(not imported)"}')],
      ],
      ['yes', [/^Importing/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({
      mapping: { workPhone: 'Office', title: null },
    });
  });

  it('asks for a default status and applies it', async () => {
    const accountId = newAccount();
    const file =
      'Email ID,First Name,Last Name,User Status\njane@acme.com,Jane,Doe,\nsam@acme.com,Sam,Lee,New\n';
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([csvAttachment(file)]),
        [
          READING,
          (r) => {
            isPlan(1)(r);
            expect(cardText(r)).toContain('"id":"defaultStatus"');
          },
        ],
      ],
      ['use New as default', [isPlan(2)]],
      ['yes', [/^Importing/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({ defaultAction: 'new' });
  });

  it('offers to create Update rows for unknown users as New', async () => {
    const accountId = newAccount();
    const file = 'Email ID,First Name,Last Name,User Status\nnew@acme.com,New,Person,Update\n';
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([csvAttachment(file)]),
        [READING, (r) => expect(cardText(r)).toContain('"id":"createMissing"')],
      ],
      [
        (card) => submitValue({ action: 'apply', planId: planIdOf(card), createMissing: 'true' }),
        [isPlan(1)],
      ],
      ['skip them', [isPlan(0)]],
      ['create them as New', [isPlan(1)]],
      ['yes', [/^Importing/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({ createMissingOnUpdate: true });
  });

  it('names deletions and confirms large ones separately', async () => {
    const accountId = newAccount();
    const people = Array.from({ length: 30 }, (_, i) => `p${i}@acme.com`);
    await imports.commit(
      fileSourceFromBuffer(
        'seed.csv',
        Buffer.from(
          `Email ID,First Name,Last Name,User Status\n${people.map((e) => `${e},P,Q,New`).join('\n')}\n`,
        ),
      ),
      accountId,
      {},
      { by: 'seed' },
    );
    const file = `Email ID,User Status\n${people
      .slice(0, 26)
      .map((e) => `${e},Delete`)
      .join('\n')}\n`;
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([csvAttachment(file)]),
        [
          READING,
          (r) => expect(cardText(r)).toMatch(/Deletes 26 users\*\* of the account's 30: p0@acme\.com/),
        ],
      ],
      ['yes', [(r) => expect(cardText(r)).toContain('Confirm the deletion of 26 users')]],
      ['yes', ['To be sure, please type "delete" (or press the Delete button).']],
      ['help', [/separate confirmation/]],
      ['delete', [/^Importing/]],
    ]);
    expect(await queue.active(accountId)).not.toBeNull();
  });

  it.each([
    ['at the plan', [] as Turn[]],
    ['at the deletion confirmation', [['yes', [/Confirm the deletion/]]] as Turn[]],
  ])('cancels %s, changing nothing', async (_where, before) => {
    const accountId = newAccount();
    const people = Array.from({ length: 3 }, (_, i) => `p${i}@acme.com`);
    await imports.commit(
      fileSourceFromBuffer(
        'seed.csv',
        Buffer.from(`Email ID,First Name,Last Name\n${people.map((e) => `${e},P,Q`).join('\n')}\n`),
      ),
      accountId,
      { defaultAction: 'new' },
      { by: 'seed' },
    );
    const fixup = (turns: Turn[]): Turn[] =>
      turns.map(([say]) => [
        say,
        [(r: Partial<Activity>) => expect(cardText(r)).toContain('Confirm the deletion')],
      ]);
    const client = await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([csvAttachment(`Email ID,User Status\np0@acme.com,Delete\np1@acme.com,Delete\n`)]),
        [READING, isPlan(0)],
      ],
      ...fixup(before),
      ['cancel', [CANCELLED_TEXT]],
    ]);
    expect(client.dialogTurnResult.status).toBe(DialogTurnStatus.complete);
    expect(await queue.active(accountId)).toBeNull();
    expect(await t.db.collection(USERS_COLLECTION).countDocuments({ accountId, status: 'deleted' })).toBe(0);
  });

  it('cancels with the card button', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage([csvAttachment(CLEAN)]), [READING, isPlan(2)]],
      [(card) => submitValue({ action: 'cancel', planId: planIdOf(card) }), [CANCELLED_TEXT]],
    ]);
    expect(await queue.active(accountId)).toBeNull();
  });

  it('shows an email list with its counts and invites on "yes"', async () => {
    const accountId = newAccount();
    await imports.commit(
      fileSourceFromBuffer('seed.csv', Buffer.from('Email ID,First Name,Last Name\nsam@acme.com,Sam,Lee\n')),
      accountId,
      { defaultAction: 'new' },
      { by: 'seed' },
    );
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([csvAttachment('Email\nann@acme.com, bob@ ;sam@acme.com\n', 'invite.txt')]),
        [
          READING,
          (r) => {
            expect(r.text).toBe(
              'invite.txt: an email list of 3 entries: 1 address to invite, 1 invalid, 1 already a user. ' +
                'Importing it creates 1, invited to complete their profile.',
            );
            const card = cardText(r);
            expect(card).toContain('3 entries · UTF-8 · email list');
            expect(card).toContain('{"title":"To invite","value":"1"}');
            expect(card).toContain('{"title":"Already users","value":"1"}');
            expect(card).toContain('item 2 on line 2 (\\"bob@\\")');
            expect(cardOf(r).actions?.map((a) => a.title)).toEqual(['Import', 'Cancel']);
          },
        ],
      ],
      [
        'split into rows',
        ['This file has one row per line: there is nothing to re-flow. Nothing was changed.'],
      ],
      ['yes', [/^Importing invite\.txt now/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({});
  });

  describe('rows run together on one line', () => {
    const runTogether =
      'Email ID,First Name,Last Name,User Status,ana@acme.com,Ana,Silva,New,bo@acme.com,Bo,"Berg, Jr.",New\n';
    const isRunTogether = (button: string) => (r: Partial<Activity>) => {
      isPlan(2)(r);
      expect(r.text).toContain('2 rows run together on one line, re-flowed');
      const card = cardText(r);
      expect(card).toContain('Rows run together on one line');
      expect(card).toContain('the 8 values make 2 rows');
      expect(card).toContain('- Row 2: ana@acme.com · Ana · Silva · New');
      expect(card).toContain('- Row 3: bo@acme.com · Bo · Berg, Jr. · New');
      expect(cardOf(r).actions?.[0]?.title).toBe(button);
    };

    it('needs the re-flow confirmed: a plain "yes" is not enough, "split into rows" then "yes" is', async () => {
      const accountId = newAccount();
      await play(channelId, { accountId, by: 'Ada' }, [
        [fileMessage([csvAttachment(runTogether)]), [READING, isRunTogether('Re-flow and import')]],
        ['yes', [/^The rows of this file are run together on one line.*type "yes, reflow"/]],
        [
          'split into rows',
          [
            (r) => {
              isRunTogether('Import')(r);
              expect(cardText(r)).toContain('The rows will be imported re-flowed as shown.');
            },
          ],
        ],
        ['yes', [/^Importing users\.csv now/]],
      ]);
      expect((await queue.active(accountId))?.options).toEqual({ reflow: true });
    });

    it.each<[string, Turn[0]]>([
      ['typing "yes, reflow"', 'Yes, reflow!'],
      [
        'the Re-flow and import button',
        (card) => submitValue({ action: 'confirm', planId: planIdOf(card), reflow: 'true' }),
      ],
    ])('imports re-flowed in one step by %s', async (_how, answer) => {
      const accountId = newAccount();
      await play(channelId, { accountId, by: 'Ada' }, [
        [fileMessage([csvAttachment(runTogether)]), [READING, isRunTogether('Re-flow and import')]],
        [answer, [/^Importing users\.csv now/]],
      ]);
      expect((await queue.active(accountId))?.options).toEqual({ reflow: true });
    });
  });

  it('explains the step on "help" and keeps waiting', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage([csvAttachment(CLEAN)]), [READING, isPlan(2)]],
      ['help', [/waiting for your decision on the plan/]],
      ['what?', [/did not understand.*"yes" to import/]],
      ['yes', [/^Importing/]],
    ]);
  });

  it('refuses impossible changes with a reason and keeps the plan', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage([csvAttachment(CLEAN)]), [READING, isPlan(2)]],
      ['map Fax to work phone', [/This file has no column "Fax".*Nothing was changed\./]],
      ['use Maybe as default', [/"maybe" is not a User Status/]],
      [
        () => submitValue({ action: 'confirm', planId: 'an-older-card' }),
        ['That card belongs to an earlier version of the plan. Use the newest card, or type your answer.'],
      ],
      ['yes', [/^Importing/]],
    ]);
  });

  it('says when the same file was imported before', async () => {
    const accountId = newAccount();
    await imports.commit(
      fileSourceFromBuffer('users.csv', Buffer.from(CLEAN)),
      accountId,
      {},
      { by: 'Grace' },
    );
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([csvAttachment(CLEAN)]),
        [
          READING,
          (r) => {
            expect(cardText(r)).toMatch(/already imported on \d{4}-\d\d-\d\d by Grace/);
            expect(cardOf(r).actions?.[0]?.title).toBe('Record it anyway');
          },
        ],
      ],
    ]);
  });

  it('keeps the plan when another import of the account is still running', async () => {
    const accountId = newAccount();
    const other = await uploads.save(accountId, fileSourceFromBuffer('other.csv', Buffer.from(CLEAN)));
    await queue.enqueue({
      accountId,
      uploadId: other._id,
      fileName: 'other.csv',
      options: {},
      by: 'Grace',
      replyTo: '{}',
    });
    await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage([csvAttachment(CLEAN)]), [READING, isPlan(2)]],
      [
        'yes',
        [
          /other\.csv.*I kept your plan/,
          (r) => expect(cardText(r)).toContain('Say \\"yes\\" when the other import has finished.'),
        ],
      ],
    ]);
  });

  it.each([
    ['an empty file', [csvAttachment('')], /empty/i],
    [
      'a picture',
      [{ contentType: 'image/png', name: 'shot.png', contentUrl: 'data:image/png;base64,iVBORw0KGgo=' }],
      /picture/,
    ],
    ['two files', [csvAttachment(CLEAN), csvAttachment(CLEAN, 'b.csv')], /2 files; send one file at a time/],
    [
      'an Excel 97-2003 workbook',
      [
        {
          contentType: 'application/vnd.ms-excel',
          name: 'users.xls',
          contentUrl: `data:application/vnd.ms-excel;base64,${Buffer.concat([
            Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
            Buffer.alloc(1024),
          ]).toString('base64')}`,
        },
      ],
      /^"users\.xls" is an older Excel file \(\.xls\)\. Open it in Excel and save it as \.xlsx or CSV, then send it again\. Nothing was changed\.$/,
    ],
    [
      'a file without an email column',
      [csvAttachment('Name,Phone\nJane,1\n')],
      /No column holds the Email ID/,
    ],
    [
      'rows run together on one line that do not fill whole rows',
      [csvAttachment('Email ID,First Name,Last Name,a@acme.com,A,B,b@acme.com,C\n')],
      /the line has 5 values after the 3-column header; 5 is not a multiple of 3 .*Nothing was changed\.$/,
    ],
  ])('explains %s and writes nothing', async (_what, attachments, message) => {
    const accountId = newAccount();
    const client = await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage(attachments), [READING, (r) => expect(r.text).toMatch(message)]],
    ]);
    expect(client.dialogTurnResult.status).toBe(DialogTurnStatus.complete);
    expect(await t.db.collection('uploads').countDocuments({ accountId })).toBeLessThanOrEqual(1);
    expect(await queue.active(accountId)).toBeNull();
  });

  describe('a file too large to plan within the turn', () => {
    /** Stands in for the bot's background planner: it hands the outcome to the turn through turn state. */
    const deliverer: Middleware = {
      onTurn: async (context, next) => {
        if (context.activity.type === 'event' && context.activity.name === 'test/planReady')
          attachPlanOutcome(context, context.activity.value as PlanOutcome);
        await next();
      },
    };
    const planReady = (outcome: PlanOutcome): Partial<Activity> => ({
      type: 'event',
      name: 'test/planReady',
      value: outcome,
    });

    it('is planned in the background and reviewed as usual once the plan arrives', async () => {
      const accountId = newAccount();
      const client = new DialogTestClient(channelId, new ImportDialog(flow, 0), { accountId, by: 'Ada' }, [
        deliverer,
      ]);
      plannedLater.length = 0;
      expect((await client.sendActivity(fileMessage([csvAttachment(CLEAN)]))).text).toBe(READING);
      expect(client.getNextReply().text).toMatch(
        /^users\.csv is large \(0\.0 MB\): I am working out its plan/,
      );
      expect(plannedLater).toHaveLength(1);
      const request = plannedLater[0];
      if (!request) throw new Error('no plan was asked for');
      expect(JSON.parse(request.replyTo)).toMatchObject({ channelId });

      expect((await client.sendActivity('yes')).text).toMatch(/still working out the plan for users\.csv/);
      // A plan for another upload (an earlier file) is not this one.
      expect(await client.sendActivity(planReady({ uploadId: 'upl_other' }))).toBeUndefined();

      const plan = await flow.plan(request.uploadId, request.accountId, request.options);
      const card = (await client.sendActivity(
        planReady({ uploadId: request.uploadId, plan }),
      )) as Partial<Activity>;
      isPlan(2)(card);
      expect((await client.sendActivity('yes')).text).toMatch(/^Importing users\.csv now/);
      expect(await queue.active(accountId)).not.toBeNull();
    });

    it('explains a background plan that failed', async () => {
      const accountId = newAccount();
      const client = new DialogTestClient(channelId, new ImportDialog(flow, 0), { accountId, by: 'Ada' }, [
        deliverer,
      ]);
      plannedLater.length = 0;
      expect((await client.sendActivity(fileMessage([csvAttachment('Name,Phone\nJane,1\n')]))).text).toBe(
        READING,
      );
      expect(client.getNextReply().text).toMatch(/I am working out its plan/);
      const request = plannedLater[0];
      if (!request) throw new Error('no plan was asked for');
      const error = await flow
        .plan(request.uploadId, request.accountId, request.options)
        .catch((e: unknown) => e);
      const reply = (await client.sendActivity(
        planReady({ uploadId: request.uploadId, error }),
      )) as Partial<Activity>;
      expect(reply.text).toMatch(/No column holds the Email ID.*Nothing was changed\./);
      expect(client.dialogTurnResult.status).toBe(DialogTurnStatus.complete);
    });
  });
});
