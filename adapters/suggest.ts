import { distance } from 'fastest-levenshtein';

/**
 * The closest known name to a mistyped one, for "did you mean" hints: within a third of the
 * word's length in edits (at least 2), or undefined when nothing is that close.
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

/** `unknown feature 'acumulate' (did you mean 'accumulate'?); known: a, b, c` */
export function unknownName(what: string, word: string, known: readonly string[]): string {
  const hint = closest(word, known);
  return `unknown ${what} '${word}'${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${known.join(', ')}`;
}
