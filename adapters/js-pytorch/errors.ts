import type { ErrorCategory } from '../../spec/program.ts';

/** A step js-pytorch cannot express; recorded as `invalid-argument`, like any refusal. */
export class NotSupported extends Error {
  override readonly name = 'NotSupported';
  constructor(what: string) {
    super(`not supported by js-pytorch: ${what}`);
  }
}

/** An error the adapter raises where PyTorch would, for a reference the program reads. */
export class StepError extends Error {
  constructor(readonly category: ErrorCategory, message: string) {
    super(message);
  }
}

/**
 * js-pytorch throws plain `Error`s; their messages are the only way to tell them apart. Ordered:
 * the first pattern that matches decides. Anything else the engine throws (including TypeErrors
 * from inside its array code) is a refusal of the step: `invalid-argument`, message kept.
 */
const CATEGORIES: [RegExp, ErrorCategory][] = [
  [/requires_grad set to False/, 'no-grad-fn'], // backward() of a tensor that does not require grad
  [/inhomogeneous shape/, 'invalid-argument'], // ragged data
  // Elementwise ops that find no broadcast: _add throws, _mul/_div return nothing and the
  // Tensor constructor then refuses the missing data.
  [/cannot be added|not broadcastable|is not a number or an iterable/, 'shape-mismatch'],
  [/Cannot perform Mat(rix Multiplication|Mul)/, 'shape-mismatch'],
  [/reshape into invalid shape/, 'shape-mismatch'],
  [/Dimension larger than array|Dimension invalid|dimensions are invalid|dimensions are not consecutive/, 'invalid-argument'],
];

export function categorize(e: unknown): { category: ErrorCategory; message: string } {
  if (e instanceof StepError) return { category: e.category, message: e.message };
  const message = e instanceof Error ? (e.name === 'Error' || e instanceof NotSupported ? e.message : `${e.name}: ${e.message}`) : String(e);
  const hit = CATEGORIES.find(([pattern]) => pattern.test(message));
  return { category: hit ? hit[1] : 'invalid-argument', message };
}
