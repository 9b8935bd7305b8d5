/**
 * What the assistant understands of an administrator's message: the contract between any recognizer (the
 * local NLP.js one today; an external engine such as Azure CLU or an LLM endpoint later, behind the same
 * interface) and the dialogs that answer.
 */

/** Every intent, by name. The names are a contract for the dialogs and the acceptance checks. */
export const INTENTS = [
  'history.last',
  'history.list',
  'import.details',
  'import.problems',
  'user.lookup',
  'invitations.status',
  'invitations.resend',
  'report.download',
  'import.undo',
  'import.retry',
  'import.start',
  'help',
  'cancel',
  'none',
] as const;

export type IntentName = (typeof INTENTS)[number];

export function isIntentName(name: string): name is IntentName {
  return (INTENTS as readonly string[]).includes(name);
}

/** The exact values found in a message; absent when not mentioned. */
export interface Entities {
  /** An email address, lower-cased. */
  email?: string;
  /** An import number as typed ("12" for "#12" or "import 12") or an import id (`imp_…`). */
  importRef?: string;
  /** A user file's name as typed ("users.csv", `"q3 staff.txt"` without the quotes). */
  fileName?: string;
  /** Start of the period mentioned, inclusive (ISO 8601). "since March 3" gives only `from`. */
  from?: string;
  /** End of the period mentioned, inclusive: its last millisecond (ISO 8601). "until May 5" gives only `to`. */
  to?: string;
}

export interface IntentScore {
  intent: IntentName;
  /** 0 to 1; the scores of one recognition add up to about 1. */
  score: number;
}

export interface Recognition {
  /** The best-scoring intent. Check {@link decide} before acting on it: a low score asks, not guesses. */
  intent: IntentName;
  score: number;
  entities: Entities;
  /** Every intent the engine scored above zero, best first (the first is `intent`). */
  ranking: IntentScore[];
}

export interface RecognizeOptions {
  /**
   * The administrator's offset from UTC in minutes (Teams and Web Chat send it with each message), so that
   * "yesterday" is their yesterday. Default 0 (UTC).
   */
  utcOffsetMinutes?: number;
}

/**
 * Understands one message. Implementations must not log or store the utterance (it carries personal data)
 * and must resolve dates relative to `now` (default: the current time).
 */
export interface Recognizer {
  /** Which engine answers, for logs and diagnostics ("local" for NLP.js). */
  readonly engine: string;
  recognize(utterance: string, now?: Date, options?: RecognizeOptions): Promise<Recognition>;
}

/** Below this score the assistant asks which of the likely intents was meant instead of guessing. */
export const LOW_CONFIDENCE = 0.6;

/** Intents scoring at least this much are offered as suggestions when asking. */
export const MIN_CANDIDATE_SCORE = 0.05;

/** How many suggestions a clarifying question offers at most. */
export const MAX_CANDIDATES = 3;

/** Offered, in this order, when the message gave too few likely intents (gibberish, off-topic requests). */
export const DEFAULT_SUGGESTIONS: readonly IntentName[] = ['history.last', 'history.list', 'help'];

export type Decision =
  /** Confident enough: answer this intent. */
  | { action: 'answer'; intent: IntentName; score: number }
  /**
   * Ask instead: `low-confidence` when the best intent scored under {@link LOW_CONFIDENCE} (say "Did you
   * mean…?"), `not-understood` when the message is about nothing the assistant does (say what it can do).
   * `candidates` are 2 or 3 intents, best first, to offer as suggested actions.
   */
  | { action: 'clarify'; reason: 'low-confidence' | 'not-understood'; candidates: IntentScore[] };

/** Decides whether a recognition is answered as it is or turned into a clarifying question. */
export function decide(recognition: Recognition): Decision {
  const { intent, score } = recognition;
  if (intent !== 'none' && score >= LOW_CONFIDENCE) return { action: 'answer', intent, score };
  return {
    action: 'clarify',
    reason: intent === 'none' && score >= LOW_CONFIDENCE ? 'not-understood' : 'low-confidence',
    candidates: candidates(recognition.ranking),
  };
}

/**
 * The intents worth suggesting, never `none`: the 2 or 3 likely ones, or, when fewer than 2 are likely, those
 * topped up to 3 with {@link DEFAULT_SUGGESTIONS}.
 */
export function candidates(ranking: readonly IntentScore[]): IntentScore[] {
  const likely = ranking
    .filter((c) => c.intent !== 'none' && c.score >= MIN_CANDIDATE_SCORE)
    .sort((a, b) => b.score - a.score)
    .slice(0, MAX_CANDIDATES);
  if (likely.length >= 2) return likely;
  for (const intent of DEFAULT_SUGGESTIONS) {
    if (likely.length >= MAX_CANDIDATES) break;
    if (likely.some((c) => c.intent === intent)) continue;
    likely.push({ intent, score: ranking.find((c) => c.intent === intent)?.score ?? 0 });
  }
  return likely;
}
