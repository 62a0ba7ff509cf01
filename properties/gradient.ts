import type fc from 'fast-check';
import type { Adapter } from '../adapters/types.ts';
import { compareGradient, FD_SAFETY } from '../oracles/compare.ts';
import { detachedValues, evaluateProgram } from '../oracles/evaluate.ts';
import { gradientFD, richardson } from '../oracles/finite-difference.ts';
import { gaussian, mulberry32 } from '../oracles/random.ts';
import { expandProgram } from '../oracles/expand.ts';
import { evaluate, programScope, symbolicGradient } from '../oracles/symbolic.ts';
import type { ClauseId } from '../spec/clauses.ts';
import type { DType, Observations, Program, Step } from '../spec/program.ts';
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
  out: string;
  inputs: string[];
  /**
   * The value whose forward is compared with the oracles (default: out). Op properties name the
   * op's own result: in float32, a weighted sum that cancels loses digits no single op is to blame for.
   */
  forward?: string;
}

/** Kinks and overflow are where no oracle can judge: relu/abs arguments near 0, huge values. */
const KINK_OPS = new Set(['relu', 'abs']);
const MAX_MAGNITUDE = 1e8;

export function judgeable(c: GradientCase): boolean {
  let values: ReturnType<typeof evaluateProgram>;
  try {
    values = evaluateProgram(c.program);
  } catch {
    return false;
  }
  for (const v of values.values()) {
    if (v.values.some((x) => !Number.isFinite(x) || Math.abs(x) > MAX_MAGNITUDE)) return false;
  }
  const near = (name: string | number) => typeof name === 'string' && values.get(name)?.values.some((x) => Math.abs(x) < 1e-3);
  const walk = (steps: readonly Step[]): boolean => steps.every((s) => {
    if ('op' in s && KINK_OPS.has(s.op) && near(s.args[0]!)) return false;
    if ('noGrad' in s) return walk(s.noGrad);
    if ('enableGrad' in s) return walk(s.enableGrad);
    return true;
  });
  return walk(c.program.steps);
}

/** The program the engine runs: the case, a backward pass from `out`, and the observations. */
export function withBackward(c: GradientCase): Program {
  return {
    ...c.program,
    steps: [
      ...c.program.steps,
      { observe: c.forward ?? c.out, label: 'forward' },
      { backward: c.out },
      ...c.inputs.map((x) => ({ observe: `${x}.grad`, label: `${x}.grad` })),
    ],
  };
}

const leafShape = (program: Program, name: string): number[] => evaluateProgram(program).get(name)!.shape;

/** Symbolic expansion grows with the program; past mathjs's limits only finite differences judge. */
function symbolicOrNull(c: GradientCase, required: boolean): Map<string, Float64Array> | null {
  try {
    return symbolicGradient(c.program, c.out, c.inputs);
  } catch (e) {
    if (required) throw e;
    return null;
  }
}

export function judgeGradient(c: GradientCase, o: Observations, engine: Adapter, dtype: DType, oracles: { symbolic: boolean | 'when-small' } = { symbolic: true }): string | null {
  if (o.error) return `unexpected error: ${errorOf(o)}`;
  const forward = evaluateProgram(c.program);
  const name = c.forward ?? c.out;
  const actualForward = flat(find(o, 'forward')?.value);
  const [rtol, atol] = dtype === 'float64' ? [1e-10, 1e-12] : [1e-5, 1e-6];
  const forwardProblem = closeAll(actualForward, Array.from(forward.get(name)!.values), rtol, atol);
  if (forwardProblem) return `forward value of ${name}: engine ${engine.name} vs the float64 evaluation: ${forwardProblem}`;
  const symbolic = oracles.symbolic ? symbolicOrNull(c, oracles.symbolic === true) : null;
  if (symbolic) {
    // The same forward value by mathjs, from the expanded expressions the derivatives come from.
    const exprs = expandProgram(c.program).get(name)!.exprs;
    const scope = programScope(c.program);
    const problem = closeAll(actualForward, exprs.map((e) => evaluate(e, scope)), rtol, atol);
    if (problem) return `forward value of ${name}: engine ${engine.name} vs mathjs evaluation: ${problem}`;
  }
  for (const x of c.inputs) {
    const obs = find(o, `${x}.grad`);
    const shape = leafShape(c.program, x);
    const size = shape.reduce((n, d) => n * d, 1);
    if (!obs) return `${x}.grad was not observed`;
    const actual = obs.none ? new Array<number>(size).fill(0) : flat(obs.value);
    if (!obs.none && JSON.stringify(obs.shape) !== JSON.stringify(shape)) {
      return `${x}.grad has shape [${obs.shape?.join(', ')}], but ${x} has shape [${shape.join(', ')}] (backward.grad-dtype)`;
    }
    const what = `d ${c.out} / d ${x}`;
    if (symbolic) {
      const problem = compareGradient({ actual, expected: symbolic.get(x)!, dtype, oracle: 'symbolic', engine: engine.name, what, shape });
      if (problem) return problem;
    }
    const start = forward.get(x)!.values;
    // Detached values stay fixed while x moves: no gradient flows through them.
    const fixed = detachedValues(c.program);
    const fd = gradientFD((v) => evaluateProgram(c.program, new Map([...fixed, [x, v]])).get(c.out)!.values[0]!, start);
    const allowance = fd.error.map((e) => FD_SAFETY * e);
    const problem = compareGradient({ actual, expected: fd.value, dtype, oracle: 'finite-difference', engine: engine.name, what, shape, allowance });
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
  options: { symbolic?: boolean | 'when-small'; runsFactor?: number } = {},
): Property<GradientCase> {
  return {
    id,
    clauses,
    title,
    arbitrary,
    precondition: judgeable,
    programs: (c) => [withBackward(c)],
    judge: (c, [o], engine, { dtype }) => judgeGradient(c, o!, engine, dtype, { symbolic: options.symbolic ?? true }),
    ...(options.runsFactor ? { runsFactor: options.runsFactor } : {}),
  };
}

/**
 * For inputs too large for a full Jacobian: the dot-product test. The engine's gradient g of
 * out = sum(y * u) is J^T u; along a random direction v, <g, v> must equal the derivative of
 * t -> out(x + t v), which one Richardson estimate gives. On failure, the full finite-difference
 * gradient names the wrong element.
 */
export function judgeDirectional(c: GradientCase, o: Observations, engine: Adapter, seed: number, dtype: DType): string | null {
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
