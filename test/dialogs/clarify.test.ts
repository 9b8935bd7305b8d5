import { clarifyingQuestion, SUGGESTION_FOR } from '../../dialogs/answers/clarify';
import { sharedNlpjsRecognizer } from '../../services/understanding/nlpjsRecognizer';
import { decide, type IntentName } from '../../services/understanding/recognizer';

describe('clarifying questions', () => {
  it.each(Object.entries(SUGGESTION_FOR))(
    'offer %s as words the recognizer answers without asking again',
    async (intent, { says }) => {
      const recognizer = await sharedNlpjsRecognizer();
      const decision = decide(await recognizer.recognize(says));
      expect(decision).toMatchObject({ action: 'answer', intent });
    },
    30_000,
  );

  it('ask "did you mean" with the likely intents as suggested actions', () => {
    const reply = clarifyingQuestion({
      action: 'clarify',
      reason: 'low-confidence',
      candidates: [
        { intent: 'import.problems', score: 0.4 },
        { intent: 'history.last', score: 0.3 },
      ],
    });
    expect(reply.text).toBe(
      'I am not sure what you mean. Do you want to see the rows that were not imported or see the last import results?',
    );
    expect(reply.suggestedActions?.actions.map((a) => a.value)).toEqual([
      'Show ignored rows',
      'Show last import results',
    ]);
  });

  it('say what the assistant does when the message is about something else', () => {
    const candidates: Array<{ intent: IntentName; score: number }> = [
      { intent: 'history.last', score: 0 },
      { intent: 'history.list', score: 0 },
      { intent: 'help', score: 0 },
    ];
    const reply = clarifyingQuestion({ action: 'clarify', reason: 'not-understood', candidates });
    expect(reply.text).toBe(
      'I can only help with importing users and questions about past imports. You can see the last import ' +
        'results, list imports or see what I can do, or send me a user file.',
    );
    expect(reply.suggestedActions?.actions).toHaveLength(3);
  });
});
