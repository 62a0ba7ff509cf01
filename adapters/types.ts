import type { DType, Observations, Program } from '../spec/program.ts';

/**
 * Behaviours a check may need beyond one backward pass and reading `.grad` (which every engine
 * can answer); an engine without one gets "not applicable" for that check.
 */
export const FEATURES = ['accumulate', 'retain-graph', 'create-graph', 'no-grad', 'detach', 'inplace', 'errors'] as const;
export type Feature = (typeof FEATURES)[number];

/** What an engine can do; clauses that need a missing capability are reported as not applicable. */
export interface Capabilities {
  dtypes: DType[];
  features: Feature[];
  /** The language failures are reproduced in: PyTorch code, or the program's JSON. */
  language?: 'pytorch' | 'json';
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
  /** Ends the engine's process, if it has one. */
  close?(): Promise<void>;
}
