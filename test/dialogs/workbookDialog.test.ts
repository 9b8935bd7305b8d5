import type { Activity } from 'botbuilder';
import { DialogTurnStatus } from 'botbuilder-dialogs';
import { DialogTestClient } from 'botbuilder-testing';
import { ImportDialog, type ImportDialogOptions, type ImportFlowServices } from '../../dialogs/importDialog';
import { ImportJobQueue } from '../../services/jobs/importJobQueue';
import { importFlowServices } from './importFlowServices';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';
import { ole2DirectoryEntry, ole2Header, workbook, type SheetSpec } from '../import/workbooks';

let t: TestDatabase;
let queue: ImportJobQueue;
let flow: ImportFlowServices;

beforeAll(async () => {
  t = await openTestDatabase();
  ({ flow, queue } = importFlowServices(t.db, () => {
    throw new Error('workbooks this small are planned within the turn');
  }));
});
afterAll(async () => t.close());

let accountSeq = 0;
const newAccount = () => `book${++accountSeq}`;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
/** A workbook sent from Web Chat or the Emulator: inline data, as the dialog tests send files. */
const workbookAttachment = (bytes: Buffer, name = 'people.xlsx') => ({
  contentType: XLSX,
  name,
  contentUrl: `data:${XLSX};base64,${bytes.toString('base64')}`,
});

const fileMessage = (attachments: unknown[]): Partial<Activity> => ({
  type: 'message',
  text: '',
  attachments: attachments as Activity['attachments'],
});

type Card = { body: Array<Record<string, unknown>>; actions?: Array<Record<string, unknown>> };
const cardOf = (reply: Partial<Activity>): Card => reply.attachments?.[0]?.content as Card;
const cardText = (reply: Partial<Activity>) => JSON.stringify(cardOf(reply));
const planIdOf = (reply: Partial<Activity>) =>
  (cardOf(reply).actions?.[0]?.data as { planId: string } | undefined)?.planId ?? '';

type Expect = string | RegExp | ((reply: Partial<Activity>) => void);
type Turn = [
  say: string | Partial<Activity> | ((last: Partial<Activity>) => Partial<Activity>),
  replies: Expect[],
];

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
      expect(reply).toBeDefined();
      if (typeof expected === 'string') expect(reply?.text).toBe(expected);
      else if (expected instanceof RegExp) expect(reply?.text).toMatch(expected);
      else expected(reply as Partial<Activity>);
      if (reply?.attachments?.length) last = reply;
      reply = client.getNextReply() as Partial<Activity> | undefined;
    }
    expect(reply?.text).toBeUndefined();
  }
  return client;
}

const READING = 'Got it, reading your file…';

const users: SheetSpec = {
  name: 'Users',
  rows: [
    ['Email ID', 'First Name', 'Last Name', 'User Status'],
    ['jane@acme.com', 'Jane', 'Doe', 'New'],
  ],
};
const staff: SheetSpec = {
  name: 'Staff',
  rows: [
    ['E-mail', 'Given Name', 'Surname', 'Status'],
    ['sam@acme.com', 'Sam', 'Lee', 'New'],
    ['kim@acme.com', 'Kim', 'Ng', 'New'],
  ],
};
const cover: SheetSpec = { name: 'Read me', rows: [['How to fill in this workbook']] };

/** A plan card for the sheet named, with the summary beside it. */
const planOf = (sheet: string, rows: number, creates: number) => (reply: Partial<Activity>) => {
  expect(reply.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
  expect(reply.text).toContain(`people.xlsx, sheet "${sheet}": ${rows} ${rows === 1 ? 'row' : 'rows'}.`);
  expect(reply.text).toContain(`creates ${creates},`);
  expect(cardText(reply)).toContain(`Excel workbook · sheet \\"${sheet}\\"`);
};

describe.each(['msteams', 'webchat'])('a workbook sent on %s', (channelId) => {
  it('plans its first sheet, names the others, and re-plans when told "use sheet Staff"', async () => {
    const accountId = newAccount();
    const bytes = await workbook([users, staff]);
    const client = await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([workbookAttachment(bytes)]),
        [
          READING,
          (r) => {
            planOf('Users', 1, 1)(r);
            expect(cardText(r)).toContain(
              'Other sheets: \\"Staff\\". To read another, choose it below or type',
            );
            expect(cardText(r)).toContain('"id":"sheet"');
          },
        ],
      ],
      [
        'use sheet Staff',
        [
          (r) => {
            planOf('Staff', 2, 2)(r);
            expect(cardText(r)).toContain('I read the sheet \\"Staff\\" now.');
            expect(cardText(r)).toContain('Other sheets: \\"Users\\"');
            expect(cardText(r)).toContain('{"title":"Email ID","value":"E-mail"}');
          },
        ],
      ],
      ['yes', [/^Importing people\.xlsx now \(import imp_[a-z0-9]+\)/]],
    ]);
    expect(client.dialogTurnResult.status).toBe(DialogTurnStatus.complete);
    expect((await queue.active(accountId))?.options).toEqual({ sheet: 'Staff' });
  });

  it('changes the sheet from the card too, and keeps the plan when the name is unknown', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage([workbookAttachment(await workbook([users, staff]))]), [READING, planOf('Users', 1, 1)]],
      [
        'read the Contractors sheet',
        ['This workbook has no sheet "Contractors". Its sheets are "Users", "Staff". Nothing was changed.'],
      ],
      [
        (card) => ({
          type: 'message',
          text: '',
          value: { action: 'apply', planId: planIdOf(card), sheet: 'Staff' },
        }),
        [planOf('Staff', 2, 2)],
      ],
      ['yes', [/^Importing people\.xlsx now/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({ sheet: 'Staff' });
  });

  it('asks for another sheet when the first holds no user list, and imports nothing before a plan', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([workbookAttachment(await workbook([cover, staff]))]),
        [
          READING,
          /^No column holds the Email ID\. The sheet "Read me"'s columns are: "How to fill in this workbook"\..* The workbook's other sheets: "Staff"; the users may be on one of those\. Type "use sheet Staff" to read another sheet, or "cancel"\.$/,
        ],
      ],
      [
        'yes',
        ['There is no plan to import yet. Type "use sheet <name>" to read another sheet, or "cancel".'],
      ],
      ['use sheet staff', [planOf('Staff', 2, 2)]],
      ['yes', [/^Importing people\.xlsx now/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({ sheet: 'Staff' });
  });

  it.each([
    [
      'an Excel 97-2003 workbook',
      Buffer.concat([ole2Header(), Buffer.alloc(1024)]),
      '"Payroll.xlsx" is an older Excel file (.xls). Open it in Excel and save it as .xlsx or CSV, then send it again.',
    ],
    [
      'a password-protected workbook',
      Buffer.concat([ole2Header(), ole2DirectoryEntry('EncryptionInfo', 2), Buffer.alloc(1024)]),
      '"Payroll.xlsx" is password-protected. Remove the password (File › Info › Protect Workbook) or save it as ' +
        'CSV, and send it again.',
    ],
  ])('explains %s and ends the conversation', async (_what, bytes, message) => {
    const accountId = newAccount();
    const client = await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage([workbookAttachment(bytes, 'Payroll.xlsx')]),
        [READING, `${message} Nothing was changed.`],
      ],
    ]);
    expect(client.dialogTurnResult.status).toBe(DialogTurnStatus.complete);
    expect(await queue.active(accountId)).toBeNull();
  });
});
