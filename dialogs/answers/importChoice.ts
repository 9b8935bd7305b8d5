import { z } from 'zod';
import { normalizeUtterance } from '../reviewReply';

const ORDINALS: Record<string, number> = {
  first: 0,
  '1st': 0,
  second: 1,
  '2nd': 1,
  third: 2,
  '3rd': 2,
};

/** An import offered in a "Which import?" question, as dialog state keeps it (plain JSON). */
export interface ImportChoice {
  importId: string;
  number?: number;
  fileName: string;
}

const choiceSubmit = z.object({ action: z.literal('chooseImport'), importId: z.string().max(64) });

/**
 * Which of the offered imports the administrator picked: "#12", "12", "import 12", "the second one",
 * "latest", a file name, or a click on one of the offered buttons. Undefined when the reply names none of
 * them.
 */
export function pickImport(
  text: string,
  value: unknown,
  candidates: readonly ImportChoice[],
): ImportChoice | undefined {
  const clicked = choiceSubmit.safeParse(value);
  if (clicked.success) return candidates.find((c) => c.importId === clicked.data.importId);
  const said = normalizeUtterance(text.slice(0, 200));
  if (!said) return undefined;
  // eslint-disable-next-line security/detect-unsafe-regex -- optional words only, anchored; replies are cut to 200 characters
  const number = /^(?:(?:the\s+)?(?:import|imp|no|number)\s*)?#?\s*(\d{1,9})(?:\s+one)?$/.exec(said);
  if (number) return candidates.find((c) => c.number === Number(number[1]));
  const id = /\bimp_[a-z0-9]+\b/.exec(said);
  if (id) return candidates.find((c) => c.importId === id[0]);
  // eslint-disable-next-line security/detect-unsafe-regex -- optional words only, anchored; replies are cut to 200 characters
  const ordinal = /^(?:the\s+)?(first|1st|second|2nd|third|3rd)(?:\s+one)?$/.exec(said);
  if (ordinal?.[1] !== undefined) return candidates[ORDINALS[ordinal[1]] ?? -1];
  // eslint-disable-next-line security/detect-unsafe-regex -- optional words only, anchored; replies are cut to 200 characters
  if (/^(?:the\s+)?(?:latest|newest|most recent|last)(?:\s+one)?$/.test(said)) return candidates[0];
  const byName = candidates.filter((c) => c.fileName.toLowerCase() === said);
  return byName.length === 1 ? byName[0] : undefined;
}
