import { promises as fs } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { loadCorpus, type Corpus } from '../services/understanding/corpus';
import { NlpjsRecognizer } from '../services/understanding/nlpjsRecognizer';
import { normalizeText } from '../services/understanding/normalize';
import {
  INTENTS,
  LOW_CONFIDENCE,
  type Entities,
  type IntentName,
} from '../services/understanding/recognizer';

/**
 * Measures the local recognizer on the labelled utterances (test/understanding/utterances.json): intent
 * accuracy on the held-out part it never trained on, the confusions, entity accuracy, and how long start-up
 * training takes. `--cv K` instead cross-validates on the training part (training without each fold), which
 * is what to look at while improving the corpus, so the held-out figure stays an honest one.
 */

const labelledSchema = z.object({
  now: z.iso.datetime(),
  utterances: z.array(
    z.object({
      text: z.string().min(1),
      intent: z.enum(INTENTS),
      split: z.enum(['train', 'test']),
      entities: z
        .object({
          email: z.string().optional(),
          importRef: z.string().optional(),
          fileName: z.string().optional(),
          from: z.string().optional(),
          to: z.string().optional(),
        })
        .strict()
        .optional(),
    }),
  ),
});
type Labelled = z.infer<typeof labelledSchema>['utterances'][number];

interface Confusion {
  expected: IntentName;
  got: IntentName;
  score: number;
  text: string;
}

interface Outcome {
  total: number;
  correct: number;
  accuracy: number;
  /** Answered directly (score at or above LOW_CONFIDENCE) and how many of those were right. */
  confident: number;
  confidentCorrect: number;
  entityTotal: number;
  entityCorrect: number;
  perIntent: Record<string, { total: number; correct: number }>;
  confusions: Confusion[];
  entityMisses: { text: string; expected: Entities; got: Entities }[];
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const percent = (part: number, whole: number) => (whole === 0 ? 0 : round((100 * part) / whole));

function sameEntities(a: Entities, b: Entities): boolean {
  const keys: (keyof Entities)[] = ['email', 'importRef', 'fileName', 'from', 'to'];
  return keys.every((k) => a[k] === b[k]);
}

async function evaluate(
  recognizer: NlpjsRecognizer,
  items: readonly Labelled[],
  now: Date,
): Promise<Outcome> {
  const outcome: Outcome = {
    total: 0,
    correct: 0,
    accuracy: 0,
    confident: 0,
    confidentCorrect: 0,
    entityTotal: 0,
    entityCorrect: 0,
    perIntent: {},
    confusions: [],
    entityMisses: [],
  };
  for (const item of items) {
    const recognition = await recognizer.recognize(item.text, now);
    const right = recognition.intent === item.intent;
    const perIntent = (outcome.perIntent[item.intent] ??= { total: 0, correct: 0 });
    outcome.total++;
    perIntent.total++;
    if (right) {
      outcome.correct++;
      perIntent.correct++;
    } else {
      outcome.confusions.push({
        expected: item.intent,
        got: recognition.intent,
        score: round(recognition.score, 3),
        text: item.text,
      });
    }
    if (recognition.score >= LOW_CONFIDENCE) {
      outcome.confident++;
      if (right) outcome.confidentCorrect++;
    }
    const expected = item.entities ?? {};
    outcome.entityTotal++;
    if (sameEntities(recognition.entities, expected)) outcome.entityCorrect++;
    else outcome.entityMisses.push({ text: item.text, expected, got: recognition.entities });
  }
  outcome.accuracy = percent(outcome.correct, outcome.total);
  return outcome;
}

/** The corpus without the given examples (to train without a cross-validation fold). */
function without(corpus: Corpus, items: readonly Labelled[]): Corpus {
  const drop = new Set(items.map((i) => `${i.intent}\n${normalizeText(i.text)}`));
  const kept = {} as Record<IntentName, string[]>;
  for (const intent of INTENTS)
    kept[intent] = corpus[intent].filter((t) => !drop.has(`${intent}\n${normalizeText(t)}`));
  return kept;
}

/** Held-out utterances that also appear, normalized, in the corpus: each one makes the figure dishonest. */
function leaks(corpus: Corpus, heldOut: readonly Labelled[]): string[] {
  const known = new Set(INTENTS.flatMap((intent) => corpus[intent].map(normalizeText)));
  return heldOut.filter((i) => known.has(normalizeText(i.text))).map((i) => i.text);
}

function printOutcome(title: string, o: Outcome): void {
  console.log(`${title}: ${o.correct}/${o.total} = ${o.accuracy}% intent accuracy`);
  console.log(
    `  answered without asking (score >= ${LOW_CONFIDENCE}): ${o.confident}/${o.total}, of which right: ${o.confidentCorrect} (${percent(o.confidentCorrect, o.confident)}%)`,
  );
  console.log(
    `  entities exactly right: ${o.entityCorrect}/${o.entityTotal} (${percent(o.entityCorrect, o.entityTotal)}%)`,
  );
  console.log('  per intent:');
  for (const intent of INTENTS) {
    const p = o.perIntent[intent];
    if (p) console.log(`    ${intent.padEnd(20)} ${p.correct}/${p.total}`);
  }
  console.log(
    o.confusions.length === 0 ? '  confusions: none' : '  confusions (expected -> got, score, utterance):',
  );
  for (const c of o.confusions) console.log(`    ${c.expected} -> ${c.got} (${c.score}): ${c.text}`);
  for (const m of o.entityMisses)
    console.log(
      `  entity miss: ${m.text}\n    expected ${JSON.stringify(m.expected)}\n    got      ${JSON.stringify(m.got)}`,
    );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      file: { type: 'string', default: path.join('test', 'understanding', 'utterances.json') },
      split: { type: 'string', default: 'test' },
      cv: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!['train', 'test', 'all'].includes(values.split)) throw new Error('--split must be train, test or all');
  const labelled = labelledSchema.parse(JSON.parse(await fs.readFile(values.file, 'utf8')));
  const now = new Date(labelled.now);
  const corpus = loadCorpus();

  if (values.cv !== undefined) {
    const folds = Number(values.cv);
    if (!Number.isInteger(folds) || folds < 2)
      throw new Error('--cv must be a whole number of folds, 2 or more');
    const train = labelled.utterances.filter((u) => u.split === 'train');
    const total: Outcome[] = [];
    for (let fold = 0; fold < folds; fold++) {
      const part = train.filter((_, i) => i % folds === fold);
      const recognizer = await NlpjsRecognizer.train(without(corpus, part));
      total.push(await evaluate(recognizer, part, now));
    }
    const merged = total.reduce((a, b) => ({
      ...a,
      total: a.total + b.total,
      correct: a.correct + b.correct,
      confident: a.confident + b.confident,
      confidentCorrect: a.confidentCorrect + b.confidentCorrect,
      entityTotal: a.entityTotal + b.entityTotal,
      entityCorrect: a.entityCorrect + b.entityCorrect,
      perIntent: Object.fromEntries(
        INTENTS.map((i) => [
          i,
          {
            total: (a.perIntent[i]?.total ?? 0) + (b.perIntent[i]?.total ?? 0),
            correct: (a.perIntent[i]?.correct ?? 0) + (b.perIntent[i]?.correct ?? 0),
          },
        ]),
      ),
      confusions: [...a.confusions, ...b.confusions],
      entityMisses: [...a.entityMisses, ...b.entityMisses],
    }));
    merged.accuracy = percent(merged.correct, merged.total);
    if (values.json) console.log(JSON.stringify({ crossValidation: { folds, ...merged } }, null, 2));
    else printOutcome(`${folds}-fold cross-validation on the training part`, merged);
    return;
  }

  // Start-up cost as the bot pays it: the modules are loaded by now, so this is the training itself.
  const loadedAt = performance.now();
  const recognizer = await NlpjsRecognizer.train(corpus);
  const firstAnswerStarted = performance.now();
  await recognizer.recognize('how did the last import go', now);
  const firstAnswerMs = performance.now() - firstAnswerStarted;
  const items = labelled.utterances.filter((u) => values.split === 'all' || u.split === values.split);
  const heldOut = labelled.utterances.filter((u) => u.split === 'test');
  const leaked = leaks(corpus, heldOut);
  const started = performance.now();
  const outcome = await evaluate(recognizer, items, now);
  const perUtteranceMs = (performance.now() - started) / Math.max(1, items.length);
  const timing = {
    processStartToTrainedMs: Math.round(loadedAt + recognizer.trainingMs),
    trainingMs: Math.round(recognizer.trainingMs),
    firstAnswerMs: round(firstAnswerMs, 2),
    perUtteranceMs: round(perUtteranceMs, 2),
  };
  if (values.json) {
    console.log(
      JSON.stringify(
        { split: values.split, examples: recognizer.examples, timing, leakedHeldOut: leaked, ...outcome },
        null,
        2,
      ),
    );
    return;
  }
  console.log(
    `Training: ${recognizer.examples} examples in ${timing.trainingMs} ms (process start to trained: ${timing.processStartToTrainedMs} ms); ` +
      `first answer ${timing.firstAnswerMs} ms, then ${timing.perUtteranceMs} ms per utterance`,
  );
  const counts = INTENTS.map(
    (i) => labelled.utterances.filter((u) => u.intent === i && u.split === 'test').length,
  );
  console.log(
    `Labelled set: ${labelled.utterances.length} utterances, ${heldOut.length} held out (${Math.min(...counts)} to ${Math.max(...counts)} per intent)`,
  );
  if (leaked.length > 0)
    console.log(`WARNING: held-out utterances found in the corpus: ${leaked.join(' | ')}`);
  printOutcome(values.split === 'test' ? 'Held-out' : `Split "${values.split}"`, outcome);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
