import type { Activity } from 'botbuilder';
import { DialogTurnStatus } from 'botbuilder-dialogs';
import { DialogTestClient } from 'botbuilder-testing';
import { planCard } from '../../dialogs/cards/planCard';
import { ImportDialog, type ImportDialogOptions, type ImportFlowServices } from '../../dialogs/importDialog';
import { parseReviewReply, type ReviewContext } from '../../dialogs/reviewReply';
import { AccountDirectory } from '../../services/accounts/accountDirectory';
import { fileSourceFromBuffer } from '../../services/import/fileSource';
import { ImportService } from '../../services/import/importService';
import { ImportJobQueue } from '../../services/jobs/importJobQueue';
import { importFlowServices } from './importFlowServices';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

let t: TestDatabase;
let imports: ImportService;
let queue: ImportJobQueue;
let flow: ImportFlowServices;

beforeAll(async () => {
  t = await openTestDatabase();
  ({ flow, imports, queue } = importFlowServices(t.db, () => undefined));
});
afterAll(async () => t.close());

let accountSeq = 0;
const newAccount = () => `flag${++accountSeq}`;

const fileMessage = (text: string): Partial<Activity> => ({
  type: 'message',
  text: '',
  attachments: [
    {
      contentType: 'text/csv',
      name: 'users.csv',
      contentUrl: `data:text/csv;base64,${Buffer.from(text).toString('base64')}`,
    },
  ],
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
const flaggedInput = (reply: Partial<Activity>) => cardOf(reply).body.find((e) => e.id === 'flaggedEmails');

type Expect = string | RegExp | ((reply: Partial<Activity>) => void);
type Turn = [
  say: string | Partial<Activity> | ((last: Partial<Activity>) => Partial<Activity>),
  replies: Expect[],
];

/** Plays a table of [admin says, bot replies]. */
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
const FILE =
  'Email ID,First Name,Last Name,User Status\n' +
  'ann@gmail.com,Ann,Ash,New\n' +
  'bob@gmial.com,Bob,Bo,New\n' +
  'cy@outlok.com,Cy,Cole,New\n';
const isPlan = (creates: number) => (reply: Partial<Activity>) => {
  expect(reply.attachments?.[0]?.contentType).toBe('application/vnd.microsoft.card.adaptive');
  expect(reply.text).toContain(`creates ${creates},`);
};
const UNDECIDED =
  "2 email addresses on the plan look mistyped or outside the account's allowed domains. Before I import, " +
  'choose on the card whether to import them, or type "import them anyway" or "skip flagged".';

describe.each(['msteams', 'webchat'])('flagged emails in the import dialog on %s', (channelId) => {
  it('shows them with their suggestion and a choice, and will not import until the admin chooses', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage(FILE),
        [
          READING,
          (r) => {
            isPlan(3)(r);
            const card = cardText(r);
            expect(card).toContain('Email addresses to check');
            expect(card).toContain('row 3: bob@gmial.com: gmial.com looks like a typo of gmail.com');
            expect(card).toContain('row 4: cy@outlok.com: outlok.com looks like a typo of outlook.com');
            expect(flaggedInput(r)).toMatchObject({
              type: 'Input.ChoiceSet',
              value: '',
              choices: [
                { title: 'Import them', value: 'import' },
                { title: 'Skip them', value: 'skip' },
              ],
            });
          },
        ],
      ],
      ['yes', [UNDECIDED]],
      [(card) => submitValue({ action: 'confirm', planId: planIdOf(card), flaggedEmails: '' }), [UNDECIDED]],
      [
        'skip the typos',
        [
          (r) => {
            isPlan(1)(r);
            expect(cardText(r)).toContain('Rows with flagged email addresses will be skipped.');
            expect(cardText(r)).toContain('Flagged email, skipped as you chose');
          },
        ],
      ],
      ['yes', [/^Importing users\.csv now/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({ flaggedEmails: 'skip' });
  });

  it('takes the choice from the card, shows it chosen, and imports them when told to', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [fileMessage(FILE), [READING, isPlan(3)]],
      [
        (card) => submitValue({ action: 'confirm', planId: planIdOf(card), flaggedEmails: 'skip' }),
        [
          (r) => {
            // A changed choice is applied and shown, never imported on the same click.
            isPlan(1)(r);
            expect(cardText(r)).toContain('I applied your choices.');
            expect(cardText(r)).toContain('Flagged email, skipped as you chose');
            expect(flaggedInput(r)).toMatchObject({ value: 'skip' });
          },
        ],
      ],
      [
        'import them anyway',
        [
          (r) => {
            isPlan(3)(r);
            expect(cardText(r)).toContain('The flagged email addresses will be imported as they are.');
            expect(flaggedInput(r)).toMatchObject({ value: 'import' });
          },
        ],
      ],
      [
        (card) => submitValue({ action: 'confirm', planId: planIdOf(card), flaggedEmails: 'import' }),
        [/^Importing/],
      ],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({ flaggedEmails: 'import' });
  });

  it("flags addresses outside the account's allowed domains", async () => {
    const accountId = newAccount();
    await new AccountDirectory(t.db).setAllowedDomains(accountId, ['acme.com'], 'ops');
    const file =
      'Email ID,First Name,Last Name,User Status\nann@acme.com,Ann,Ash,New\ndi@gmail.com,Di,Do,New\n';
    const client = await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage(file),
        [
          READING,
          (r) =>
            expect(cardText(r)).toContain(
              "row 3: di@gmail.com: gmail.com is outside the account's allowed domains \\\\(acme.com\\\\)",
            ),
        ],
      ],
      [
        'ok',
        [/^1 email address on the plan looks mistyped .* choose on the card whether to import it, or type/],
      ],
      ['cancel', [/./]],
    ]);
    expect(client.dialogTurnResult.status).toBe(DialogTurnStatus.complete);
    expect(await queue.active(accountId)).toBeNull();
  });

  it('confirms a plan without flagged emails as before, and says so when told to skip them', async () => {
    const accountId = newAccount();
    await play(channelId, { accountId, by: 'Ada' }, [
      [
        fileMessage('Email ID,First Name,Last Name,User Status\nann@acme.com,Ann,Ash,New\n'),
        [READING, (r) => expect(flaggedInput(r)).toBeUndefined()],
      ],
      ['skip flagged', ['No email address on this plan is flagged. Nothing was changed.']],
      ['yes', [/^Importing/]],
    ]);
    expect((await queue.active(accountId))?.options).toEqual({});
  });
});

describe('typed answers about flagged emails', () => {
  const ctx: ReviewContext = {
    headers: ['Email'],
    columns: { email: 'Email' },
    planId: 'p1',
    options: {},
    flagged: 2,
  };

  it.each([
    'skip flagged',
    'Skip the typos.',
    "don't import the flagged ones",
    'leave out the typos',
    'ignore the flagged',
    'exclude flagged',
  ])('"%s" skips them', (said) => {
    expect(parseReviewReply(said, undefined, ctx)).toEqual({
      kind: 'change',
      options: { flaggedEmails: 'skip' },
      said: 'Rows with flagged email addresses will be skipped.',
    });
  });

  it.each(['import them anyway', 'Import flagged', 'keep the flagged ones', "they're fine", 'not typos'])(
    '"%s" imports them',
    (said) => {
      expect(parseReviewReply(said, undefined, ctx)).toEqual({
        kind: 'change',
        options: { flaggedEmails: 'import' },
        said: 'The flagged email addresses will be imported as they are.',
      });
    },
  );

  it('keeps the other choices and the meaning of neighbouring phrases', () => {
    const withDefault = { ...ctx, options: { defaultAction: 'new' as const } };
    expect(parseReviewReply('skip flagged', undefined, withDefault)).toMatchObject({
      options: { defaultAction: 'new', flaggedEmails: 'skip' },
    });
    // "import them" stays a confirmation and "skip them" the answer about unknown Update rows.
    expect(parseReviewReply('import them', undefined, ctx)).toEqual({ kind: 'confirm' });
    expect(parseReviewReply('skip them', undefined, ctx)).toMatchObject({
      options: { createMissingOnUpdate: false },
    });
  });

  it('reads the card choice, and an empty one as no choice', () => {
    expect(
      parseReviewReply(undefined, { action: 'apply', planId: 'p1', flaggedEmails: 'import' }, ctx),
    ).toEqual({
      kind: 'change',
      options: { flaggedEmails: 'import' },
      said: 'I applied your choices.',
    });
    expect(parseReviewReply(undefined, { action: 'confirm', planId: 'p1', flaggedEmails: '' }, ctx)).toEqual({
      kind: 'confirm',
    });
    const decided = { ...ctx, options: { flaggedEmails: 'skip' as const } };
    expect(
      parseReviewReply(undefined, { action: 'confirm', planId: 'p1', flaggedEmails: 'skip' }, decided),
    ).toEqual({
      kind: 'confirm',
    });
    expect(
      parseReviewReply(undefined, { action: 'confirm', planId: 'p1', flaggedEmails: 'maybe' }, ctx),
    ).toEqual({
      kind: 'unknown',
    });
  });
});

describe('the plan card', () => {
  it('lists the first ten flagged emails and counts the rest', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => `p${i}@yaho.com,P,Q,New`);
    const plan = await imports.plan(
      fileSourceFromBuffer(
        'many.csv',
        Buffer.from(`Email ID,First Name,Last Name,User Status\n${rows.join('\n')}\n`),
      ),
      newAccount(),
    );
    const card = JSON.stringify(planCard(plan, { planId: 'p', options: {}, headers: [] }));
    expect(card).toContain('These 12 addresses need a second look');
    expect(card).toContain('row 11: p9@yaho.com: yaho.com looks like a typo of yahoo.com');
    expect(card).not.toContain('p10@yaho.com');
    expect(card).toContain('- and 2 more');
  });
});
