import { requirePackage } from './require-package.js';

type Levenshtein = typeof import('fastest-levenshtein');
let levenshtein: Levenshtein | undefined;

/** Suggest the closest of `candidates` when it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (!candidates.length) return undefined;
  // loaded when a suggestion is first wanted (a spec with a typo), not at every start
  levenshtein ??= requirePackage('fastest-levenshtein') as Levenshtein;
  const { closest, distance } = levenshtein;
  const best = closest(word, candidates as string[]);
  const limit = Math.max(2, Math.floor(word.length / 3));
  return distance(word, best) <= limit ? best : undefined;
}
