import type { DType, Observations, Program } from '../spec/program.ts';

/** What an engine can do; clauses that need a missing capability are reported as not applicable. */
export interface Capabilities {
  dtypes: DType[];
  /** Observation fields the engine can report (spec/program.ts Observation). */
  fields: ('value' | 'shape' | 'dtype' | 'requiresGrad' | 'isLeaf' | 'gradFn' | 'nextFunctions' | 'repr' | 'version')[];
  /** Whose grad_fn names and messages the engine follows, e.g. `pytorch-1.13`. */
  profile: string;
}

/** An in-process adapter: programs in, observations out. It never sees expected values. */
export interface Adapter {
  name: string;
  version: string;
  capabilities: Capabilities;
  run(programs: readonly Program[]): Promise<Observations[]>;
}
