import type { DType, Observations, Program } from '../spec/program.ts';

/**
 * Behaviours a check may need beyond one backward pass and reading `.grad` (which every engine
 * can answer); an engine without one gets "not applicable" for that check.
 */
export const FEATURES = ['accumulate', 'retain-graph', 'create-graph', 'no-grad', 'detach', 'inplace', 'errors'] as const;
export type Feature = (typeof FEATURES)[number];

/**
 * Observation fields an engine may report (spec/program.ts Observation), `label` and `none` aside.
 * The layout fields and sharesStorage are reported only where an observe step asks for them.
 */
export const FIELDS = [
  'value', 'shape', 'dtype', 'requiresGrad', 'isLeaf', 'gradFn', 'nextFunctions', 'repr', 'version',
  'stride', 'storageOffset', 'isContiguous', 'isView', 'sharesStorage',
] as const;
/** The fields an observe step with `layout` asks for. */
export const LAYOUT_FIELDS = ['stride', 'storageOffset', 'isContiguous', 'isView'] as const;
export type Field = (typeof FIELDS)[number];

/** The languages failures are reproduced in: PyTorch code, or the program's JSON. */
export const LANGUAGES = ['pytorch', 'json'] as const;

/**
 * What an engine can do; clauses that need a missing capability are reported as not applicable.
 * adapters/capabilities.ts validates a declaration and fills in the defaults of spec/adapters.md.
 */
export interface Capabilities {
  dtypes: DType[];
  features: Feature[];
  /** The language failures are reproduced in: PyTorch code, or the program's JSON. */
  language?: (typeof LANGUAGES)[number];
  /** Observation fields the engine can report (spec/program.ts Observation). */
  fields: Field[];
  /** Whose grad_fn names and messages the engine follows: `pytorch-1.13`, or the engine's own, e.g. `my-engine-1.0`. */
  profile: string;
}

export interface RunOptions {
  /** How long this call may take, for an engine in another process; in-process adapters ignore it. */
  timeoutMs?: number;
}

/** An in-process adapter: programs in, observations out. It never sees expected values. */
export interface Adapter {
  name: string;
  version: string;
  capabilities: Capabilities;
  run(programs: readonly Program[], options?: RunOptions): Promise<Observations[]>;
  /**
   * How long one program, run again alone after a batch of `batchSize` programs faulted, may take
   * (engines in another process); without it, runs alone have no timeout of their own.
   */
  retryTimeoutMs?(batchSize: number): number;
  /** Ends the engine's process, if it has one. */
  close?(): Promise<void>;
}

/** The engine cannot be used: it did not start, said hello wrongly, or declared invalid capabilities. */
export class AdapterError extends Error {
  override readonly name = 'AdapterError';
}
