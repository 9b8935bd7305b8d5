/** The small part of NLP.js (which ships no types) that the local recognizer uses. */
declare module '@nlpjs/nlp' {
  export interface NlpClassification {
    intent: string;
    score: number;
  }

  export interface NluResult {
    intent: string;
    score: number;
    classifications: NlpClassification[];
  }

  export interface NlpContainer {
    register(name: string, instance: object, isSingleton?: boolean): void;
  }

  export class Nlp {
    constructor(settings?: Record<string, unknown>);
    readonly container: NlpContainer;
    readonly nluManager: {
      process(locale: string, utterance: string): Promise<NluResult>;
    };
    use(plugin: unknown): void;
    addDocument(locale: string, utterance: string, intent: string): void;
    train(): Promise<unknown>;
  }
}

declare module '@nlpjs/lang-en-min' {
  export const LangEn: unknown;
}
