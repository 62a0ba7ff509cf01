import fc from 'fast-check';
import { compareGradient } from '../oracles/compare.ts';
import { evaluateProgram } from '../oracles/evaluate.ts';
import { expandProgram } from '../oracles/expand.ts';
import { programScope, secondPartialAt } from '../oracles/symbolic.ts';
import type { ClauseId } from '../spec/clauses.ts';
import type { Attrs, FloatDType, Program } from '../spec/program.ts';
import { asLeafValue, withNonFinite } from './arbitraries/edges.ts';
import { ordinary } from './arbitraries/numbers.ts';
import { shapes } from './arbitraries/shapes.ts';
import { nest, numel, ProgramBuilder } from './build.ts';
import { gradientProperty, judgeable, type GradientCase } from './gradient.ts';
import { errorOf, find, flat } from './observed.ts';
import type { AnyProperty, Property } from './property.ts';

/*
 * prod, cumsum and cumprod, where engines break at zeros. Every sample places its values on
 * purpose: one zero, several zeros, all elements equal, tiny or huge magnitudes (never both in
 * one product: the order of a float32 product then decides overflow, which the spec leaves open),
 * or, for cumsum, nan and ±inf leaves. First derivatives are judged by both oracles, second
 * derivatives (through createGraph) by mathjs.
 */

export type StatisticOp = 'prod' | 'cumsum' | 'cumprod' | 'var' | 'std' | 'norm';
const POOL = 9; // shapes of rank 0 to 2, dims 1 to 3
const dtypes = fc.constantFrom<FloatDType>('float64', 'float32');
type Placement = 'plain' | 'one-zero' | 'zeros' | 'equal' | 'tie' | 'tiny' | 'huge' | 'non-finite';

interface Draw { shape: number[]; values: number[]; placement: Placement }

/**
 * Values with a placement: `at` picks the zeros' positions (one, or every position whose bit is
 * set in a mask of at least two), so shrinking moves them but keeps them.
 */
function draws(op: StatisticOp, order: 1 | 2): fc.Arbitrary<Draw> {
  // Second order leaves out tiny and huge magnitudes: the second derivative of a `/ x` rule (prod
  // and cumprod without zeros) subtracts terms of size |g / x| to leave one of size |g|, which at
  // 2^-30 takes more digits than float64 has (PyTorch's own results there are as far off).
  // std and norm leave out tiny values: they are |x|-like at zero spread or zero norm, and finite
  // differences straddle that kink when the values are smaller than their step (the edge fixtures have tiny values).
  // norm places two tied largest magnitudes ('tie', of either sign) for p = inf, too.
  const placements: Placement[] = order === 2 ? ['plain', 'one-zero', 'zeros', 'equal', ...(op === 'norm' ? ['tie' as const] : [])]
    : ['plain', 'one-zero', 'zeros', 'equal', ...(op === 'norm' ? ['tie' as const] : []), ...(op === 'std' || op === 'norm' ? [] : ['tiny' as const]), 'huge',
      ...(op === 'cumsum' ? ['non-finite' as const] : [])];
  const plain = fc.array(ordinary(), { minLength: POOL, maxLength: POOL });
  const nonFinite = fc.array(withNonFinite(ordinary()), { minLength: POOL, maxLength: POOL });
  // At most 6 elements (4 to second order, whose symbolic partials grow with the square of the count).
  const small = shapes(2).map((s) => (numel(s) > (order === 2 ? 4 : 6) ? s.slice(0, 1) : s));
  return fc.tuple(small, fc.constantFrom(...placements), plain, nonFinite, fc.nat({ max: 8 }), fc.nat({ max: 511 }))
    .map(([shape, placement, xs, nf, at, mask]): Draw => {
      const n = numel(shape);
      let values = xs.slice(0, n);
      if (placement === 'one-zero') values[at % n] = 0;
      if (placement === 'zeros') {
        const picked = values.map((_, i) => i).filter((i) => mask & (1 << i));
        for (const i of picked.length >= 2 ? picked : [0, n - 1]) values[i] = 0;
      }
      if (placement === 'equal') values = values.map(() => xs[0]!);
      if (placement === 'tie' && n > 1) {
        const top = Math.max(...values.map(Math.abs)) + 0.25;
        values[at % n] = top;
        values[(at + 1 + (mask % (n - 1))) % n] = mask % 2 ? -top : top;
      }
      // 2^±30: exact in both dtypes; up to 9 factors of at most 3 · 2^30 stay finite in float64.
      if (placement === 'tiny') values = values.map((v) => v * 2 ** -30);
      if (placement === 'huge') values = values.map((v) => v * 2 ** 30);
      if (placement === 'non-finite') values = nf.slice(0, n);
      return { shape, values, placement };
    });
}

/**
 * The call forms: prod over everything or one dim (negative, keepdim), cumsum and cumprod along
 * one dim, var and std over everything, one dim or two, biased or not, keepdim.
 */
function call(op: StatisticOp, shape: readonly number[], k: number): { attrs?: Attrs; out: number[] } {
  const rank = shape.length;
  const dim = rank === 0 ? (k % 2 ? -1 : 0) : (k % rank) - (k % 3 === 1 ? rank : 0);
  const d = rank === 0 ? 0 : (dim + rank) % rank;
  if (op === 'var' || op === 'std') return moments(shape, k);
  if (op === 'norm') {
    const m = moments(shape, k);
    const p = ([2, 1, 'inf'] as const)[k % 3]!;
    const { unbiased: _none, ...rest } = m.attrs ?? {};
    // keepdim without a dim (norm alone takes it) keeps every dim as 1.
    const bare = rest.dim === undefined && k % 10 === 5;
    // p = 2 is written out or left to the default ('fro', a different composite over two dims).
    const written = p !== 2 || k % 11 >= 6;
    return { attrs: { ...(written ? { p } : {}), ...rest, ...(bare ? { keepdim: true } : {}) }, out: bare ? shape.map(() => 1) : m.out };
  }
  if (op !== 'prod') return { attrs: { dim }, out: [...shape] };
  if (k % 4 === 0) return { out: [] };
  const keepdim = k % 5 === 2;
  const out = rank === 0 ? [] : keepdim ? shape.map((s, i) => (i === d ? 1 : s)) : shape.filter((_, i) => i !== d);
  return { attrs: keepdim ? { dim, keepdim } : { dim }, out };
}

/**
 * var and std. n - correction = 0 (one element, unbiased) is left to the edge fixture: PyTorch's
 * forward is nan and its backward inf, nan or an error depending on the call (op.var).
 */
function moments(shape: readonly number[], k: number): { attrs?: Attrs; out: number[] } {
  const rank = shape.length;
  const dims = rank === 0 ? [] : k % 7 === 3 && rank === 2 ? [0, 1] : [k % rank];
  const count = dims.reduce((n, i) => n * shape[i]!, 1);
  const all = k % 4 === 0 || rank === 0;
  const unbiased = (all ? numel(shape) : count) > 1 && k % 3 !== 2;
  const keepdim = !all && k % 5 === 2;
  const out = all ? [] : keepdim ? shape.map((s, i) => (dims.includes(i) ? 1 : s)) : shape.filter((_, i) => !dims.includes(i));
  const dim = dims.length === 1 ? (k % 2 ? dims[0]! - rank : dims[0]!) : dims;
  return { attrs: { ...(all ? {} : { dim }), ...(unbiased ? {} : { unbiased: false }), ...(keepdim ? { keepdim } : {}) }, out };
}

const data = (values: readonly number[], shape: readonly number[], dtype: FloatDType) =>
  nest(values.map((v) => asLeafValue(v, dtype)) as unknown as number[], shape);
const weight = () => fc.integer({ min: -192, max: 191 }).map((i) => (i >= 0 ? i + 1 : i) / 64);

interface StatisticCase extends GradientCase { op: StatisticOp; draw: Draw; attrs?: Attrs; vs: number[] }

function cases(op: StatisticOp, order: 1 | 2 = 1): fc.Arbitrary<StatisticCase> {
  return fc.tuple(draws(op, order), fc.nat({ max: 59 }), fc.array(weight(), { minLength: POOL, maxLength: POOL }),
    fc.array(weight(), { minLength: POOL, maxLength: POOL }), dtypes)
    .map(([draw, k, ws, vs, dtype]): StatisticCase => {
      const { attrs, out } = call(op, draw.shape, k);
      const b = new ProgramBuilder(`property.op.${op}`, dtype);
      const x = b.leaf(data(draw.values, draw.shape, dtype), true, 'x');
      const result = b.op(op, [x], attrs);
      const w = b.leaf(nest(ws.slice(0, numel(out)), out), false, 'w');
      const sum = b.op('sum', [b.op('mul', [result, w])]);
      return {
        program: b.program(), out: sum, inputs: ['x'], forward: result, op, draw, ...(attrs ? { attrs } : {}), vs: vs.slice(0, draw.values.length),
        ...(op === 'cumsum' ? { nonFinite: { kind: 'linear' as const } } : {}),
      };
    });
}

const CLAUSES: Record<StatisticOp, readonly [ClauseId, ...ClauseId[]]> = {
  prod: ['op.prod', 'op.prod.zeros', 'op.dims'],
  cumsum: ['op.cumsum', 'op.dims'],
  cumprod: ['op.cumprod', 'op.dims'],
  var: ['op.var', 'op.dims'],
  std: ['op.std', 'op.dims'],
  norm: ['op.norm', 'op.dims'],
};

/**
 * norm with p = inf is judged by finite differences alone (mathjs cannot differentiate max). They
 * agree with PyTorch's equal share at a tie of two (a central difference of max(a, b) at a = b is
 * 1/2) but not of three or more (still 1/2, PyTorch 1/3): such samples are the edge fixture's.
 */
function tiesOfThree(c: StatisticCase): boolean {
  if (c.op !== 'norm' || c.attrs?.p !== 'inf') return false;
  const norms = evaluateProgram(c.program).get(c.forward!)!.values;
  const exprs = expandProgram(c.program).get(c.forward!)!.exprs;
  const x = c.draw.values;
  return exprs.some((e, o) => x.filter((v, j) => Math.abs(v) === norms[o] && new RegExp(`\\bx_${j}\\b`).test(e)).length >= 3);
}

/** PyTorch 1.13's frobenius_norm (the default p over two dims) at a zero slice: its gradient is nan there (the edge fixture's). */
function frobeniusAtZero(c: StatisticCase): boolean {
  if (c.op !== 'norm' || c.attrs?.p !== undefined || !Array.isArray(c.attrs?.dim) || c.attrs.dim.length !== 2) return false;
  return evaluateProgram(c.program).get(c.forward!)!.values.some((v) => v === 0);
}

function firstOrder(op: StatisticOp): AnyProperty {
  const p = gradientProperty(`gradient.op.${op}`, CLAUSES[op],
    `${op}: with one zero, several zeros, all elements equal${op === 'norm' ? ', ties' : ''} and extreme magnitudes, the forward and gradient match both oracles`,
    cases(op), { edges: true, ...(op === 'norm' ? { symbolic: 'when-small' as const } : {}) });
  return op === 'norm' ? { ...p, precondition: (c: StatisticCase) => !tiesOfThree(c) && !frobeniusAtZero(c) && p.precondition!(c) } as AnyProperty : p;
}

/**
 * Whether PyTorch's gradient is a constant here, so that its second derivative is 0 whatever the
 * math says: x.prod() over an input with two zeros or more (op.prod.zeros).
 */
const constantGradient = (c: StatisticCase) => c.op === 'prod' && c.attrs === undefined && c.draw.values.filter((v) => v === 0).length >= 2;

/**
 * Whether x_j lies in a slice whose std or 2-norm is 0, where the math has no second derivative
 * (mathjs gives nan) and PyTorch's is set by where it masks: std masks g / (2 · result) and its
 * second derivative there is 0; norm masks x / norm after dividing, so its is 0 / 0, nan (op.std, op.norm).
 */
function zeroSpread(c: StatisticCase, j: number): boolean {
  if (c.op !== 'std' && !(c.op === 'norm' && (c.attrs?.p ?? 2) === 2)) return false;
  const values = evaluateProgram(c.program).get(c.forward!)!.values;
  const symbol = new RegExp(`\\bx_${j}\\b`);
  return expandProgram(c.program).get(c.forward!)!.exprs.some((e, o) => values[o] === 0 && symbol.test(e));
}

/**
 * Second order: g = grad(out, x, createGraph), then h = grad(sum(g · v), x), against mathjs:
 * h_j = Σ_i v_i ∂²out / ∂x_i ∂x_j, at zeros too (0 where PyTorch's gradient is a constant).
 */
function secondOrder(op: StatisticOp): Property<StatisticCase> {
  return {
    id: `gradient.op.${op}.second-order`,
    clauses: [CLAUSES[op][0], 'backward.create-graph', ...(op === 'prod' ? ['op.prod.zeros' as const] : [])],
    title: `${op}: second derivatives through createGraph match mathjs, at zeros too`,
    arbitrary: cases(op, 2),
    precondition: (c) => judgeable(c) && !frobeniusAtZero(c),
    programs: (c) => {
      const shape = c.draw.shape;
      const program: Program = {
        ...c.program,
        steps: [
          ...c.program.steps,
          { let: ['g'], grad: { outputs: [c.out], inputs: ['x'], createGraph: true } },
          { let: 'v', tensor: nest(c.vs, shape) },
          { let: 'gv', op: 'mul', args: ['g', 'v'] },
          { let: 's', op: 'sum', args: ['gv'] },
          { let: ['h'], grad: { outputs: ['s'], inputs: ['x'], allowUnused: true } },
          { observe: 'h' },
        ],
      };
      return [program];
    },
    judge: (c, [o], engine, { dtype }) => {
      // A gradient that is a constant does not require grad; PyTorch refuses to differentiate it.
      if (o!.error && o!.error.category !== 'no-grad-fn') return `unexpected error: ${errorOf(o!)}`;
      const n = c.draw.values.length;
      const expr = expandProgram(c.program).get(c.out)!.exprs[0]!;
      const scope = programScope(c.program);
      // norm's p = inf gradient is sgn(x) times constants: its second derivative is 0 (mathjs has no max).
      const piecewise = c.op === 'norm' && c.attrs?.p === 'inf';
      const expected = Array.from({ length: n }, (_, j) => (zeroSpread(c, j) ? (c.op === 'norm' ? NaN : 0) : piecewise || constantGradient(c) ? 0
        : c.vs.reduce((acc, v, i) => acc + v * secondPartialAt(expr, `x_${i}`, `x_${j}`, scope), 0)));
      const obs = o!.error ? undefined : find(o!, 'h');
      const actual = !obs || obs.none ? new Array<number>(n).fill(0) : flat(obs.value);
      return compareGradient({ actual, expected, dtype, oracle: 'symbolic', engine: engine.name, what: `d (sum(d ${c.out} / d x · v)) / d x`, shape: c.draw.shape });
    },
    runsFactor: op === 'std' ? 0.25 : 0.5, // std's symbolic second partials are the slowest
  };
}

export const STATISTIC_PROPERTIES: AnyProperty[] = [
  firstOrder('prod'), secondOrder('prod'),
  firstOrder('cumsum'),
  firstOrder('cumprod'), secondOrder('cumprod'),
  firstOrder('var'), secondOrder('var'),
  firstOrder('std'), secondOrder('std'),
  firstOrder('norm'), secondOrder('norm'),
];
