import type { ErrorCategory, ObservedError, Step } from '../../spec/program.ts';

/** How an adapter sees one step's error: a category and message, or null for a bug to rethrow. */
export type Classify = (e: unknown) => { category: ErrorCategory; message: string } | null;

/** Runs steps in order; `run` executes a nested block (noGrad, enableGrad) under its own path. */
export type Exec = (step: Step, path: string, run: (steps: readonly Step[], path: string) => void) => void;

class StepFailure extends Error {
  constructor(readonly error: ObservedError) {
    super(error.message);
  }
}

/**
 * The walk every adapter shares: steps in order, each with its path (`"4"`, `"4.1"` inside a
 * block), stopping at the first error, which is returned as the program's observed error.
 */
export function runSteps(steps: readonly Step[], exec: Exec, classify: Classify): ObservedError | null {
  const run = (list: readonly Step[], path: string): void => {
    list.forEach((step, i) => {
      const at = path ? `${path}.${i}` : `${i}`;
      try {
        exec(step, at, run);
      } catch (e) {
        if (e instanceof StepFailure) throw e;
        const observed = classify(e);
        if (!observed) throw e;
        throw new StepFailure({ step: at, ...observed });
      }
    });
  };
  try {
    run(steps, '');
    return null;
  } catch (e) {
    if (e instanceof StepFailure) return e.error;
    throw e;
  }
}

/** A backward gradient given as `{ ref }` rather than as data. */
export const isRef = (g: unknown): g is { ref: string } => typeof g === 'object' && g !== null && !Array.isArray(g);
