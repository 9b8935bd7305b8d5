import { performance } from 'node:perf_hooks';
import { LangEn } from '@nlpjs/lang-en-min';
import { Nlp } from '@nlpjs/nlp';
import { loadCorpus, type Corpus } from './corpus';
import { extractEntities, MAX_MESSAGE_LENGTH, type EntitySpan } from './entities';
import { normalizeText, withPlaceholders } from './normalize';
import {
  INTENTS,
  isIntentName,
  type IntentName,
  type IntentScore,
  type Recognition,
  type RecognizeOptions,
  type Recognizer,
} from './recognizer';
import { SpellingCorrector } from './spelling';

/** NLP.js writes to the console through its container's logger; nothing of ours is ever logged. */
const SILENT_LOGGER = Object.fromEntries(
  ['debug', 'info', 'warn', 'error', 'log', 'trace', 'fatal'].map((level) => [level, () => undefined]),
);

/** Any fixed instant: training only needs where the entities are, not what dates they resolve to. */
const TRAINING_NOW = new Date(0);

/**
 * The default recognizer: NLP.js's neural intent classifier, trained in memory at start from the corpus in
 * the repository, offline, with nothing written to disk and nothing logged. Before classification a message's
 * entities become placeholder words (so no address or name of a file reaches NLP.js, whose in-memory cache
 * keeps recent texts), shorthand is spelled out, typos are corrected against the words the corpus uses (NLP.js
 * then also corrects its stems one edit away), and known pairs of neighbouring words are added as features.
 */
export class NlpjsRecognizer implements Recognizer {
  readonly engine = 'local';

  private constructor(
    private readonly nlp: Nlp,
    private readonly spelling: SpellingCorrector,
    /** The word pairs seen in training; only those become features of a message. */
    private readonly pairs: ReadonlySet<string>,
    /** How long training took, in milliseconds. */
    readonly trainingMs: number,
    /** How many examples it learnt from. */
    readonly examples: number,
  ) {}

  /** Trains a recognizer on `corpus` (default: the corpus in the repository). */
  static async train(corpus: Corpus = loadCorpus()): Promise<NlpjsRecognizer> {
    const started = performance.now();
    const documents = INTENTS.flatMap((intent) =>
      corpus[intent].map((utterance) => {
        const { spans } = extractEntities(utterance, { now: TRAINING_NOW });
        return { intent, text: prepare(utterance, spans) };
      }),
    ).filter((d) => d.text !== '');
    const spelling = new SpellingCorrector(documents.map((d) => d.text));
    const pairs = new Set(documents.flatMap((d) => bigrams(d.text)));
    const nlp = new Nlp({
      languages: ['en'],
      autoLoad: false,
      autoSave: false,
      calculateSentiment: false,
      forceNER: false,
      nlu: { log: false, useNoneFeature: true, spellCheck: true, spellCheckDistance: 1 },
    });
    nlp.container.register('logger', SILENT_LOGGER);
    nlp.use(LangEn);
    for (const { intent, text } of documents) nlp.addDocument('en', withPairs(text, pairs), intent);
    await nlp.train();
    return new NlpjsRecognizer(nlp, spelling, pairs, performance.now() - started, documents.length);
  }

  async recognize(message: string, now = new Date(), options: RecognizeOptions = {}): Promise<Recognition> {
    const utterance = message.slice(0, MAX_MESSAGE_LENGTH);
    const { entities, spans } = extractEntities(utterance, {
      now,
      utcOffsetMinutes: options.utcOffsetMinutes,
    });
    const text = withPairs(this.spelling.correct(prepare(utterance, spans)), this.pairs);
    const ranking = text === '' ? [] : await this.classify(text);
    const best = ranking[0] ?? { intent: 'none', score: 1 };
    return {
      intent: best.intent,
      score: best.score,
      entities,
      ranking: ranking.length > 0 ? ranking : [best],
    };
  }

  /** Every intent scored above zero, best first; NLP.js's own "None" counts as our `none`. */
  private async classify(text: string): Promise<IntentScore[]> {
    const result = await this.nlp.nluManager.process('en', text);
    const scores = new Map<IntentName, number>();
    for (const { intent, score } of result.classifications) {
      const name = intent === 'None' ? 'none' : intent;
      if (!isIntentName(name) || !(score > 0)) continue;
      scores.set(name, (scores.get(name) ?? 0) + score);
    }
    return [...scores]
      .map(([intent, score]) => ({ intent, score }))
      .sort((a, b) => b.score - a.score || a.intent.localeCompare(b.intent));
  }
}

/** Each pair of neighbouring words as one token ("last_import", "import_ximportref"). */
function bigrams(text: string): string[] {
  const words = text.split(' ').filter(Boolean);
  return words.slice(1).map((word, i) => `${words[i]}_${word}`);
}

/**
 * The text with its known word pairs appended. Pairs let the bag-of-words classifier tell "the last import"
 * from "import the last file"; unknown pairs are left out so they do not count as unknown words.
 */
function withPairs(text: string, known: ReadonlySet<string>): string {
  return [text, ...bigrams(text).filter((pair) => known.has(pair))].join(' ');
}

/** A message as the classifier sees it: placeholders for its entities, then normalized. */
function prepare(utterance: string, spans: readonly EntitySpan[]): string {
  return normalizeText(withPlaceholders(utterance, spans));
}

let shared: Promise<NlpjsRecognizer> | undefined;

/**
 * The recognizer trained on the repository's corpus, trained once per process and shared (it keeps no
 * per-conversation state). A failed training is not cached.
 */
export function sharedNlpjsRecognizer(): Promise<NlpjsRecognizer> {
  shared ??= NlpjsRecognizer.train().catch((err: unknown) => {
    shared = undefined;
    throw err;
  });
  return shared;
}
