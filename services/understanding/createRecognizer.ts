import { z } from 'zod';
import { AppError } from '../errors';
import { sharedNlpjsRecognizer } from './nlpjsRecognizer';
import type { Recognizer } from './recognizer';

/**
 * Chooses the engine that understands administrators' messages, by configuration.
 *
 * `NLU_ENGINE=local` (the default and, today, the only engine) is NLP.js trained at start from the corpus in
 * the repository: offline, nothing sent anywhere. An external engine (Azure AI Language CLU, or an LLM
 * endpoint asked for the same JSON) plugs in here later as one more value of `NLU_ENGINE` with its own
 * settings (endpoint, key, project), implementing the same {@link Recognizer} interface: it returns the same
 * intent names with scores, and entities in the same shape (it may reuse `extractEntities` for the exact
 * ones), so nothing in the dialogs changes.
 */

export const NLU_ENGINES = ['local'] as const;
export type NluEngine = (typeof NLU_ENGINES)[number];

export interface UnderstandingConfig {
  nluEngine: NluEngine;
}

const schema = z.object({
  NLU_ENGINE: z
    .string()
    .trim()
    .toLowerCase()
    .transform((v) => v || 'local')
    .pipe(z.enum(NLU_ENGINES, { error: `must be one of: ${NLU_ENGINES.join(', ')}` }))
    .default('local'),
});

/** Reads `NLU_ENGINE` (default `local`); a bad value throws `config-invalid` naming the setting. */
export function understandingConfig(env: NodeJS.ProcessEnv = process.env): UnderstandingConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new AppError('config-invalid', `Invalid configuration:\n  ${lines.join('\n  ')}`, {
      settings: parsed.error.issues.map((i) => i.path.join('.')),
    });
  }
  return { nluEngine: parsed.data.NLU_ENGINE };
}

/** The recognizer the configuration names, ready to use (the local one is trained once per process). */
export async function createRecognizer(config: UnderstandingConfig): Promise<Recognizer> {
  switch (config.nluEngine) {
    case 'local':
      return sharedNlpjsRecognizer();
  }
}
