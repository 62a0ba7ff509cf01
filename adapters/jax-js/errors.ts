import type { ErrorCategory } from '../../spec/program.ts';

/** An error the adapter raises itself: a step jax-js cannot express, or a reference to None. */
export class AdapterRefusal extends Error {
  override readonly name = 'AdapterRefusal';
}

/** A step the engine has no way to express; always category invalid-argument. */
export const notSupported = (what: string): AdapterRefusal => new AdapterRefusal(`not supported by jax-js: ${what}`);

/**
 * jax-js's own error texts, first match wins, mapped to the program format's categories. jax-js
 * has no autograd state, so only shape, dim and scalar-output errors exist; PyTorch's
 * no-grad-fn, input-no-grad, unused-input and non-leaf-requires-grad have no counterpart.
 */
const TABLE: [RegExp, ErrorCategory][] = [
  [/^grad requires a scalar output/, 'implicit-non-scalar'],
  [/^Incompatible array broadcast shapes/, 'shape-mismatch'],
  [/shapes not aligned/, 'shape-mismatch'],
  [/^Invalid reshape/, 'shape-mismatch'],
  [/^Can't expand/, 'shape-mismatch'],
  [/unbroadcast shape mismatch/, 'shape-mismatch'],
  // concatenate and stack of arrays whose shapes do not agree (PyTorch's cat and stack say shape-mismatch too).
  [/^Cannot concatenate arrays|^Cannot stack arrays with different shapes/, 'shape-mismatch'],
  [/out of bounds for array/, 'invalid-argument'],
  [/^Duplicate axis/, 'invalid-argument'],
  [/^Invalid transpose permutation/, 'invalid-argument'],
  [/must be at least 1D/, 'invalid-argument'],
  [/^Reshape cannot have negative numbers/, 'invalid-argument'],
  [/^Cannot squeeze/, 'invalid-argument'],
  [/has fewer dimensions than input/, 'invalid-argument'],
  [/^Jagged shape/, 'invalid-argument'],
];

/**
 * Errors that mean the adapter itself is wrong (a misused reference count, a JavaScript slip):
 * they must stop the run, never be recorded as something the engine refused.
 */
function isAdapterBug(e: Error): boolean {
  return e.name === 'UseAfterFreeError' || e instanceof ReferenceError || e instanceof RangeError
    || (e instanceof TypeError && /Cannot read properties|is not a function|is not iterable|Cannot convert/.test(e.message));
}

/** The category of an error thrown while running a step; rethrows adapter bugs. */
export function categorize(e: unknown): { category: ErrorCategory; message: string } {
  if (!(e instanceof Error) || isAdapterBug(e)) throw e;
  if (e instanceof AdapterRefusal) return { category: 'invalid-argument', message: e.message };
  const row = TABLE.find(([pattern]) => pattern.test(e.message));
  // Anything else jax-js refuses is, by the format's definition, invalid-argument.
  return { category: row?.[1] ?? 'invalid-argument', message: e.message };
}
