import {
  candidates,
  decide,
  DEFAULT_SUGGESTIONS,
  INTENTS,
  LOW_CONFIDENCE,
  type IntentScore,
  type Recognition,
} from '../../services/understanding/recognizer';

function recognition(ranking: IntentScore[]): Recognition {
  const [best] = ranking;
  if (!best) throw new Error('a ranking needs an intent');
  return { intent: best.intent, score: best.score, entities: {}, ranking };
}

it('names exactly the intents of the contract', () => {
  expect(INTENTS).toEqual([
    'history.last',
    'history.list',
    'import.details',
    'import.problems',
    'user.lookup',
    'invitations.status',
    'invitations.resend',
    'report.download',
    // Added by issue 7 (undo, fix files); the twelve of issue 5 keep their names.
    'import.undo',
    'import.retry',
    'import.start',
    'help',
    'cancel',
    'none',
  ]);
});

it('answers a confident recognition', () => {
  const r = recognition([
    { intent: 'history.last', score: LOW_CONFIDENCE },
    { intent: 'history.list', score: 0.3 },
  ]);
  expect(decide(r)).toEqual({ action: 'answer', intent: 'history.last', score: LOW_CONFIDENCE });
});

it('asks, with the likely intents best first, when the best one scores low', () => {
  const r = recognition([
    { intent: 'invitations.status', score: 0.45 },
    { intent: 'report.download', score: 0.35 },
    { intent: 'none', score: 0.1 },
    { intent: 'history.list', score: 0.06 },
    { intent: 'help', score: 0.04 },
  ]);
  expect(decide(r)).toEqual({
    action: 'clarify',
    reason: 'low-confidence',
    candidates: [
      { intent: 'invitations.status', score: 0.45 },
      { intent: 'report.download', score: 0.35 },
      { intent: 'history.list', score: 0.06 },
    ],
  });
});

it('offers what it can do when the message is about nothing it does', () => {
  const r = recognition([{ intent: 'none', score: 1 }]);
  expect(decide(r)).toEqual({
    action: 'clarify',
    reason: 'not-understood',
    candidates: DEFAULT_SUGGESTIONS.map((intent) => ({ intent, score: 0 })),
  });
});

it('tops a single likely intent up with the default suggestions, without repeating it', () => {
  expect(
    candidates([
      { intent: 'help', score: 0.5 },
      { intent: 'cancel', score: 0.01 },
    ]),
  ).toEqual([
    { intent: 'help', score: 0.5 },
    { intent: 'history.last', score: 0 },
    { intent: 'history.list', score: 0 },
  ]);
});

it('never offers more than three', () => {
  const ranking = INTENTS.map((intent) => ({ intent, score: 1 / INTENTS.length }));
  expect(candidates(ranking)).toHaveLength(3);
});
