import { promises as fs } from 'node:fs';
import path from 'node:path';
import { NlpjsRecognizer, sharedNlpjsRecognizer } from '../../services/understanding/nlpjsRecognizer';
import { decide, type IntentName } from '../../services/understanding/recognizer';
import labelled from './utterances.json';

const NOW = new Date(labelled.now);

let recognizer: NlpjsRecognizer;
let consoleCalls: unknown[][];

beforeAll(async () => {
  consoleCalls = [];
  for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
    jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      consoleCalls.push(args);
    });
  }
  recognizer = await sharedNlpjsRecognizer();
}, 30_000);

afterAll(() => {
  jest.restoreAllMocks();
});

describe('the training examples', () => {
  const train = labelled.utterances.filter((u) => u.split === 'train');
  it.each(train.map((u) => [u.text, u.intent] as const))('%s → %s', async (text, intent) => {
    expect((await recognizer.recognize(text, NOW)).intent).toBe(intent);
  });
});

describe('clear questions, however they are typed', () => {
  it.each<[string, IntentName]>([
    ['how did my last import go', 'history.last'],
    ['HOW DID MY LAST IMPORT GO???', 'history.last'],
    ['show all imports from last month', 'history.list'],
    ['list the imports since october 1', 'history.list'],
    ['show me import #42', 'import.details'],
    ['details of imp_mi9z8y7x6w5v4u3t2s1r', 'import.details'],
    ['which rows were ignored in import 3', 'import.problems'],
    ['why were rows rejected', 'import.problems'],
    ['what happened to someone.new@example.com', 'user.lookup'],
    ['was pat@example.com ever imported', 'user.lookup'],
    ['which invitations are still pending', 'invitations.status'],
    ['did the invitations go out yesterday', 'invitations.status'],
    ['resend the failed invitations', 'invitations.resend'],
    ['please resend the pending invites', 'invitations.resend'],
    ['download the report for import 7', 'report.download'],
    ['export the row by row results as csv', 'report.download'],
    ['i want to import a new user file', 'import.start'],
    ['how do i upload users', 'import.start'],
    ['what can you do', 'help'],
    ['help', 'help'],
    ['cancel', 'cancel'],
    ['forget it', 'cancel'],
    ['what is the weather like', 'none'],
    ['tell me a joke', 'none'],
    // Typos, no punctuation, shorthand.
    ['lastest improt resluts', 'history.last'],
    ['dwnload teh reprot pls', 'report.download'],
    ['resnd the invitaions', 'invitations.resend'],
    ['hlep', 'help'],
    ['cancle', 'cancel'],
    // A long sentence.
    [
      'good afternoon, my manager asked me to double check whether the invitations from the import we did on monday have all been sent out or if some are still pending',
      'invitations.status',
    ],
  ])('%s → %s', async (text, intent) => {
    const recognition = await recognizer.recognize(text, NOW);
    expect(recognition.intent).toBe(intent);
    expect(decide(recognition).action).toBe(intent === 'none' ? 'clarify' : 'answer');
  });
});

describe('what it cannot tell', () => {
  it.each(['asdf qwer zxcv', 'blah blah', '?!', '', '   ', 'banana'])(
    'asks about "%s" with the default suggestions',
    async (text) => {
      const recognition = await recognizer.recognize(text, NOW);
      expect(recognition.intent).toBe('none');
      expect(decide(recognition)).toEqual({
        action: 'clarify',
        reason: 'not-understood',
        candidates: [
          { intent: 'history.last', score: 0 },
          { intent: 'history.list', score: 0 },
          { intent: 'help', score: 0 },
        ],
      });
    },
  );

  it('asks, offering both, when a message could be either of two things', async () => {
    const recognition = await recognizer.recognize('invitations report', NOW);
    expect(recognition.score).toBeLessThan(0.6);
    expect(decide(recognition)).toEqual({
      action: 'clarify',
      reason: 'low-confidence',
      candidates: [
        { intent: 'invitations.status', score: expect.any(Number) },
        { intent: 'report.download', score: expect.any(Number) },
      ],
    });
  });
});

describe('a recognition', () => {
  it('carries the entities, dates relative to the given now and time zone', async () => {
    const recognition = await recognizer.recognize(
      'did jane@acme.com get her invite from import #12 yesterday',
      NOW,
      {
        utcOffsetMinutes: 60,
      },
    );
    expect(recognition).toEqual({
      intent: 'invitations.status',
      score: expect.any(Number),
      entities: {
        email: 'jane@acme.com',
        importRef: '12',
        from: '2026-11-23T23:00:00.000Z',
        to: '2026-11-24T22:59:59.999Z',
      },
      ranking: expect.any(Array),
    });
  });

  it('ranks intents best first with scores that add up to about 1', async () => {
    const { intent, score, ranking } = await recognizer.recognize('show the errors of the last import', NOW);
    expect(ranking[0]).toEqual({ intent, score });
    for (let i = 1; i < ranking.length; i++)
      expect(ranking[i]?.score).toBeLessThanOrEqual(ranking[i - 1]?.score ?? 1);
    expect(ranking.reduce((sum, r) => sum + r.score, 0)).toBeCloseTo(1, 5);
  });

  it('is the same every time', async () => {
    const text = 'which imports did admin@acme.com run in october';
    const first = await recognizer.recognize(text, NOW);
    const again = await (await NlpjsRecognizer.train()).recognize(text, NOW);
    expect(again).toEqual(first);
  });
});

it('is trained once per process and shared', async () => {
  expect(await sharedNlpjsRecognizer()).toBe(recognizer);
  expect(recognizer.engine).toBe('local');
  expect(recognizer.examples).toBeGreaterThan(500);
});

it('logs nothing and writes no model file', async () => {
  await recognizer.recognize('what happened to private.person@acme.com', NOW);
  expect(consoleCalls).toEqual([]);
  await expect(fs.access(path.resolve('model.nlp'))).rejects.toThrow();
});
