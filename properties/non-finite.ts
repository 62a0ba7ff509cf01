import type { Adapter } from '../adapters/types.ts';
import { compareGradient, inDtype, isExact, type OracleName } from '../oracles/compare.ts';
import { evaluateProgram } from '../oracles/evaluate.ts';
import { unravel } from '../oracles/shape.ts';
import { symbolicGradient } from '../oracles/symbolic.ts';
import type { Data, FloatDType, Observations, Program, Step, UNARY_OPS } from '../spec/program.ts';
import { errorOf, find, flat } from './observed.ts';

/*
 * Samples with nan, inf or -inf leaves (properties/arbitraries/edges.ts withNonFinite). Neither
 * float64 oracle can judge their gradients: finite differences need a finite forward, and mathjs's
 * derivative formulas are not PyTorch's backward formulas where IEEE arithmetic is at stake (the
 * derivative of 1 / (1 + exp(-x)) at -inf is inf/inf = nan, where PyTorch's r·(1 - r) gives 0).
 * So these samples are judged by:
 *   - the forward: the float64 evaluation oracle (oracles/evaluate.ts), evaluated in the engine's
 *     dtype, its non-finite values and zeros compared exactly, the rest within tolerance;
 *   - the gradient: a small table of each op's backward formula as spec/autograd.md states it
 *     (`op.exp` g·r, `op.log` g / t, ...), evaluated in IEEE float64 at the leaves and the op's
 *     result in the dtype, and confirmed on PyTorch 1.13 at nan, inf and -inf for every entry
 *     (float32 and float64, weights ±0.5); for ops whose gradient does not depend on the values
 *     (reductions, shape ops), the symbolic oracle at the same point with the non-finite leaves
 *     replaced by 0; for polynomials, the derivative's terms as PyTorch's pow and mul backward
 *     multiply them.
 * Non-finite expected values are compared exactly (nan only with nan, each infinity with itself),
 * the rest with the one tolerance policy (oracles/compare.ts).
 */

type UnaryOp = (typeof UNARY_OPS)[number];
export type NonFiniteBinaryOp = 'add' | 'sub' | 'mul' | 'div';

/** How a sample with non-finite leaves is judged; a case without one skips such samples. */
export type NonFiniteRule =
  /** out = sum(op(x) * w), w a constant leaf. */
  | { kind: 'unary'; op: UnaryOp; x: string; result: string; weights: string }
  /** out = sum(op(a, b) * w); a or b may be a Python number. */
  | { kind: 'binary'; op: NonFiniteBinaryOp; a: string | number; b: string | number; result: string; weights: string }
  /** The gradient does not depend on the leaves' values (sum, mean, shape ops). */
  | { kind: 'linear' }
  /** out = c0 + c1 x + c2 x^2 + ... (properties/arbitraries/expressions.ts emitPolynomial). */
  | { kind: 'polynomial'; coefficients: readonly number[]; x: string };

const sgn = (x: number): number => (x > 0 ? 1 : x < 0 ? -1 : 0); // 0 at nan: PyTorch 1.13's sgn(nan)

/**
 * g · d op / d t from t, the op's result r and the output gradient g: the formulas of
 * spec/autograd.md's op clauses, in the order PyTorch 1.13 multiplies them. At nan, inf and -inf
 * (PyTorch 1.13, float32 and float64): neg gives -g; exp g·r (inf, 0 at -inf, nan); log g / t
 * (±0 at ±inf, though log(-inf) is nan); sin, cos, tan nan; tanh and sigmoid 0 at ±inf and nan at
 * nan; relu g at inf and 0 at -inf; sqrt 0 at inf and nan at -inf; abs ±g at ±inf and 0 at nan
 * (sgn(nan) is 0); reciprocal ∓0 at ±inf.
 */
export const UNARY_VJP: Record<UnaryOp, (t: number, r: number, g: number) => number> = {
  neg: (_t, _r, g) => -g,
  exp: (_t, r, g) => g * r,
  log: (t, _r, g) => g / t,
  sin: (t, _r, g) => g * Math.cos(t),
  cos: (t, _r, g) => -g * Math.sin(t),
  tan: (_t, r, g) => g * (1 + r * r),
  tanh: (_t, r, g) => g * (1 - r * r),
  sigmoid: (_t, r, g) => g * (1 - r) * r,
  // Zero where r <= 0, so g at nan (op.relu).
  relu: (_t, r, g) => (r <= 0 ? 0 : g),
  sqrt: (_t, r, g) => g / (2 * r),
  abs: (t, _r, g) => g * sgn(t),
  reciprocal: (_t, r, g) => -g * r * r,
  log1p: (t, _r, g) => g / (t + 1),
  expm1: (_t, r, g) => g * (r + 1),
  erf: (t, _r, g) => (2 / Math.sqrt(Math.PI)) * Math.exp(-(t * t)) * g,
  atan: (t, _r, g) => g / (t * t + 1),
  asin: (t, _r, g) => g * (1 / Math.sqrt(-t * t + 1)),
  acos: (t, _r, g) => g * -(1 / Math.sqrt(-t * t + 1)),
  sinh: (t, _r, g) => g * Math.cosh(t),
  cosh: (t, _r, g) => g * Math.sinh(t),
  asinh: (t, _r, g) => g * (1 / Math.sqrt(t * t + 1)),
  acosh: (t, _r, g) => g * (1 / Math.sqrt(t * t - 1)),
  atanh: (t, _r, g) => g * (1 / (1 - t * t)),
  rsqrt: (_t, r, g) => -0.5 * g * r ** 3,
  square: (t, _r, g) => g * (2 * t),
  // Piecewise constant: 0 everywhere, at nan and the infinities too.
  sign: () => 0,
  floor: () => 0,
  ceil: () => 0,
  round: () => 0,
  trunc: () => 0,
};

/**
 * g · (d op / d a, d op / d b) (`op.add`, `op.sub`, `op.mul`, `op.div`: g, -g, g·b, g·a, g / b,
 * -g·a / b², computed as PyTorch 1.13 does, -g·((a / b) / b)); confirmed on PyTorch at every pair
 * of nan, ±inf, ±0 and ordinary values.
 */
export const BINARY_VJP: Record<NonFiniteBinaryOp, (a: number, b: number, g: number) => [number, number]> = {
  add: (_a, _b, g) => [g, g],
  sub: (_a, _b, g) => [g, -g],
  mul: (a, b, g) => [g * b, g * a],
  div: (a, b, g) => [g / b, -g * (a / b / b)],
};

const isNonFinite = (s: unknown): boolean => s === 'nan' || s === 'inf' || s === '-inf';

function dataHasNonFinite(d: Data): boolean {
  return Array.isArray(d) ? d.some(dataHasNonFinite) : isNonFinite(d);
}

/** Whether a leaf of the program (blocks included) holds nan, inf or -inf. */
export function hasNonFiniteLeaf(program: Program): boolean {
  const walk = (steps: readonly Step[]): boolean => steps.some((s) => ('tensor' in s && dataHasNonFinite(s.tensor))
    || ('noGrad' in s && walk(s.noGrad)) || ('enableGrad' in s && walk(s.enableGrad)));
  return walk(program.steps);
}

/** The program with every non-finite leaf element replaced by 0 (for gradients that do not depend on values). */
function finitePoint(program: Program): Program {
  const fix = (d: Data): Data => (Array.isArray(d) ? d.map(fix) : isNonFinite(d) ? 0 : d);
  return { ...program, steps: program.steps.map((s) => ('tensor' in s ? { ...s, tensor: fix(s.tensor) } : s)) };
}

/** The table is an oracle of its own in failure messages: it is neither mathjs nor finite differences. */
const TABLE = 'spec-table' as OracleName;

/** Where element k of a result of shape `out` reads from an operand of shape `s` (broadcasting). */
function broadcastIndex(k: number, out: readonly number[], s: readonly number[]): number {
  const index = unravel(k, out);
  let flatIndex = 0;
  for (let d = 0; d < s.length; d++) {
    const i = index[out.length - s.length + d]!;
    flatIndex = flatIndex * s[d]! + (s[d] === 1 ? 0 : i);
  }
  return flatIndex;
}

/** Expected d out / d x for each input, from the rule, at the case's point in `dtype`. */
function expectedGradients(rule: NonFiniteRule, program: Program, out: string, inputs: readonly string[], dtype: FloatDType): { expected: Map<string, number[]>; oracle: OracleName } {
  const values = evaluateProgram(program, undefined, { dtype });
  const v = (name: string) => values.get(name)!;
  switch (rule.kind) {
    case 'unary': {
      const [x, r, w] = [v(rule.x).values, v(rule.result).values, v(rule.weights).values];
      return { expected: new Map([[rule.x, Array.from(x, (t, i) => UNARY_VJP[rule.op](t, r[i]!, w[i]!))]]), oracle: TABLE };
    }
    case 'binary': {
      const shape = v(rule.result).shape;
      const w = v(rule.weights).values;
      const operand = (a: string | number) => (typeof a === 'number'
        ? { values: Float64Array.of(inDtype(a, dtype)), shape: [] as number[] } : v(a));
      const [a, b] = [operand(rule.a), operand(rule.b)];
      const grads = [new Array<number>(a.values.length).fill(0), new Array<number>(b.values.length).fill(0)];
      for (let k = 0; k < w.length; k++) {
        const [ia, ib] = [broadcastIndex(k, shape, a.shape), broadcastIndex(k, shape, b.shape)];
        const [da, db] = BINARY_VJP[rule.op](a.values[ia]!, b.values[ib]!, w[k]!);
        grads[0]![ia] = grads[0]![ia]! + da;
        grads[1]![ib] = grads[1]![ib]! + db;
      }
      const expected = new Map<string, number[]>();
      if (typeof rule.a === 'string') expected.set(rule.a, grads[0]!);
      if (typeof rule.b === 'string') expected.set(rule.b, grads[1]!);
      return { expected, oracle: TABLE };
    }
    case 'linear': {
      const g = symbolicGradient(finitePoint(program), out, inputs);
      return { expected: new Map(inputs.map((x) => [x, Array.from(g.get(x)!)])), oracle: 'symbolic' };
    }
    case 'polynomial': {
      // d/dx of c1·x is c1 (mul backward: g·c1); of ck·x^k, PyTorch's mul backward gives g·ck
      // and pow backward multiplies it by k·x^(k-1): 0·inf and nan·anything are nan.
      const x = v(rule.x).values[0]!;
      let d = rule.coefficients[1] ?? 0;
      for (let k = 2; k < rule.coefficients.length; k++) d += rule.coefficients[k]! * (k * x ** (k - 1));
      return { expected: new Map([[rule.x, [d]]]), oracle: TABLE };
    }
  }
}

/**
 * Judges a sample with non-finite leaves: the forward of `forward` (default `out`) against the
 * evaluation oracle in the dtype, each leaf's gradient against the rule. Null when it agrees.
 */
export function judgeNonFinite(
  c: { program: Program; out: string; inputs: string[]; forward?: string; nonFinite?: NonFiniteRule },
  o: Observations, engine: Adapter, dtype: FloatDType,
): string | null {
  if (!c.nonFinite) throw new Error(`no rule judges non-finite leaves of ${c.program.id}`);
  if (o.error) return `unexpected error: ${errorOf(o)}`;
  const name = c.forward ?? c.out;
  const f64 = evaluateProgram(c.program).get(name)!;
  const exactly = evaluateProgram(c.program, undefined, { dtype }).get(name)!.values;
  const [rtol, atol] = dtype === 'float64' ? [1e-10, 1e-12] : [1e-5, 1e-6];
  const forwardProblem = compareGradient({
    actual: flat(find(o, 'forward')?.value), expected: Array.from(f64.values, (x, i) => (isExact(exactly[i]!, true) ? exactly[i]! : x)),
    dtype, oracle: 'evaluation', engine: engine.name, what: `forward value of ${name}`, shape: f64.shape, rtol, atol, inDtype: true,
  });
  if (forwardProblem) return forwardProblem;
  const { expected, oracle } = expectedGradients(c.nonFinite, c.program, c.out, c.inputs, dtype);
  for (const x of c.inputs) {
    const obs = find(o, `${x}.grad`);
    const e = expected.get(x)!;
    if (!obs) return `${x}.grad was not observed`;
    const shape = evaluateProgram(c.program).get(x)!.shape;
    if (!obs.none && JSON.stringify(obs.shape) !== JSON.stringify(shape)) {
      return `${x}.grad has shape [${obs.shape?.join(', ')}], but ${x} has shape [${shape.join(', ')}] (backward.grad-dtype)`;
    }
    const actual = obs.none ? new Array<number>(e.length).fill(0) : flat(obs.value);
    const problem = compareGradient({ actual, expected: e, dtype, oracle, engine: engine.name, what: `d ${c.out} / d ${x}`, shape });
    if (problem) return problem;
  }
  return null;
}
