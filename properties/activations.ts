import fc from 'fast-check';
import { reducePlan } from '../oracles/shape.ts';
import type { ActivationOp } from '../oracles/walk.ts';
import type { ClauseId } from '../spec/clauses.ts';
import type { Attrs, DType } from '../spec/program.ts';
import { large, withEdges, withNonFinite } from './arbitraries/edges.ts';
import { ACTIVATIONS as SMOOTH_ACTIVATIONS, expressionSamples } from './arbitraries/expressions.ts';
import { ordinary } from './arbitraries/numbers.ts';
import { expression, secondOrder } from './compositions.ts';
import { shapes } from './arbitraries/shapes.ts';
import { ProgramBuilder } from './build.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';
import { data, dtypes, finish, pool, weight } from './ops.ts';
import type { AnyProperty } from './property.ts';

/*
 * The activations of F and the softmax family: one property per op, each with the op's
 * attributes drawn (PyTorch's defaults too), its kinks, thresholds and overflow edges, and
 * non-finite leaves, judged like the unary ops' (properties/ops.ts).
 */

const signed = (values: readonly number[]): number[] => values.flatMap((v) => [v, -v]);
const oneOf = <T>(...values: T[]) => fc.constantFrom(...values);

interface ActivationPlan {
  clause: ClauseId;
  attrs: fc.Arbitrary<Attrs>;
  /** Edge values: kinks, thresholds (x·beta = threshold and its neighbours), overflow of exp. */
  edges: readonly number[];
  /** Where the op switches branches for these attrs: about one element in eight is put there or a 1/64 step beside it. */
  switch?: (attrs: Attrs) => number;
  /** The non-finite leaves drawn (default nan, inf and -inf). */
  nonFinite?: readonly number[];
  /** Values PyTorch leaves unspecified for these attrs and dtype, moved to a specified one. */
  specified?: (v: number, attrs: Attrs, dtype: DType) => number;
}

const KINK = [0, -0, ...signed([2 ** -149, 2 ** -130, 2 ** -1074])];
const EXP_EDGES = signed([20, 88, 89, 100, 103.5, 104, 709.75, 710, 745, 746]);

const ACTIVATIONS: Record<ActivationOp, ActivationPlan> = {
  softplus: {
    clause: 'op.softplus',
    attrs: oneOf<Attrs>({}, { beta: 2, threshold: 1 }, { beta: 0.5 }, { threshold: 5 }),
    // The thresholds of the drawn attrs, each on both sides: 0.5 (β 2, threshold 1), 5, 20, 40 (β 0.5).
    edges: [0, -0, ...EXP_EDGES],
    switch: (a) => (a.threshold ?? 20) / (a.beta ?? 1),
  },
  leakyRelu: {
    clause: 'op.leaky-relu',
    attrs: oneOf<Attrs>({}, { negativeSlope: 0.2 }, { negativeSlope: -0.5 }, { negativeSlope: 1.5 }),
    edges: [...KINK, ...signed([88, 1e4])],
  },
  elu: {
    clause: 'op.elu',
    attrs: oneOf<Attrs>({}, { alpha: 0.5 }, { alpha: 2 }),
    edges: [...KINK, ...EXP_EDGES],
    // Not nan: PyTorch's gradient there depends on the element's place in the tensor (op.elu).
    nonFinite: [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
  },
  gelu: {
    clause: 'op.gelu',
    attrs: oneOf<Attrs>({}, { approximate: 'tanh' }, { approximate: 'none' }),
    edges: [0, -0, ...signed([2 ** -130, 5.5, 10, 20, 40, 100])],
    // float32 erf gelu below -2.5 and at -0: not specified (op.gelu); those draws become positive.
    specified: (v, a, dtype) => (dtype === 'float32' && a.approximate !== 'tanh' && (v < -2.5 || Object.is(v, -0)) ? Math.abs(v) : v),
  },
  silu: {
    clause: 'op.silu',
    attrs: oneOf<Attrs>({}),
    edges: [0, -0, ...EXP_EDGES],
  },
};

export function activationProperty(op: ActivationOp): AnyProperty {
  const plan = ACTIVATIONS[op];
  const values = withNonFinite(fc.oneof({ arbitrary: withEdges('kink', ordinary()), weight: 1 }, {
    arbitrary: fc.oneof({ arbitrary: ordinary(), weight: 9 }, { arbitrary: fc.oneof(fc.constantFrom(...plan.edges), large(), large().map((v) => -v)), weight: 1 }),
    weight: 3,
  }), plan.nonFinite);
  const spots = pool(fc.integer({ min: 0, max: 23 }));
  const arbitrary = fc.tuple(shapes(), pool(values), pool(weight()), dtypes, plan.attrs, spots).map(([shape, drawn, ws, dtype, attrs, at]): GradientCase => {
    const b = new ProgramBuilder(`property.${plan.clause}`, dtype);
    const xs = plan.switch ? drawn.map((v, i) => (at[i]! < 3 ? plan.switch!(attrs) + (at[i]! - 1) / 64 : v)) : drawn;
    const x = b.leaf(data(plan.specified ? xs.map((v) => plan.specified!(v, attrs, dtype)) : xs, shape, dtype), true, 'x');
    const result = b.op(op, [x], Object.keys(attrs).length ? attrs : undefined);
    const out = finish(b, result, shape, ws);
    return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'activation', op, attrs, x, result, weights: 'w' } };
  });
  return gradientProperty(`gradient.${plan.clause}`, [plan.clause], `${op}: forward and gradient match both oracles on random shapes and options, at kinks, thresholds and the edges too`, arbitrary, { edges: true });
}

/*
 * softmax, logSoftmax and logsumexp: values that overflow exp without the max shift (88 to 90 in
 * float32, 1e4), rows where one value dominates by thousands, all-equal rows, -inf entries (judged
 * by the symbolic oracle at the point: its shift is a constant there), on any dim of shapes up to
 * rank 3, and for logsumexp several dims and keepdim.
 */
type Softmax = 'softmax' | 'logSoftmax' | 'logsumexp';
const SOFTMAX_CLAUSES: Record<Softmax, ClauseId> = { softmax: 'op.softmax', logSoftmax: 'op.log-softmax', logsumexp: 'op.logsumexp' };

const rowValues = fc.oneof(
  { arbitrary: ordinary(), weight: 6 },
  { arbitrary: fc.constantFrom(0, -0, 88, 89, 90, 100, 1e4, -1e4, 1e4 + 1, -100), weight: 2 },
  { arbitrary: large(), weight: 1 },
);

export function softmaxProperty(op: Softmax): AnyProperty {
  const arbitrary = fc.tuple(
    shapes(3), fc.nat({ max: 11 }), fc.boolean(), fc.boolean(), fc.constantFrom('mixed', 'mixed', 'equal-rows'),
    pool(withNonFinite(rowValues, [Number.NEGATIVE_INFINITY])), pool(weight()), dtypes,
  ).map(([shape, k, keepdim, negative, mode, xs, ws, dtype]): GradientCase => {
    const rank = Math.max(shape.length, 1);
    const d = k % rank;
    // logsumexp: one dim, or (k >= 6) every dim from d on, as a list.
    const dims = op === 'logsumexp' && k >= 6 && shape.length > 1 ? Array.from({ length: shape.length - d }, (_, i) => d + i) : [d];
    const signedDims = dims.map((x) => (negative ? x - rank : x));
    const plan = reducePlan(shape, dims, true);
    // float32 logsumexp's gradient exp(x - r) inherits the rounding of r, about |r|·2^-24 (op.logsumexp):
    // past |x| = 100 that exceeds float32's tolerance, so there those draws are scaled down (the
    // edge fixture pins PyTorch's values at 1e4).
    const drawn = op === 'logsumexp' && dtype === 'float32' ? xs.map((v) => (Math.abs(v) > 100 ? v / 128 : v)) : xs;
    // Equal rows: every element of a row (the elements reduced together) takes the row's first draw.
    const values = mode === 'equal-rows' ? Array.from(plan.target, (j) => drawn[j]!) : drawn;
    const attrs: Attrs = op === 'logsumexp'
      ? { dim: signedDims.length === 1 ? signedDims[0]! : signedDims, ...(keepdim ? { keepdim: true } : {}) }
      : { dim: signedDims[0]! };
    const b = new ProgramBuilder(`property.${SOFTMAX_CLAUSES[op]}`, dtype);
    const x = b.leaf(data(values, shape, dtype), true, 'x');
    const result = b.op(op, [x], attrs);
    const outShape = op === 'logsumexp' ? reducePlan(shape, dims, keepdim).shape : shape;
    const out = finish(b, result, outShape, ws);
    return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'point' } };
  });
  const clause = SOFTMAX_CLAUSES[op];
  return gradientProperty(`gradient.${clause}`, [clause, 'op.dims'],
    `${op}: large magnitudes, dominated and all-equal rows and -inf entries on any dim match both oracles`, arbitrary, { edges: true });
}

/** Second partials through createGraph of expression trees over the smooth activations (and a few elementwise ops between them). */
export const activationsSecondOrder = secondOrder('gradient.activations.second-order',
  'second partials of random expression trees over gelu, silu and softplus through createGraph match mathjs',
  expressionSamples(4, [...SMOOTH_ACTIVATIONS, 'tanh', 'sin', 'square', 'neg']).map(expression), ['backward.create-graph', 'op.gelu', 'op.silu', 'op.softplus']);

/**
 * Second partials of the softmax family through createGraph: x = a·e0 + b·e1 (+ c·e2) from scalar
 * leaves, out = sum(op(x, 0) · w), so every second partial is one mathjs derivative of a scalar.
 */
export const softmaxSecondOrder = secondOrder('gradient.softmax.second-order',
  'second partials of softmax, log_softmax and logsumexp through createGraph match mathjs, at large and equal values too',
  fc.tuple(fc.constantFrom<Softmax>('softmax', 'logSoftmax', 'logsumexp'), fc.constantFrom(2, 3), fc.boolean(), fc.array(rowValues, { minLength: 3, maxLength: 3 }), fc.array(weight(), { minLength: 3, maxLength: 3 }))
    .map(([op, n, equal, vs, ws]): GradientCase => {
      const b = new ProgramBuilder(`property.${SOFTMAX_CLAUSES[op]}.second-order`, 'float64');
      const names = ['a', 'b', 'c'].slice(0, n);
      names.forEach((name, i) => b.leaf(equal ? vs[0]! : vs[i]!, true, name));
      const basis = names.map((_, i) => b.leaf(names.map((_, j) => (i === j ? 1 : 0)), false, `e${i}`));
      let x = b.op('mul', [names[0]!, basis[0]!]);
      for (let i = 1; i < n; i++) x = b.op('add', [x, b.op('mul', [names[i]!, basis[i]!])]);
      const y = b.op(op, [x], { dim: 0 });
      const w = b.leaf(op === 'logsumexp' ? ws[0]! : ws.slice(0, n), false, 'w');
      const out = b.op('sum', [b.op('mul', [y, w])]);
      return { program: b.program(), out, inputs: names };
    }), ['backward.create-graph', 'op.softmax', 'op.log-softmax', 'op.logsumexp']);

export const ACTIVATION_PROPERTIES: AnyProperty[] = [
  ...(['softplus', 'leakyRelu', 'elu', 'gelu', 'silu'] as const).map(activationProperty),
  ...(['softmax', 'logSoftmax', 'logsumexp'] as const).map(softmaxProperty),
  activationsSecondOrder,
  softmaxSecondOrder,
];
