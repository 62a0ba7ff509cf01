import fc from 'fast-check';
import { toPytorch } from '../adapters/program/to-pytorch.ts';
import { EngineFault, runGuarded } from '../adapters/guard.ts';
import type { Adapter, Capabilities, Feature } from '../adapters/types.ts';
import type { ClauseId } from '../spec/clauses.ts';
import { isFloating, type DType, type FloatDType, type Observations, type Program, type Step } from '../spec/program.ts';

/**
 * A property: random samples become programs, an engine runs them through its adapter, and a
 * judge (usually an oracle) decides. Properties never touch an engine directly, so the same
 * property checks any engine that has an adapter.
 */
export interface Property<T> {
  /** Stable id, e.g. `gradient.polynomial.symbolic`. */
  id: string;
  /** The spec clauses it checks; the first is the one its test title starts with. */
  clauses: readonly [ClauseId, ...ClauseId[]];
  title: string;
  arbitrary: fc.Arbitrary<T>;
  /** The programs one sample runs, in one batch. */
  programs: (sample: T) => Program[];
  /** Null when the observations satisfy the property, else what went wrong. */
  judge: (sample: T, observed: Observations[], engine: Adapter, context: JudgeContext) => string | null;
  /** Samples the oracles cannot judge (kinks, overflow) are skipped, never counted as passes. */
  precondition?: (sample: T) => boolean;
  /** Engine features the judge relies on beyond what its programs show (e.g. expected errors). */
  needs?: Feature[];
  /**
   * Observation fields the judge compares besides values (e.g. `requiresGrad`): the property
   * exercises a field's clause on an engine only if the engine reports the field.
   */
  fields?: Capabilities['fields'];
  /** A share of the default number of runs, for properties whose samples are expensive. */
  runsFactor?: number;
  /**
   * The dtypes of the leaves are what the property judges (promotion): samples are never moved to
   * another dtype, and one with a leaf dtype the engine lacks is not run (not applicable).
   */
  keepDtypes?: boolean;
}

/**
 * How a sample actually ran: programs are written in float64 or float32, and an engine without
 * that dtype runs them in one it has (float32), so judges take the dtype and tolerance from here.
 */
export interface JudgeContext {
  dtype: FloatDType;
  /** Relative tolerance for comparing two results of the same engine (sums in another order). */
  rtol: number;
}

/**
 * The program in a dtype the engine has: float leaves and the default dtype move to the first
 * float dtype it supports. int64 and bool leaves stay as they are: no other dtype stands for them
 * (an engine without them does not run the sample, see missingDtype).
 */
export function retype(program: Program, dtypes: readonly DType[]): Program {
  const target = dtypes.find(isFloating) ?? 'float32';
  const used = new Set<DType>([program.dtype ?? 'float32']);
  const walk = (steps: readonly Step[]): void => steps.forEach((s) => {
    if ('tensor' in s && s.dtype) used.add(s.dtype);
    if ('noGrad' in s) walk(s.noGrad);
    if ('enableGrad' in s) walk(s.enableGrad);
  });
  walk(program.steps);
  if ([...used].every((d) => !isFloating(d) || dtypes.includes(d))) return program;
  const move = (steps: readonly Step[]): Step[] => steps.map((s) => {
    if ('tensor' in s) return s.dtype && !isFloating(s.dtype) ? s : { ...s, dtype: target };
    if ('noGrad' in s) return { noGrad: move(s.noGrad) };
    if ('enableGrad' in s) return { enableGrad: move(s.enableGrad) };
    return s;
  });
  return { ...program, dtype: target, steps: move(program.steps) };
}

/** The first dtype a program's leaves use that the engine does not declare (retype moved the float ones). */
export function missingDtype(programs: readonly Program[], dtypes: readonly DType[]): DType | null {
  let missing: DType | null = null;
  const walk = (steps: readonly Step[]): void => steps.forEach((s) => {
    if ('tensor' in s && s.dtype && !dtypes.includes(s.dtype)) missing ??= s.dtype;
    if ('noGrad' in s) walk(s.noGrad);
    if ('enableGrad' in s) walk(s.enableGrad);
    if ('repeat' in s) walk(s.steps);
  });
  for (const p of programs) walk(p.steps);
  return missing;
}

/** A property of any sample type, for lists of properties. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyProperty = Property<any>;

export interface PropertyResult {
  id: string;
  clauses: readonly string[];
  title: string;
  /** fault: the engine crashed, hung or answered garbage; the message says how. */
  status: 'pass' | 'fail' | 'not-applicable' | 'fault';
  numRuns: number;
  skipped: number;
  /** Samples the engine refused as not supported: not judged, not counted as passes. */
  notSupported: number;
  seed: number;
  /** Replays the failure: pass it with the seed to fast-check (GRADSPEC_PATH). */
  path?: string;
  message?: string;
  /** The shrunk counterexample's programs, and what the engine observed running them. */
  programs?: Program[];
  observed?: Observations[];
}

/** Called with every sample the judge saw, passed or failed: what the property exercised. */
export type OnJudged = (programs: readonly Program[], observed: readonly Observations[]) => void;

export const DEFAULT_SEED = 20261126;
export const DEFAULT_RUNS = 200;

export function settings(): { seed: number; numRuns: number; path?: string } {
  const seed = Number(process.env.GRADSPEC_SEED ?? DEFAULT_SEED);
  const numRuns = Number(process.env.GRADSPEC_RUNS ?? DEFAULT_RUNS);
  const path = process.env.GRADSPEC_PATH;
  return path ? { seed, numRuns, path } : { seed, numRuns };
}

class Judgement extends Error {}

/** Every sample asked for something the engine does not have: the property does not apply. */
class NothingApplies extends Error {}

/**
 * An engine that cannot express a step says so with an invalid-argument error whose message
 * starts `not supported by` (spec/adapters.md); such a run is not applicable, never judged.
 */
export const unsupported = (observed: readonly Observations[]): string | null =>
  observed.find((o) => o.error?.category === 'invalid-argument' && o.error.message.startsWith('not supported by'))?.error?.message ?? null;

/** After this many samples of which none could run, a property is reported not applicable. */
const GIVE_UP_AFTER = 20;

export async function checkProperty<T>(
  p: Property<T>,
  adapter: Adapter,
  options: { seed: number; numRuns: number; path?: string; onJudged?: OnJudged } = settings(),
): Promise<PropertyResult> {
  const numRuns = Math.max(1, Math.round(options.numRuns * (p.runsFactor ?? 1)));
  let skipped = 0;
  let notSupported = 0;
  let judged = 0;
  let reason = '';
  let fault: EngineFault | null = null;
  // The sample the engine faulted on, and its place in the run: a path that replays it.
  let faultedOn: { programs: Program[]; path: string } | null = null;
  let calls = 0;
  let crash: Error | null = null;
  // The last sample that failed is fast-check's final (shrunk) counterexample.
  let lastFailure: { programs: Program[]; observed: Observations[] } | null = null;
  const prop = fc.asyncProperty(p.arbitrary, async (sample) => {
    // After a fault, no more samples go to the engine: shrinking would only fault again.
    if (fault) throw fault;
    const call = calls++;
    if (p.precondition && !p.precondition(sample)) {
      skipped++;
      fc.pre(false);
    }
    const programs = p.programs(sample).map((program) => (p.keepDtypes ? program : retype(program, adapter.capabilities.dtypes)));
    const dtype = programs[0]?.dtype ?? 'float32';
    // A sample with an int64 or bool leaf the engine lacks is not run: not applicable, like a refusal.
    const lacking = missingDtype(programs, adapter.capabilities.dtypes);
    if (lacking) {
      notSupported++;
      reason = `not supported by ${adapter.name}: dtype ${lacking}`;
      if (judged === 0 && notSupported >= GIVE_UP_AFTER) throw new NothingApplies(reason);
      fc.pre(false);
    }
    let observed: Observations[];
    try {
      observed = await runGuarded(adapter, programs);
    } catch (e) {
      if (e instanceof EngineFault) {
        fault = e;
        faultedOn = { programs, path: options.path ?? String(call) };
      }
      throw e;
    }
    const refusal = unsupported(observed);
    if (refusal) {
      notSupported++;
      reason = refusal;
      if (judged === 0 && notSupported >= GIVE_UP_AFTER) throw new NothingApplies(refusal);
      fc.pre(false);
    }
    judged++;
    options.onJudged?.(programs, observed);
    let problem: string | null;
    try {
      problem = p.judge(sample, observed, adapter, { dtype, rtol: dtype === 'float64' ? 1e-12 : 1e-6 });
    } catch (e) {
      // The judge is gradspec's code: its crash is never blamed on the engine.
      crash = e instanceof Error ? e : new Error(String(e));
      throw crash;
    }
    if (problem !== null) {
      lastFailure = { programs, observed };
      throw new Judgement(problem);
    }
  });
  const details = await fc.check(prop, {
    seed: options.seed,
    numRuns,
    ...(options.path ? { path: options.path, endOnFailure: true } : {}),
  });
  const base = { id: p.id, clauses: p.clauses, title: p.title, numRuns: details.numRuns, skipped, notSupported, seed: options.seed };
  const error = details.errorInstance;
  if (error instanceof NothingApplies) return { ...base, numRuns: 0, status: 'not-applicable', message: error.message };
  const faulted = fault as EngineFault | null; // set inside the property, which TypeScript cannot see
  const on = faultedOn as { programs: Program[]; path: string } | null;
  if (faulted) return { ...base, status: 'fault', message: `engine fault: ${faulted.message}`, ...(on ? { programs: on.programs, path: on.path } : {}) };
  const crashed = crash as Error | null;
  if (crashed) return { ...base, status: 'fault', message: `gradspec internal error in this property's judge (not the engine's fault): ${crashed.name}: ${crashed.message}` };
  if (!details.failed) return { ...base, status: 'pass', ...(notSupported ? { message: `${notSupported} samples not supported: ${reason}` } : {}) };
  const sample = details.counterexample?.[0] as T | undefined;
  const message = error instanceof Judgement ? error.message : `the engine threw: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  const failure = lastFailure as { programs: Program[]; observed: Observations[] } | null; // set inside the property
  return {
    ...base,
    status: 'fail',
    path: details.counterexamplePath ?? undefined,
    message,
    programs: sample === undefined ? [] : p.programs(sample).map((program) => (p.keepDtypes ? program : retype(program, adapter.capabilities.dtypes))),
    ...(failure && error instanceof Judgement ? { observed: failure.observed } : {}),
  };
}

/** A word as a POSIX shell reads it back: bare when it is safe, else single-quoted. */
export const shellQuote = (word: string): string => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`);

/** The command that replays one property's failure; `engineArg` is the `--engine` argument as given. */
export const replayLine = (r: Pick<PropertyResult, 'seed' | 'path' | 'id'>, engineArg: string): string =>
  `GRADSPEC_SEED=${r.seed} GRADSPEC_PATH=${r.path ?? ''} npx gradspec check --engine ${shellQuote(engineArg)} --only ${r.id}`;

/** What a person needs to act on a failure: the clause, how to replay it, and the shrunk program. */
/** `blamed`: the clauses the failure counts against, when the suite knows them (default: the first cited). */
export function formatFailure(r: PropertyResult, engine: string, engineArg = engine, blamed: readonly string[] = r.clauses.slice(0, 1)): string {
  const lines = [
    `${blamed.join(', ')} ${r.title} — property ${r.id} failed on engine ${engine}`,
    `  ${r.message ?? ''}`,
    `  seed ${r.seed}, path ${r.path ?? '?'}; replay: ${replayLine(r, engineArg)}`,
  ];
  for (const program of r.programs ?? []) {
    lines.push(`  shrunk program ${program.id} (JSON):`, `    ${JSON.stringify(program)}`);
    lines.push('  as PyTorch code:', ...toPytorch(program).trimEnd().split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}
