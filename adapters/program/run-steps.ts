import type { ErrorCategory, ObservedError, Step } from '../../spec/program.ts';

/** How an adapter sees one step's error: a category and message, or null for a bug to rethrow. */
export type Classify = (e: unknown) => { category: ErrorCategory; message: string } | null;

/**
 * Runs one step; `run` executes a nested block (noGrad, enableGrad) under its own path. Repeat
 * steps never reach it: the walk runs their bodies itself.
 */
export type Exec = (step: Step, path: string, run: (steps: readonly Step[], path: string) => void) => void;

class StepFailure extends Error {
  constructor(readonly error: ObservedError) {
    super(error.message);
  }
}

/** V8's message when the call stack is exhausted. */
const STACK_OVERFLOW = /Maximum call stack size exceeded/;

/**
 * The walk every adapter shares: steps in order, each with its path (`"4"`, `"4.1"` inside a
 * block, `"4.17.0"` for body step 0 of a repeat step 4 in iteration 17), stopping at the first
 * error, which is returned as the program's observed error. An engine that exhausts the call
 * stack while running a step (a deep graph, backward.iterative) has failed that step: that is
 * reported as the step's error (`invalid-argument`, the engine's message), not thrown.
 */
export function runSteps(steps: readonly Step[], exec: Exec, classify: Classify): ObservedError | null {
  const run = (list: readonly Step[], path: string): void => {
    for (let i = 0; i < list.length; i++) {
      const step = list[i]!;
      const at = path ? `${path}.${i}` : `${i}`;
      if ('repeat' in step) {
        for (let k = 0; k < step.repeat; k++) run(step.steps, `${at}.${k}`);
        continue;
      }
      try {
        exec(step, at, run);
      } catch (e) {
        if (e instanceof StepFailure) throw e;
        const observed = stackOverflow(e) ?? classify(e);
        if (!observed) throw e;
        throw new StepFailure({ step: at, ...observed });
      }
    }
  };
  try {
    run(steps, '');
    return null;
  } catch (e) {
    if (e instanceof StepFailure) return e.error;
    throw e;
  }
}

function stackOverflow(e: unknown): { category: ErrorCategory; message: string } | null {
  return e instanceof RangeError && STACK_OVERFLOW.test(e.message) ? { category: 'invalid-argument', message: e.message } : null;
}

/** A backward gradient given as `{ ref }` rather than as data. */
export const isRef = (g: unknown): g is { ref: string } => typeof g === 'object' && g !== null && !Array.isArray(g);
