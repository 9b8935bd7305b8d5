/**
 * The engines that can understand administrators' messages, chosen with `NLU_ENGINE`.
 *
 * `local` (the default and, today, the only engine) is NLP.js trained at start from the corpus in the
 * repository: offline, nothing sent anywhere. An external engine (Azure AI Language CLU, or an LLM endpoint
 * asked for the same JSON) becomes one more value here with its own settings, implementing the same
 * `Recognizer` interface, so nothing in the dialogs changes.
 */
export const NLU_ENGINES = ['local'] as const;
export type NluEngine = (typeof NLU_ENGINES)[number];
