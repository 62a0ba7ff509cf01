import type { ErrorCategory } from '../../spec/program.ts';

/** A step the adapter refuses before tfjs runs it: what tfjs cannot express. */
export class Refusal extends Error {
  constructor(readonly category: ErrorCategory, message: string) {
    super(message);
  }
}

export const notSupported = (what: string): Refusal => new Refusal('invalid-argument', `not supported by tfjs: ${what}`);

/**
 * tfjs's own messages, mapped to the categories of spec/program.ts. First match wins; tfjs throws
 * plain `Error`s from its assertions, so the message is all there is to go by.
 */
const CATEGORIES: [RegExp, ErrorCategory][] = [
  // tf.variableGrads: backward of a non-scalar (tf.grads would seed it with ones instead).
  [/must return a scalar/, 'implicit-non-scalar'],
  // tf.variableGrads: no trainable variable at all, or none connected to the result.
  [/expects at least one of the input variables to be trainable|Cannot find a connection between any variable/, 'no-grad-fn'],
  // tfjs checks connections twice, with two texts. The engine's check, on one line: no input
  // reaches y at all, as when y has no history (PyTorch's "does not require grad and does not
  // have a grad_fn"). tf.grads's check, broken over two lines: some input gets no gradient.
  [/^Cannot compute gradient of y=f\(x\) with respect to x\. Make sure that the f/, 'no-grad-fn'],
  [/^Cannot compute gradient of y=f\(x\) with respect to x\. Make sure that\n/, 'unused-input'],
  // matMul of an operand without dimensions: tfjs reports an undefined inner size; PyTorch refuses
  // the argument itself ("both arguments to matmul need to be at least 1D").
  [/^Error in matMul: inner shapes .*\(undefined\)/, 'invalid-argument'],
  [/The shape of dy passed|Error in gradient for op .* does not match the shape/, 'shape-mismatch'],
  [/could not be broadcast|cannot be broadcast|inner shapes .* must match|must match the product of shape|implicit shape can't be a fractional/, 'shape-mismatch'],
  // concat and stack of tensors whose ranks or sizes do not agree (PyTorch's cat and stack say shape-mismatch too).
  [/must be the same as the rank of the rest|does not match the shape of the rest|must have matching shapes/, 'shape-mismatch'],
  // Everything else tfjs refuses: axes out of range, bad permutations, unknown dtypes, ...
  [/./, 'invalid-argument'],
];

/** The category of an error thrown while running a step; anything but an engine refusal is a bug and is rethrown. */
export function categorize(e: unknown): { category: ErrorCategory; message: string } {
  if (e instanceof Refusal) return { category: e.category, message: e.message };
  // tfjs throws plain Errors; a TypeError or RangeError here is a bug of the adapter, not an observation.
  if (!(e instanceof Error) || e.constructor !== Error) throw e;
  const category = CATEGORIES.find(([pattern]) => pattern.test(e.message))?.[1] ?? 'invalid-argument';
  return { category, message: e.message };
}
