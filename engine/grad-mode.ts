import { fail, typeName } from './errors.ts';

/** Whether ops record a graph. One flag, consulted only when an op creates its result. */
let enabled = true;

export const isGradEnabled = (): boolean => enabled;

function checkFlag(flag: unknown, api: string): asserts flag is boolean {
  if (typeof flag !== 'boolean') fail('invalid-argument', `${api}(): expected a boolean, got ${typeName(flag)}`);
}

export function setGradEnabled(flag: boolean): void {
  checkFlag(flag, 'setGradEnabled');
  enabled = flag;
}

/** Runs fn with grad mode set to `flag`, restoring the previous mode even when fn throws. */
export function withGradMode<T>(flag: boolean, fn: () => T): T {
  checkFlag(flag, 'withGradMode');
  if (typeof fn !== 'function') fail('invalid-argument', `expected a function to run, got ${typeName(fn)}`);
  const previous = enabled;
  enabled = flag;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

export const noGrad = <T>(fn: () => T): T => withGradMode(false, fn);
export const enableGrad = <T>(fn: () => T): T => withGradMode(true, fn);
