/** Whether ops record a graph. One flag, consulted only when an op creates its result. */
let enabled = true;

export const isGradEnabled = (): boolean => enabled;

export function setGradEnabled(flag: boolean): void {
  enabled = flag;
}

/** Runs fn with grad mode set to `flag`, restoring the previous mode even when fn throws. */
export function withGradMode<T>(flag: boolean, fn: () => T): T {
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
