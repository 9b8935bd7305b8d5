import { z } from 'zod';
import corpusFile from './corpus.json';
import { INTENTS, type IntentName } from './recognizer';

/** Example messages per intent: what the local recognizer learns from. */
export type Corpus = Readonly<Record<IntentName, readonly string[]>>;

const examples = z.array(z.string().trim().min(1)).min(1);

const corpusSchema = z.object({
  intents: z.strictObject(
    Object.fromEntries(INTENTS.map((intent) => [intent, examples])) as Record<IntentName, typeof examples>,
  ),
});

/**
 * The corpus kept in the repository (`corpus.json` beside this file), checked: every intent has examples and
 * no other intent appears. Throws naming what is wrong.
 */
export function loadCorpus(source: unknown = corpusFile): Corpus {
  const parsed = corpusSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`The understanding corpus is invalid: ${problems}`);
  }
  return parsed.data.intents;
}
