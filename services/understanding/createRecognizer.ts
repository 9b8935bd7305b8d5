import type { Config } from '../config';
import { sharedNlpjsRecognizer } from './nlpjsRecognizer';
import type { Recognizer } from './recognizer';

/**
 * The recognizer the configuration names (`NLU_ENGINE`, see `nluEngines.ts`), ready to use. The local one is
 * trained once per process, so hosts create it at start rather than per message.
 */
export async function createRecognizer(config: Pick<Config, 'nluEngine'>): Promise<Recognizer> {
  switch (config.nluEngine) {
    case 'local':
      return sharedNlpjsRecognizer();
  }
}
