import corpusFile from '../../services/understanding/corpus.json';
import { loadCorpus } from '../../services/understanding/corpus';
import { normalizeText } from '../../services/understanding/normalize';
import { INTENTS } from '../../services/understanding/recognizer';
import labelled from './utterances.json';

const corpus = loadCorpus();
const inCorpus = new Set(
  INTENTS.flatMap((intent) => corpus[intent].map((t) => `${intent}\n${normalizeText(t)}`)),
);
const anyIntent = new Set(INTENTS.flatMap((intent) => corpus[intent].map(normalizeText)));

describe('the labelled utterances', () => {
  it.each(INTENTS)('have at least 15 for %s, split between training and held-out', (intent) => {
    const mine = labelled.utterances.filter((u) => u.intent === intent);
    expect(mine.length).toBeGreaterThanOrEqual(15);
    expect(mine.filter((u) => u.split === 'test').length).toBeGreaterThanOrEqual(5);
    expect(mine.filter((u) => u.split === 'train').length).toBeGreaterThanOrEqual(mine.length / 2);
  });

  it('name only known intents and splits, and never repeat an utterance', () => {
    for (const u of labelled.utterances) {
      expect(INTENTS).toContain(u.intent);
      expect(['train', 'test']).toContain(u.split);
    }
    const texts = labelled.utterances.map((u) => normalizeText(u.text));
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('keep every training utterance in the corpus the recognizer learns from, under its intent', () => {
    const missing = labelled.utterances
      .filter((u) => u.split === 'train' && !inCorpus.has(`${u.intent}\n${normalizeText(u.text)}`))
      .map((u) => u.text);
    expect(missing).toEqual([]);
  });

  it('keep every held-out utterance out of the corpus', () => {
    const leaked = labelled.utterances
      .filter((u) => u.split === 'test' && anyIntent.has(normalizeText(u.text)))
      .map((u) => u.text);
    expect(leaked).toEqual([]);
  });
});

describe('loadCorpus', () => {
  it('reads the corpus in the repository: every intent has examples', () => {
    for (const intent of INTENTS) expect(corpus[intent].length).toBeGreaterThan(15);
  });

  it('rejects a corpus missing an intent, with an unknown one, or with an empty example', () => {
    const { cancel: _cancel, ...withoutCancel } = corpusFile.intents;
    expect(() => loadCorpus({ intents: withoutCancel })).toThrow(/corpus is invalid: intents\.cancel/);
    expect(() => loadCorpus({ intents: { ...corpusFile.intents, weather: ['sunny?'] } })).toThrow(
      /corpus is invalid/,
    );
    expect(() => loadCorpus({ intents: { ...corpusFile.intents, help: ['  '] } })).toThrow(
      /corpus is invalid: intents\.help\.0/,
    );
    expect(() => loadCorpus('nonsense')).toThrow(/corpus is invalid/);
  });
});
