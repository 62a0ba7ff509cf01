import type { Observations, Program } from '../spec/program.ts';
import { observationsProblem } from './program/validate.ts';
import type { Adapter, RunOptions } from './types.ts';

/**
 * An engine fault: the adapter crashed, hung, threw, or answered something that is not
 * observations. It is reported for the programs concerned, never judged as a pass or a failure.
 */
export class EngineFault extends Error {
  override readonly name = 'EngineFault';
}

/** Runs programs and checks that the answer has the observations format, one per program. */
export async function runGuarded(adapter: Adapter, programs: readonly Program[], options?: RunOptions): Promise<Observations[]> {
  let results: unknown;
  try {
    results = await adapter.run(programs, options);
  } catch (e) {
    throw new EngineFault(e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e));
  }
  if (!Array.isArray(results) || results.length !== programs.length) {
    throw new EngineFault(`the engine answered ${Array.isArray(results) ? results.length : 'no list of'} results for ${programs.length} programs`);
  }
  results.forEach((r, i) => {
    const problem = observationsProblem(r);
    if (problem) throw new EngineFault(`malformed observations for program ${programs[i]!.id}: ${problem}`);
  });
  return results as Observations[];
}
