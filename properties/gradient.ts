import type fc from 'fast-check';
import type { Adapter } from '../adapters/types.ts';
import { compareGradient, FD_SAFETY, inDtype, isExact } from '../oracles/compare.ts';
import { detachedValues, evaluateProgram, selectOf, type Evaluated } from '../oracles/evaluate.ts';
import { broadcastIndex, broadcastShapes, reducePlan } from '../oracles/shape.ts';
import { gradientFD, richardson, type Estimate } from '../oracles/finite-difference.ts';
import { gaussian, mulberry32 } from '../oracles/random.ts';
import { expandProgram } from '../oracles/expand.ts';
import { evaluate, programScope, symbolicGradient } from '../oracles/symbolic.ts';
import type { ClauseId } from '../spec/clauses.ts';
import { isFloating, SELECTION_OPS, type Data, type FloatDType, type Observations, type OpStep, type Program, type Step } from '../spec/program.ts';
import { hasNonFiniteLeaf, judgeNonFinite, type NonFiniteRule } from './non-finite.ts';
import { find, flat, closeAll, errorOf } from './observed.ts';
import type { Property } from './property.ts';

/**
 * Gradient properties: a program computes a scalar `out` from leaves that require grad; the
 * engine's forward value and `.grad` of each leaf are judged by both oracles: mathjs symbolic
 * derivatives of the program's expanded expressions, and Richardson finite differences of an
 * independent float64 forward. Neither oracle sees the engine's rules.
 */
export interface GradientCase {
  /** Leaf and op steps only; the property adds the backward pass and the observations. */
  program: Program;
  /**
   * The program the engine runs, when it is not `program`: one with in-place writes, of which
   * `program` is the restatement without them that the oracles judge. Both bind the same names.
   */
  run?: Program;
  out: string;
  inputs: string[];
  /**
   * The value whose forward is compared with the oracles (default: out). Op properties name the
   * op's own result: in float32, a weighted sum that cancels loses digits no single op is to blame for.
   */
  forward?: string;
  /**
   * How a sample with nan, inf or -inf leaves is judged (properties/non-finite.ts): the oracles
   * cannot judge their gradients. A case without a rule must not have such leaves: they are skipped.
   */
  nonFinite?: NonFiniteRule;
}

/** Kinks and overflow are where no oracle can judge: relu/abs arguments near 0, huge values. */
const KINK_OPS = new Set(['relu', 'abs', 'leakyRelu', 'elu']);
const MAX_MAGNITUDE = 1e8;

type Values = Map<string, Evaluated>;

const allFinite = (values: Values): boolean => [...values.values()].every((v) => v.values.every(Number.isFinite));

/** Whether two values are within reach of one finite-difference step (relative to their size). */
const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-3 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Whether a selection is at or near a tie: a term other than the selected one lies within 1e-3
 * of it, so that finite differences see another term take over (at a tie of k terms they give
 * 1/2, not PyTorch's 1/k). Ties are judged by the symbolic oracle and by recorded fixtures.
 */
function nearTie(step: OpStep, values: Values): boolean {
  const x = typeof step.args[0] === 'string' ? values.get(step.args[0]) : undefined;
  if (!x) return false;
  if (step.op === 'clamp' || step.op === 'clampMin' || step.op === 'clampMax') {
    // At a bound the gradient passes (op.clamp), where finite differences see half of it.
    const bounds = [step.op === 'clampMax' ? null : step.attrs?.min, step.op === 'clampMin' ? null : step.attrs?.max]
      .filter((b): b is number => typeof b === 'number');
    return x.values.some((v) => bounds.some((b) => close(v, b)));
  }
  const groups: number[][] = [];
  if (step.op === 'maximum' || step.op === 'minimum') {
    const y = typeof step.args[1] === 'string' ? values.get(step.args[1]) : undefined;
    if (!y) return false;
    const shape = broadcastShapes(x.shape, y.shape);
    const [xi, yi] = [broadcastIndex(x.shape, shape), broadcastIndex(y.shape, shape)];
    return Array.from(xi, (i, o) => close(x.values[i]!, y.values[yi[o]!]!)).some(Boolean);
  }
  if ((step.op === 'max' || step.op === 'min') && step.attrs?.dim === undefined) groups.push(Array.from(x.values));
  else {
    const plan = reducePlan(x.shape, step.attrs?.dim, step.attrs?.keepdim ?? false);
    x.values.forEach((v, i) => (groups[plan.target[i]!] ??= []).push(v));
  }
  return groups.some((g) => {
    const r = selectOf(step.op === 'max' || step.op === 'amax' ? 'max' : 'min', g);
    return g.filter((v) => close(v, r)).length > 1;
  });
}

const SELECTION = new Set<string>(SELECTION_OPS);

/**
 * Whether some |input - target| of l1Loss or smoothL1Loss lies within 1e-3 of 0 or beta, their
 * kinks (smooth L1's abs at 0 is smooth, but is checked alike). Operands of different shapes count as near.
 */
function nearLossKink(args: readonly (string | number)[], beta: number, values: Values): boolean {
  const [x, y] = args.map((a) => (typeof a === 'string' ? values.get(a)?.values : undefined));
  if (!x || !y || x.length !== y.length) return true;
  return x.some((v, i) => {
    const d = Math.abs(v - y[i]!);
    return d < 1e-3 || Math.abs(d - beta) < 1e-3;
  });
}

/**
 * Whether an argument lies within 1e-3 of a kink, where finite differences straddle it: relu, abs,
 * leakyRelu and elu at 0, softplus where x·beta meets its threshold (a jump of log1p(exp(-threshold))/beta),
 * or a selection near a tie.
 */
function nearKink(program: Program, values: Values): boolean {
  const near = (name: string | number, at: (x: number) => number) => typeof name === 'string' && values.get(name)?.values.some((x) => Math.abs(at(x)) < 1e-3);
  const walk = (steps: readonly Step[]): boolean => steps.some((s) => {
    if ('op' in s && KINK_OPS.has(s.op) && near(s.args[0]!, (x) => x)) return true;
    if ('op' in s && s.op === 'softplus' && near(s.args[0]!, (x) => x * (s.attrs?.beta ?? 1) - (s.attrs?.threshold ?? 20))) return true;
    if ('op' in s && SELECTION.has(s.op) && nearTie(s, values)) return true;
    if ('op' in s && (s.op === 'l1Loss' || s.op === 'smoothL1Loss') && nearLossKink(s.args, s.op === 'l1Loss' ? 0 : s.attrs?.beta ?? 1, values)) return true;
    if ('noGrad' in s) return walk(s.noGrad);
    if ('enableGrad' in s) return walk(s.enableGrad);
    return false;
  });
  return walk(program.steps);
}

/** The conservative test for composite programs: every value finite and moderate, no kink nearby. */
export function judgeable(c: GradientCase): boolean {
  let values: Values;
  try {
    values = evaluateProgram(c.program);
  } catch {
    return false;
  }
  for (const v of values.values()) {
    if (v.values.some((x) => !Number.isFinite(x) || Math.abs(x) > MAX_MAGNITUDE)) return false;
  }
  return !nearKink(c.program, values);
}

/**
 * What the oracles say about a case: the float64 forward, the forward evaluated in the dtype (its
 * zeros and infinities are exact), the symbolic gradient, and finite differences (null where they
 * cannot judge: a non-finite forward, or a kink within reach of the step).
 */
interface Oracles {
  f64: Values;
  inDtype: Values;
  symbolic: Map<string, Float64Array> | null;
  fd: Map<string, Estimate> | null;
}

function oraclesOf(c: GradientCase, dtype: FloatDType, symbolic: boolean | 'when-small'): Oracles {
  const f64 = evaluateProgram(c.program);
  const inDtype = evaluateProgram(c.program, undefined, { dtype });
  const sym = symbolic ? symbolicOrNull(c, symbolic === true) : null;
  let fd: Map<string, Estimate> | null = null;
  if (allFinite(f64) && !nearKink(c.program, f64)) {
    // Detached values stay fixed while x moves: no gradient flows through them.
    const fixed = detachedValues(c.program);
    fd = new Map(c.inputs.map((x) => [x, gradientFD((v) => evaluateProgram(c.program, new Map([...fixed, [x, v]])).get(c.out)!.values[0]!, f64.get(x)!.values)]));
  }
  return { f64, inDtype, symbolic: sym, fd };
}

/**
 * Which oracle judges element i of d out / d x. Finite differences judge where they exist and are
 * finite. The symbolic value is believed where it is finite, and where it is not finite unless
 * finite differences can judge a finite forward: then the formula overflowed inside (the
 * derivative of 1 / (1 + exp(-x)) at -800 is inf/inf, nan, where PyTorch gives 0), whereas sqrt'(0)
 * = inf, log'(0) = inf and 1/0 are the values PyTorch defines.
 */
function judges(o: Oracles, x: string, i: number): { symbolic: boolean; fd: boolean } {
  const s = o.symbolic?.get(x)?.[i];
  const f = o.fd?.get(x);
  const fd = f !== undefined && Number.isFinite(f.value[i]!) && Number.isFinite(f.error[i]!);
  return { symbolic: s !== undefined && (Number.isFinite(s) || !fd), fd };
}

/** Why the oracles cannot judge a case at its edges (null: they can), for properties that judge non-finite values. */
export function notJudgeable(c: GradientCase, dtype: FloatDType, symbolic: boolean | 'when-small' = true): string | null {
  let o: Oracles;
  try {
    o = oracles(c, dtype, symbolic);
  } catch (e) {
    return `the oracles cannot evaluate it: ${e instanceof Error ? e.message : String(e)}`;
  }
  for (const [name, v] of o.f64) {
    const d = o.inDtype.get(name)!.values;
    // The engine's later ops see inf where float64 sees a number: the float64 oracles no longer model it.
    if (v.values.some((x, i) => Number.isFinite(x) && !Number.isFinite(d[i]!))) return `${name} overflows ${dtype}`;
  }
  for (const x of c.inputs) {
    const n = o.f64.get(x)!.values.length;
    for (let i = 0; i < n; i++) {
      const j = judges(o, x, i);
      if (!j.symbolic && !j.fd) return `no oracle can judge d ${c.out} / d ${x} at element ${i}`;
    }
  }
  return null;
}

/**
 * The case as an engine without float64 runs it (property.ts retypes the program): float32, with
 * its leaves rounded to float32 first (a float64 subnormal is 0 there, and relu'(0) is 0).
 */
const asFloat32 = new WeakMap<GradientCase, GradientCase>();
export function inFloat32(c: GradientCase): GradientCase {
  if ((c.program.dtype ?? 'float32') === 'float32') return c;
  let made = asFloat32.get(c);
  if (!made) {
    const round = (d: Data): Data => (Array.isArray(d) ? d.map(round) : typeof d === 'number' ? (Object.is(Math.fround(d), -0) ? '-0' : Math.fround(d)) : d);
    // Float leaves only: int64 and bool leaves (indices, masks, class targets) keep their dtype.
    const move = (steps: Step[]) => steps.map((s) => ('tensor' in s && (!s.dtype || isFloating(s.dtype)) ? { ...s, tensor: round(s.tensor), ...(s.dtype ? { dtype: 'float32' as const } : {}) } : s));
    made = { ...c, program: { ...c.program, dtype: 'float32', steps: move(c.program.steps) }, ...(c.run ? { run: { ...c.run, dtype: 'float32', steps: move(c.run.steps) } } : {}) };
    asFloat32.set(c, made);
  }
  return made;
}

/**
 * The precondition of properties at the edges: judgeable as written and, for float64 programs,
 * also as an engine without float64 runs them, since the precondition does not know the engine.
 */
export function judgeableAtEdges(c: GradientCase, symbolic: boolean | 'when-small' = true): boolean {
  const dtype = c.program.dtype ?? 'float32';
  return notJudgeable(c, dtype, symbolic) === null && (dtype === 'float32' || notJudgeable(inFloat32(c), 'float32', symbolic) === null);
}

// The precondition and the judge of one sample share the oracles' work.
const computed = new WeakMap<GradientCase, { dtype: FloatDType; oracles: Oracles }>();
function oracles(c: GradientCase, dtype: FloatDType, symbolic: boolean | 'when-small'): Oracles {
  const hit = computed.get(c);
  if (hit && hit.dtype === dtype) return hit.oracles;
  const key = shared && contentKey(c, dtype, symbolic);
  const made = (key && shared!.get(key)) || oraclesOf(c, dtype, symbolic);
  if (key) shared!.set(key, made);
  computed.set(c, { dtype, oracles: made });
  return made;
}

/**
 * While on, the oracles of a case are also kept by its content, for tests that run the whole
 * suite on several broken engines: the same seed draws the same samples every time, and the
 * oracles never see the engine, so each sample's oracles are computed once (a third of a run).
 * Off by default; the tests turn it off again when they end.
 */
let shared: Map<string, Oracles> | null = null;
export function shareOracles(on: boolean): void {
  shared = on ? new Map() : null;
}

/** Everything oraclesOf reads; -0, nan and the infinities spelled out (JSON has no words for them). */
function contentKey(c: GradientCase, dtype: FloatDType, symbolic: boolean | 'when-small'): string {
  return JSON.stringify([c.program, c.out, c.inputs, dtype, symbolic], (_k, v: unknown) => (
    typeof v === 'number' && (Object.is(v, -0) || !Number.isFinite(v)) ? `number ${Object.is(v, -0) ? '-0' : String(v)}` : v));
}

/** The program the engine runs: the case, a backward pass from `out`, and the observations. */
export function withBackward(c: GradientCase): Program {
  const run = c.run ?? c.program;
  return {
    ...run,
    steps: [
      ...run.steps,
      { observe: c.forward ?? c.out, label: 'forward' },
      { backward: c.out },
      ...c.inputs.map((x) => ({ observe: `${x}.grad`, label: `${x}.grad` })),
    ],
  };
}

/** Symbolic expansion grows with the program; past mathjs's limits only finite differences judge. */
function symbolicOrNull(c: GradientCase, required: boolean): Map<string, Float64Array> | null {
  try {
    return symbolicGradient(c.program, c.out, c.inputs);
  } catch (e) {
    if (required) throw e;
    return null;
  }
}

export function judgeGradient(c: GradientCase, o: Observations, engine: Adapter, dtype: FloatDType, options: { symbolic: boolean | 'when-small' } = { symbolic: true }): string | null {
  if (o.error) return `unexpected error: ${errorOf(o)}`;
  if (dtype !== (c.program.dtype ?? 'float32')) c = inFloat32(c);
  const oracle = oracles(c, dtype, options.symbolic);
  const name = c.forward ?? c.out;
  const actualForward = flat(find(o, 'forward')?.value);
  const [rtol, atol] = dtype === 'float64' ? [1e-10, 1e-12] : [1e-5, 1e-6];
  // Exact where the forward in the dtype is exact (a zero, an infinity), else the float64 value within tolerance.
  const exactly = oracle.inDtype.get(name)!.values;
  const expected = Array.from(oracle.f64.get(name)!.values, (v, i) => (isExact(exactly[i]!, true) ? exactly[i]! : v));
  const forwardProblem = compareGradient({
    actual: actualForward, expected, dtype, oracle: 'evaluation', engine: engine.name, what: `forward value of ${name}`,
    shape: oracle.f64.get(name)!.shape, rtol, atol, inDtype: true,
  });
  if (forwardProblem) return forwardProblem;
  const symbolic = oracle.symbolic;
  if (symbolic) {
    // The same forward value by mathjs, from the expanded expressions the derivatives come from.
    const exprs = expandProgram(c.program).get(name)!.exprs;
    const scope = programScope(c.program);
    const problem = closeAll(actualForward, exprs.map((e) => inDtype(evaluate(e, scope), dtype)), rtol, atol);
    if (problem) return `forward value of ${name}: engine ${engine.name} vs mathjs evaluation: ${problem}`;
  }
  for (const x of c.inputs) {
    const obs = find(o, `${x}.grad`);
    const shape = oracle.f64.get(x)!.shape;
    const size = shape.reduce((n, d) => n * d, 1);
    if (!obs) return `${x}.grad was not observed`;
    const actual = obs.none ? new Array<number>(size).fill(0) : flat(obs.value);
    if (!obs.none && JSON.stringify(obs.shape) !== JSON.stringify(shape)) {
      return `${x}.grad has shape [${obs.shape?.join(', ')}], but ${x} has shape [${shape.join(', ')}] (backward.grad-dtype)`;
    }
    const what = `d ${c.out} / d ${x}`;
    // An element one oracle cannot judge is judged by the other only (the precondition skips
    // samples with an element neither can judge): there the engine's value stands in for its expectation.
    const by = Array.from({ length: size }, (_, i) => judges(oracle, x, i));
    const judgedBy = (oracleName: 'symbolic' | 'fd', expected: ArrayLike<number>) => (actual.length === size
      ? Array.from(expected, (e, i) => (by[i]![oracleName] ? e : actual[i]!)) : expected);
    if (symbolic) {
      const problem = compareGradient({ actual, expected: judgedBy('symbolic', symbolic.get(x)!), dtype, oracle: 'symbolic', engine: engine.name, what, shape });
      if (problem) return problem;
    }
    const fd = oracle.fd?.get(x);
    if (!fd) continue;
    const allowance = fd.error.map((e) => (Number.isFinite(e) ? FD_SAFETY * e : 0));
    const problem = compareGradient({ actual, expected: judgedBy('fd', fd.value), dtype, oracle: 'finite-difference', engine: engine.name, what, shape, allowance });
    if (problem) return problem;
  }
  return null;
}

/** A property judged by both oracles, from an arbitrary of gradient cases. */
export function gradientProperty(
  id: string,
  clauses: readonly [ClauseId, ...ClauseId[]],
  title: string,
  arbitrary: fc.Arbitrary<GradientCase>,
  /** edges: the samples reach overflow, underflow, zeros and domain edges, so non-finite values are judged (notJudgeable). */
  options: { symbolic?: boolean | 'when-small'; runsFactor?: number; edges?: boolean } = {},
): Property<GradientCase> {
  return {
    id,
    clauses,
    title,
    arbitrary,
    // Samples with non-finite leaves are judged by their rule (properties/non-finite.ts); without one, skipped.
    precondition: (c) => (hasNonFiniteLeaf(c.program) ? c.nonFinite !== undefined
      : options.edges ? judgeableAtEdges(c, options.symbolic ?? true) : judgeable(c)),
    programs: (c) => [withBackward(c)],
    judge: (c, [o], engine, { dtype }) => (hasNonFiniteLeaf(c.program)
      ? judgeNonFinite(dtype !== (c.program.dtype ?? 'float32') ? inFloat32(c) : c, o!, engine, dtype)
      : judgeGradient(c, o!, engine, dtype, { symbolic: options.symbolic ?? true })),
    ...(options.runsFactor ? { runsFactor: options.runsFactor } : {}),
  };
}

/**
 * For inputs too large for a full Jacobian: the dot-product test. The engine's gradient g of
 * out = sum(y * u) is J^T u; along a random direction v, <g, v> must equal the derivative of
 * t -> out(x + t v), which one Richardson estimate gives. On failure, the full finite-difference
 * gradient names the wrong element.
 */
export function judgeDirectional(c: GradientCase, o: Observations, engine: Adapter, seed: number, dtype: FloatDType): string | null {
  if (o.error) return `unexpected error: ${errorOf(o)}`;
  const forward = evaluateProgram(c.program);
  const fixed = detachedValues(c.program);
  const starts = c.inputs.map((x) => forward.get(x)!.values);
  const random = mulberry32(seed);
  const dirs = starts.map((v) => gaussian(random, v.length));
  const grads = c.inputs.map((x, i) => {
    const obs = find(o, `${x}.grad`);
    return obs && !obs.none ? flat(obs.value) : new Array<number>(starts[i]!.length).fill(0);
  });
  const outAt = (t: number) => {
    const moved = new Map(fixed);
    c.inputs.forEach((x, i) => moved.set(x, starts[i]!.map((v, j) => v + t * dirs[i]![j]!)));
    return evaluateProgram(c.program, moved).get(c.out)!.values[0]!;
  };
  const fd = richardson(outAt, 0);
  const dot = grads.reduce((acc, g, i) => acc + g.reduce((a, gj, j) => a + gj * dirs[i]![j]!, 0), 0);
  const problem = compareGradient({
    actual: [dot], expected: [fd.value], dtype, oracle: 'finite-difference', engine: engine.name,
    what: `<d ${c.out} / d inputs, v> (dot-product test, seed ${seed})`, shape: [], allowance: [FD_SAFETY * fd.error],
  });
  if (!problem) return null;
  // Name the element: the full finite-difference gradient of each input.
  for (const [i, x] of c.inputs.entries()) {
    const full = gradientFD((v) => evaluateProgram(c.program, new Map([...fixed, [x, v]])).get(c.out)!.values[0]!, starts[i]!);
    const named = compareGradient({
      actual: grads[i]!, expected: full.value, dtype, oracle: 'finite-difference', engine: engine.name,
      what: `d ${c.out} / d ${x}`, shape: forward.get(x)!.shape, allowance: full.error.map((e) => FD_SAFETY * e),
    });
    if (named) return `${problem}\n  full Jacobian: ${named}`;
  }
  return problem;
}
