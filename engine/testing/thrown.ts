import { EngineError } from '../errors.ts';

/** The EngineError a call raises; anything else it raises, or no error at all, fails the test. */
export function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw new Error(`expected an EngineError, got ${String(e)}`);
  }
  throw new Error('expected a throw');
}
