import fc from 'fast-check';
import { LOSS_OPS, REDUCTIONS, UNARY_OPS, type Arg, type Attrs, type BINARY_OPS, type FloatDType, type OpName, type Program } from '../spec/program.ts';
import type { ClauseId } from '../spec/clauses.ts';
import { asLeafValue, NON_FINITE, withEdges, withNonFinite, type EdgeDomain } from './arbitraries/edges.ts';
import { awayFromZero, ordinary } from './arbitraries/numbers.ts';
import { broadcastPair, shapes } from './arbitraries/shapes.ts';
import { nest, numel, ProgramBuilder } from './build.ts';
import { reducePlan, unravel } from '../oracles/shape.ts';
import { errorOf, find, flat } from './observed.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';
import type { AnyProperty } from './property.ts';
import { JOIN_PROPERTIES } from './joining.ts';
import { VIEW_PROPERTIES } from './views.ts';
import { STATISTIC_PROPERTIES } from './statistics.ts';

/*
 * One gradient property per op, each applying the op to fresh leaves so that a wrong rule fails
 * exactly its own clause. The result is weighted by random constants before the final sum, so
 * every element of the vector-Jacobian product is exercised with a different weight.
 */

const POOL = 27; // enough values for any shape here (dims up to 3, rank up to 3)
export const pool = <T = number>(value: fc.Arbitrary<T>) => fc.array(value, { minLength: POOL, maxLength: POOL });

type Domain = 'any' | 'positive' | 'nonzero' | 'small' | 'unit' | 'aboveOne' | 'offJumps';
const DOMAINS: Record<Domain, fc.Arbitrary<number>> = {
  any: ordinary(),
  positive: fc.integer({ min: 16, max: 192 }).map((i) => i / 64), // log, sqrt, pow bases
  nonzero: awayFromZero(), // divisors, reciprocal, and the kinks of relu and abs
  small: fc.integer({ min: -70, max: 70 }).map((i) => i / 64), // tan stays clear of its poles
  unit: fc.integer({ min: -56, max: 56 }).map((i) => i / 64), // asin, acos, atanh: inside (-1, 1)
  aboveOne: fc.integer({ min: 72, max: 256 }).map((i) => i / 64), // acosh: past 1
  // floor, ceil, round, trunc, sign: away from every jump (integers and halves), where finite
  // differences see the derivative 0 too.
  offJumps: ordinary().filter((v) => (v * 64) % 32 !== 0),
};

/**
 * Both dtypes: float64 is judged tightly; float32 results are rounded after every op and judged
 * with float32 tolerances. Inputs lie on a 1/64 grid, exact in both, so the oracles (float64)
 * start from exactly the engine's inputs.
 */
export const dtypes = fc.constantFrom<FloatDType>('float64', 'float32');

export const data = (values: readonly number[], shape: readonly number[], dtype: FloatDType = 'float64') =>
  // nest only slices; the spelled scalars ("-0") pass through it unchanged.
  nest(values.slice(0, numel(shape)).map((v) => asLeafValue(v, dtype)) as unknown as number[], shape);

/**
 * Weights of the final sum: never 0, because 0 · inf is nan in the engine's backward while the
 * symbolic oracle's vector-Jacobian product leaves a zero weight out.
 */
export const weight = () => fc.integer({ min: -192, max: 191 }).map((i) => (i >= 0 ? i + 1 : i) / 64);

/** Weights the op's result and sums it: out = sum(result * w), with w a constant leaf. */
export function finish(b: ProgramBuilder, result: string, shape: readonly number[], weights: readonly number[]): string {
  const w = b.leaf(data(weights, shape), false, 'w');
  return b.op('sum', [b.op('mul', [result, w])]);
}

const UNARY_DOMAIN: Record<(typeof UNARY_OPS)[number], Domain> = {
  neg: 'any', exp: 'any', log: 'positive', sin: 'any', cos: 'any', tan: 'small', tanh: 'any', sigmoid: 'any',
  relu: 'nonzero', sqrt: 'positive', abs: 'nonzero', reciprocal: 'nonzero',
  log1p: 'positive', expm1: 'any', erf: 'any', atan: 'any', asin: 'unit', acos: 'unit', sinh: 'any', cosh: 'any', asinh: 'any',
  acosh: 'aboveOne', atanh: 'unit', rsqrt: 'positive', square: 'any',
  sign: 'offJumps', floor: 'offJumps', ceil: 'offJumps', round: 'offJumps', trunc: 'offJumps',
};

/** Which edge values each unary op draws (properties/arbitraries/edges.ts). */
const UNARY_EDGES: Record<(typeof UNARY_OPS)[number], EdgeDomain> = {
  neg: 'any', exp: 'any', log: 'positive', sin: 'any', cos: 'any', tan: 'small', tanh: 'any', sigmoid: 'any',
  relu: 'kink', sqrt: 'positive', abs: 'kink', reciprocal: 'nonzero',
  log1p: 'log1p', expm1: 'any', erf: 'any', atan: 'any', asin: 'small', acos: 'small', sinh: 'hyperbolic', cosh: 'hyperbolic', asinh: 'any',
  acosh: 'aboveOne', atanh: 'small', rsqrt: 'positive', square: 'any',
  sign: 'offJumps', floor: 'offJumps', ceil: 'offJumps', round: 'offJumps', trunc: 'offJumps',
};

/** Which non-finite leaves each unary op draws (judged by properties/non-finite.ts). */
export const UNARY_NON_FINITE: Record<(typeof UNARY_OPS)[number], readonly number[]> = {
  neg: NON_FINITE, exp: NON_FINITE, log: NON_FINITE, sin: NON_FINITE, cos: NON_FINITE, tan: NON_FINITE, tanh: NON_FINITE,
  sigmoid: NON_FINITE, relu: NON_FINITE, sqrt: NON_FINITE, abs: NON_FINITE, reciprocal: NON_FINITE,
  log1p: NON_FINITE, expm1: NON_FINITE, erf: NON_FINITE, atan: NON_FINITE, asin: NON_FINITE, acos: NON_FINITE, sinh: NON_FINITE,
  cosh: NON_FINITE, asinh: NON_FINITE, acosh: NON_FINITE, atanh: NON_FINITE, rsqrt: NON_FINITE, square: NON_FINITE,
  sign: NON_FINITE, floor: NON_FINITE, ceil: NON_FINITE, round: NON_FINITE, trunc: NON_FINITE,
};

/** Whether the op properties draw non-finite leaves (off: the generators as they were, for comparisons). */
export interface OpPropertyOptions { nonFinite?: boolean }

export function unaryProperty(op: (typeof UNARY_OPS)[number], options: OpPropertyOptions = {}): AnyProperty {
  const edges = withEdges(UNARY_EDGES[op], DOMAINS[UNARY_DOMAIN[op]]);
  const values = options.nonFinite === false ? edges : withNonFinite(edges, UNARY_NON_FINITE[op]);
  const arbitrary = fc.tuple(shapes(), pool(values), pool(weight()), dtypes).map(([shape, xs, ws, dtype]): GradientCase => {
    const b = new ProgramBuilder(`property.op.${op}`, dtype);
    const x = b.leaf(data(xs, shape, dtype), true, 'x');
    const result = b.op(op, [x]);
    const out = finish(b, result, shape, ws);
    return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'unary', op, x, result, weights: 'w' } };
  });
  return gradientProperty(`gradient.op.${op}`, [`op.${op}` as ClauseId], `${op}: forward and gradient match both oracles on random shapes, at the edges too`, arbitrary, { edges: true });
}

const BINARY_DOMAIN: Record<Exclude<(typeof BINARY_OPS)[number], 'matmul'>, [Domain, Domain]> = {
  add: ['any', 'any'], sub: ['any', 'any'], mul: ['any', 'any'], div: ['any', 'nonzero'], pow: ['positive', 'small'],
};

/** Which side, if any, is a Python number instead of a tensor. */
type Operands = 'tensors' | 'number-right' | 'number-left';

export function binaryProperty(op: Exclude<(typeof BINARY_OPS)[number], 'matmul'>, options: OpPropertyOptions = {}): AnyProperty {
  const [da, db] = BINARY_DOMAIN[op];
  // pow keeps its ordinary domains: its edges (zero and negative bases) are op.pow.zero-base's
  // fixtures, and so are its non-finite values, whose gradients depend on PyTorch's masking.
  const edges = op !== 'pow';
  // Non-finite leaves on tensor operands (a Python number operand stays finite: it is 0 where nan or ±inf was drawn).
  const mix = (v: fc.Arbitrary<number>) => (edges && options.nonFinite !== false ? withNonFinite(v) : v);
  const [va, vb] = (edges ? [withEdges(da === 'nonzero' ? 'nonzero' : 'any', DOMAINS[da]), withEdges(db === 'nonzero' ? 'nonzero' : 'any', DOMAINS[db])] : [DOMAINS[da], DOMAINS[db]]).map(mix) as [fc.Arbitrary<number>, fc.Arbitrary<number>];
  const arbitrary = fc.tuple(
    broadcastPair(), pool(va), pool(vb), pool(edges ? weight() : ordinary()),
    fc.constantFrom<Operands>('tensors', 'number-right', 'number-left'), dtypes,
  ).map(([[sa, sb], as, bs, ws, operands, dtype]): GradientCase => {
    const b = new ProgramBuilder(`property.op.${op}`, dtype);
    // A Python number operand is a float64 in PyTorch, then cast to the tensor's dtype: the same
    // rounding as a leaf of that dtype. -0 as a Python number would be spelled "-0", which a
    // number argument cannot be, so it is 0 there.
    const number = (v: number) => { const r = asLeafValue(v, dtype); return typeof r === 'number' ? r : 0; };
    const a = b.leaf(data(as, sa, dtype), true, 'a');
    const args: Arg[] = operands === 'tensors' ? [a, b.leaf(data(bs, sb, dtype), true, 'b')]
      : operands === 'number-right' ? [a, number(bs[0]!)] : [number(as[0]!), b.leaf(data(bs, sb, dtype), true, 'b')];
    const shape = operands === 'tensors' ? broadcast(sa, sb) : operands === 'number-right' ? sa : sb;
    const result = b.op(op, args);
    const out = finish(b, result, shape, ws);
    const inputs = operands === 'tensors' ? ['a', 'b'] : operands === 'number-right' ? ['a'] : ['b'];
    const nonFinite = op === 'pow' ? undefined : { kind: 'binary' as const, op, a: args[0]!, b: args[1]!, result, weights: 'w' };
    return { program: b.program(), out, inputs, forward: result, ...(nonFinite ? { nonFinite } : {}) };
  });
  return gradientProperty(`gradient.op.${op}`, [`op.${op}` as ClauseId, 'op.broadcast', 'backward.broadcast-reduce', 'op.scalar-operands'],
    `${op}: broadcast operands and Python numbers on either side match both oracles`, arbitrary, { edges });
}

function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1));
}

/** Reductions and shape ops draw nan, inf and -inf too: the forward propagates them, the gradient does not depend on them. */
const linearValues = (options: OpPropertyOptions) => (options.nonFinite === false ? ordinary() : withNonFinite(ordinary()));

export function reductionProperty(op: 'sum' | 'mean', options: OpPropertyOptions = {}): AnyProperty {
  const arbitrary = fc.tuple(shapes(3).filter((s) => s.length > 0), fc.nat({ max: 7 }), fc.boolean(), fc.boolean(), fc.boolean(), pool(linearValues(options)), pool(ordinary()), dtypes)
    .map(([shape, mask, keepdim, all, negative, xs, ws, dtype]): GradientCase => {
      const b = new ProgramBuilder(`property.op.${op}`, dtype);
      const x = b.leaf(data(xs, shape), true, 'x');
      const picked = shape.map((_, i) => i).filter((i) => mask & (1 << i));
      const dims = (picked.length ? picked : [0]).map((d) => (negative ? d - shape.length : d));
      const attrs: Attrs = all ? {} : { dim: dims.length === 1 ? dims[0]! : dims, keepdim };
      const reduced = all ? [] : shape.map((d, i) => (picked.length ? picked : [0]).includes(i) ? (keepdim ? 1 : -1) : d).filter((d) => d !== -1);
      const result = b.op(op, [x], all ? undefined : attrs);
      const out = finish(b, result, reduced, ws);
      return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'linear' } };
    });
  return gradientProperty(`gradient.op.${op}`, [`op.${op}`, 'op.dims'], `${op} over all, one or several dims, negative dims and keepdim matches both oracles`, arbitrary);
}

/**
 * Values with ties on purpose: each element is one of three shared values or a value of its own,
 * and in one sample in four all elements are equal; edges (large, tiny, ±0), nan and ±inf among
 * them. The zeros of a sample all take the sign of its first zero: which sign a selection of +0
 * and -0 returns is not specified (op.max), while ties of equal zeros are.
 */
function tiedValues(options: OpPropertyOptions, dtype: FloatDType, palette: readonly number[], picks: readonly number[], free: readonly number[], allEqual: boolean): number[] {
  const xs = free.map((v, i) => (allEqual ? palette[0]! : picks[i]! < palette.length ? palette[picks[i]!]! : v))
    .map((v) => (dtype === 'float32' ? Math.fround(v) : v));
  const zero = xs.find((v) => v === 0);
  return xs.map((v) => (v === 0 ? zero! : v));
}

const selectionArbitraries = (options: OpPropertyOptions) => {
  const value = options.nonFinite === false ? withEdges('any') : withNonFinite(withEdges('any'));
  // Shared values are zeros (of either sign) one time in five, so zero ties are common too.
  const shared = fc.oneof({ arbitrary: value, weight: 4 }, { arbitrary: fc.constantFrom(0, -0), weight: 1 });
  return [fc.array(shared, { minLength: 3, maxLength: 3 }), pool(fc.nat({ max: 5 })), pool(value), fc.nat({ max: 3 }).map((k) => k === 0)] as const;
};

/** max() and min(): every element of a random shape, ties on purpose (op.max, op.min). */
export function selectAllProperty(op: 'max' | 'min', options: OpPropertyOptions = {}): AnyProperty {
  const arbitrary = fc.tuple(shapes(), ...selectionArbitraries(options), weight(), dtypes)
    .map(([shape, palette, picks, free, allEqual, w, dtype]): GradientCase => {
      const b = new ProgramBuilder(`property.op.${op}`, dtype);
      const x = b.leaf(data(tiedValues(options, dtype, palette, picks, free, allEqual), shape, dtype), true, 'x');
      const result = b.op(op, [x]);
      const out = finish(b, result, [], [w]);
      return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'select', op, x, result, weights: 'w', attrs: {} } };
    });
  return gradientProperty(`gradient.op.${op}`, [`op.${op}`], `${op}() over every element: ties share the gradient evenly, nan selects itself; both oracles away from ties, the symbolic one at them`, arbitrary, { edges: true });
}

/** amax and amin over all, one or several dims, negative dims and keepdim, ties on purpose (op.amax, op.amin). */
export function selectDimsProperty(op: 'amax' | 'amin', options: OpPropertyOptions = {}): AnyProperty {
  const arbitrary = fc.tuple(shapes(3).filter((s) => s.length > 0), fc.nat({ max: 7 }), fc.boolean(), fc.constantFrom('dims', 'none', 'empty'), fc.boolean(),
    ...selectionArbitraries(options), pool(weight()), dtypes)
    .map(([shape, mask, keepdim, how, negative, palette, picks, free, allEqual, ws, dtype]): GradientCase => {
      const b = new ProgramBuilder(`property.op.${op}`, dtype);
      const x = b.leaf(data(tiedValues(options, dtype, palette, picks, free, allEqual), shape, dtype), true, 'x');
      const picked = shape.map((_, i) => i).filter((i) => mask & (1 << i));
      const dims = (picked.length ? picked : [0]).map((d) => (negative ? d - shape.length : d));
      // No dim and an empty list both reduce every dim; keepdim then keeps them all as size 1.
      const attrs: Attrs = how === 'none' ? (keepdim ? { keepdim } : {}) : { dim: how === 'empty' ? [] : dims.length === 1 ? dims[0]! : dims, ...(keepdim ? { keepdim } : {}) };
      const reducedDims = how === 'dims' ? (picked.length ? picked : [0]) : shape.map((_, i) => i);
      const reduced = shape.map((d, i) => (reducedDims.includes(i) ? (keepdim ? 1 : -1) : d)).filter((d) => d !== -1);
      const result = b.op(op, [x], Object.keys(attrs).length ? attrs : undefined);
      const out = finish(b, result, reduced, ws);
      return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'select', op, x, result, weights: 'w', attrs } };
    });
  return gradientProperty(`gradient.op.${op}`, [`op.${op}`, 'op.dims'], `${op} over all, one or several dims, negative dims and keepdim: ties share the gradient evenly per group, a nan group's gradient is nan`, arbitrary, { edges: true });
}

/**
 * maximum and minimum of two broadcast tensors whose elements come from one shared set of values,
 * so that ties across the operands are common (op.maximum, op.minimum).
 */
export function selectPairProperty(op: 'maximum' | 'minimum', options: OpPropertyOptions = {}): AnyProperty {
  const [palette, picks, free, allEqual] = selectionArbitraries(options);
  const arbitrary = fc.tuple(broadcastPair(), palette, picks, free, picks, free, allEqual, pool(weight()), dtypes)
    .map(([[sa, sb], shared, picksA, freeA, picksB, freeB, same, ws, dtype]): GradientCase => {
      const b = new ProgramBuilder(`property.op.${op}`, dtype);
      // One zero sign for both operands: which of +0 and -0 a tie returns is not specified.
      const values = tiedValues(options, dtype, shared, [...picksA, ...picksB], [...freeA, ...freeB], same);
      const left = b.leaf(data(values.slice(0, POOL), sa, dtype), true, 'a');
      const right = b.leaf(data(values.slice(POOL), sb, dtype), true, 'b');
      const result = b.op(op, [left, right]);
      const out = finish(b, result, broadcast(sa, sb), ws);
      return { program: b.program(), out, inputs: ['a', 'b'], forward: result, nonFinite: { kind: 'binary', op, a: left, b: right, result, weights: 'w' } };
    });
  return gradientProperty(`gradient.op.${op}`, [`op.${op}`, 'op.broadcast', 'backward.broadcast-reduce'],
    `${op} of broadcast operands: ties give each side half the gradient, nan passes it to both; both oracles away from ties, the symbolic one at them`, arbitrary, { edges: true });
}

/**
 * max(dim) and min(dim) on tied values: `v, i = x.max(dim)` binds a tuple; the gradient goes to the
 * first selected element of each group (op.max-dim), judged by the symbolic oracle's point choice
 * at ties and by both oracles away from them.
 */
export function selectDimProperty(op: 'max' | 'min', options: OpPropertyOptions = {}): AnyProperty {
  const arbitrary = fc.tuple(shapes(3).filter((s) => s.length > 0), fc.nat({ max: 2 }), fc.boolean(), fc.boolean(),
    ...selectionArbitraries(options), pool(weight()), dtypes)
    .map(([shape, k, keepdim, negative, palette, picks, free, allEqual, ws, dtype]): GradientCase => {
      const b = new ProgramBuilder(`property.op.${op}-dim`, dtype);
      const x = b.leaf(data(tiedValues(options, dtype, palette, picks, free, allEqual), shape, dtype), true, 'x');
      const d = k % shape.length;
      const attrs: Attrs = { dim: negative ? d - shape.length : d, ...(keepdim ? { keepdim } : {}) };
      b.push({ let: ['v', 'i'], op, args: [x], attrs }, { observe: 'i', label: 'indices' });
      const reduced = shape.map((n, i) => (i === d ? (keepdim ? 1 : -1) : n)).filter((n) => n !== -1);
      const out = finish(b, 'v', reduced, ws);
      return { program: b.program(), out, inputs: ['x'], forward: 'v', nonFinite: { kind: 'select', op, x, result: 'v', weights: 'w', attrs } };
    });
  return gradientProperty(`gradient.op.${op}-dim`, ['op.max-dim', 'op.dims'], `${op}(dim) binds (values, indices): the gradient goes to the first selected element of each group, also at ties and nan`, arbitrary, { edges: true });
}

interface ArgCase { program: Program; shape: number[]; values: number[]; dim: number | null; keepdim: boolean; mode: 'max' | 'min' }

/** The first index of the largest (smallest) value of each group along dim, a nan counting as both (op.argmax). */
export function firstIndices(c: Pick<ArgCase, 'shape' | 'values' | 'dim' | 'mode'>): number[] {
  const shape = c.dim === null ? [c.values.length] : c.shape;
  const d = c.dim === null ? 0 : c.dim < 0 ? c.dim + Math.max(c.shape.length, 1) : c.dim;
  if (shape.length === 0) return [0];
  const plan = reducePlan(shape, d, false);
  const best: (number | undefined)[] = [];
  const index: number[] = [];
  c.values.forEach((v, i) => {
    const g = plan.target[i]!;
    const b = best[g];
    const better = b === undefined || (!Number.isNaN(b) && (Number.isNaN(v) || (c.mode === 'max' ? v > b : v < b)));
    if (better) [best[g], index[g]] = [v, unravel(i, shape)[d]!];
  });
  return index;
}

/**
 * argmax and argmin over every element or one dim (negative, keepdim), on values with ties,
 * ±0, nan and ±inf: the int64 indices must be the first largest (smallest), with no gradient.
 */
export function argSelectProperty(op: 'argmax' | 'argmin', options: OpPropertyOptions = {}): AnyProperty {
  const arbitrary = fc.tuple(shapes(), fc.nat({ max: 3 }), fc.boolean(), fc.boolean(), fc.boolean(), ...selectionArbitraries(options), dtypes)
    .map(([shape, k, all, keepdim, negative, palette, picks, free, allEqual, dtype]): ArgCase => {
      const values = tiedValues(options, dtype, palette, picks, free, allEqual).slice(0, numel(shape));
      const rank = Math.max(shape.length, 1);
      const dim = all ? null : (k % rank) - (negative ? rank : 0);
      const b = new ProgramBuilder(`property.op.${op}`, dtype);
      const x = b.leaf(data(values, shape, dtype), true, 'x');
      const attrs: Attrs = { ...(dim === null ? {} : { dim }), ...(keepdim ? { keepdim } : {}) };
      const i = b.op(op, [x], Object.keys(attrs).length ? attrs : undefined);
      b.push({ observe: i, label: 'index' });
      return { program: b.program(), shape, values, dim, keepdim, mode: op === 'argmax' ? 'max' : 'min' };
    });
  return {
    id: `index.op.${op}`,
    clauses: ['op.argmax'],
    title: `${op} over every element or one dim: the first extreme index (nan first), int64, no gradient`,
    arbitrary,
    programs: (c) => [c.program],
    fields: ['dtype', 'requiresGrad'],
    judge: (c, [o], engine, { dtype }) => {
      if (o!.error) return `unexpected error: ${errorOf(o!)}`;
      const obs = find(o!, 'index');
      if (!obs) return 'index was not observed';
      // An engine without float64 runs the program in float32, where values may round together.
      const values = dtype === 'float32' ? c.values.map(Math.fround) : c.values;
      const expected = firstIndices({ ...c, values });
      const actual = flat(obs.value);
      if (actual.join() !== expected.join()) return `${op}: engine ${engine.name} gives indices [${actual.join(', ')}], expected the first ${c.mode === 'max' ? 'largest' : 'smallest'} [${expected.join(', ')}]`;
      if (obs.dtype !== undefined && obs.dtype !== 'int64') return `${op}: indices have dtype ${obs.dtype}, expected int64`;
      if (obs.requiresGrad === true) return `${op}: the indices require grad; they must not`;
      return null;
    },
  };
}

type ClampCall = 'both' | 'min' | 'max' | 'minNull' | 'maxNull' | 'crossed' | 'clampMin' | 'clampMax';

/**
 * clamp, clampMin and clampMax with bounds on the grid, values drawn so that many sit exactly on a
 * bound (where the gradient passes), others on ±0, nan and ±inf. Bounds cross (min > max) in one
 * call form, where max wins and no gradient passes.
 */
export function clampProperty(op: 'clamp' | 'clampMin' | 'clampMax', options: OpPropertyOptions = {}): AnyProperty {
  // Ids are lower-case slugs: clamp-min and clamp-max name the clampMin and clampMax ops.
  const slug = op === 'clampMin' ? 'clamp-min' : op === 'clampMax' ? 'clamp-max' : op;
  const calls: ClampCall[] = op === 'clamp' ? ['both', 'min', 'max', 'minNull', 'maxNull', 'crossed'] : [op];
  const value = options.nonFinite === false ? withEdges('any') : withNonFinite(withEdges('any'));
  const bound = fc.integer({ min: -128, max: 128 }).map((i) => i / 64);
  const arbitrary = fc.tuple(shapes(), fc.constantFrom(...calls), bound, bound, pool(fc.nat({ max: 4 })), pool(value), pool(weight()), dtypes)
    .map(([shape, call, p, q, picks, free, ws, dtype]): GradientCase => {
      const [lo, hi] = call === 'crossed' ? [Math.max(p, q) + 0.25, Math.min(p, q)] : [Math.min(p, q), Math.max(p, q)];
      // Each element is one of the bounds (two picks in five), 0, or a value of its own.
      const xs = free.map((v, i) => [lo, hi, 0][picks[i]!] ?? v);
      const attrs: Attrs = call === 'both' || call === 'crossed' ? { min: lo, max: hi } : call === 'min' || call === 'clampMin' ? { min: lo }
        : call === 'max' || call === 'clampMax' ? { max: hi } : call === 'minNull' ? { min: null, max: hi } : { min: lo, max: null };
      const b = new ProgramBuilder(`property.op.${slug}`, dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      const result = b.op(op, [x], attrs);
      const out = finish(b, result, shape, ws);
      return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'clamp', x, result, weights: 'w', min: attrs.min ?? -Infinity, max: attrs.max ?? Infinity } };
    });
  return gradientProperty(`gradient.op.${slug}`, ['op.clamp'], `${op} with one or both bounds (null, crossed): the gradient passes inside and at both bounds, 0 outside and at nan; both oracles away from the bounds, the symbolic one at them`, arbitrary, { edges: true });
}

/** Shape ops: each picks valid parameters for the random shape from plain integers (shrinks well). */
const SHAPE_OPS: Record<string, (shape: number[], k: number) => { op: OpName; attrs?: Attrs; out: number[] } | null> = {
  reshape: (s, k) => ({ op: 'reshape', attrs: { shape: k % 2 ? [-1] : [...s].reverse() }, out: k % 2 ? [numel(s)] : [...s].reverse() }),
  view: (s, k) => ({ op: 'view', attrs: { shape: k % 2 ? [numel(s)] : [...s].reverse() }, out: k % 2 ? [numel(s)] : [...s].reverse() }),
  transpose: (s, k) => {
    if (s.length < 2) return null;
    const [d0, d1] = [k % s.length, (k + 1) % s.length];
    const out = [...s];
    [out[d0], out[d1]] = [s[d1]!, s[d0]!];
    return { op: 'transpose', attrs: { dim0: d0 - (k % 2 ? s.length : 0), dim1: d1 }, out };
  },
  t: (s) => (s.length > 2 ? null : { op: 't', out: [...s].reverse() }),
  permute: (s, k) => {
    const dims = s.map((_, i) => (i + k) % s.length);
    return { op: 'permute', attrs: { dims }, out: dims.map((d) => s[d]!) };
  },
  unsqueeze: (s, k) => {
    const d = k % (s.length + 1);
    const out = [...s];
    out.splice(d, 0, 1);
    return { op: 'unsqueeze', attrs: { dim: d }, out };
  },
  squeeze: (s, k) => {
    const d = s.length ? k % s.length : 0;
    if (k % 3 === 0 || s.length === 0) return { op: 'squeeze', out: s.filter((x) => x !== 1) };
    return { op: 'squeeze', attrs: { dim: d }, out: s.filter((x, i) => i !== d || x !== 1) };
  },
  expand: (s, k) => {
    const out = [1 + (k % 3), ...s.map((d, i) => (d === 1 ? 1 + ((k + i) % 3) : d))];
    return { op: 'expand', attrs: { shape: out.map((d, i) => (i > 0 && d === s[i - 1] && k % 2 ? -1 : d)) }, out };
  },
  clone: (s) => ({ op: 'clone', out: s }),
};

export function shapeProperty(name: string, options: OpPropertyOptions = {}): AnyProperty {
  const plan = SHAPE_OPS[name]!;
  const withOnes = fc.array(fc.constantFrom(1, 2, 3, 1), { minLength: 0, maxLength: 3 });
  const arbitrary = fc.tuple(withOnes, fc.nat({ max: 11 }), pool(linearValues(options)), pool(ordinary()), dtypes)
    .filter(([s, k]) => plan(s, k) !== null)
    .map(([shape, k, xs, ws, dtype]): GradientCase => {
      const { op, attrs, out } = plan(shape, k)!;
      const b = new ProgramBuilder(`property.op.${name}`, dtype);
      const x = b.leaf(data(xs, shape), true, 'x');
      const moved = b.op(op, [x], attrs);
      const result = finish(b, moved, out, ws.length >= numel(out) ? ws : [...ws, ...ws, ...ws]);
      return { program: b.program(), out: result, inputs: ['x'], forward: moved, nonFinite: { kind: 'linear' } };
    });
  return gradientProperty(`gradient.op.${name}`, [`op.${name}` as ClauseId], `${name}: values move and gradients move back, checked by both oracles`, arbitrary);
}

/*
 * matmul draws ordinary values only: its gradients at non-finite leaves are sums of products like
 * inf·0, which the spec does not pin down (BLAS kernels may skip zero factors), so no table judges them.
 */
const MATMUL_RANKS: [number, number][] = [[1, 1], [2, 1], [1, 2], [2, 2], [3, 3], [3, 2], [2, 3], [1, 3], [3, 1]];

const matmul: AnyProperty = gradientProperty('gradient.op.matmul', ['op.matmul'],
  'matmul of vectors, matrices and broadcast batches matches both oracles',
  fc.tuple(fc.constantFrom(...MATMUL_RANKS), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }),
    fc.constantFrom(1, 2), fc.boolean(), pool(ordinary()), pool(ordinary()), pool(ordinary()), dtypes)
    .map(([[ra, rb], n, k, m, batch, broadcastLeft, as, bs, ws, dtype]): GradientCase => {
      const sa = ra === 1 ? [k] : ra === 2 ? [n, k] : [broadcastLeft ? 1 : batch, n, k];
      const sb = rb === 1 ? [k] : rb === 2 ? [k, m] : [batch, k, m];
      const batchOut = ra === 3 || rb === 3 ? [Math.max(ra === 3 ? sa[0]! : 1, rb === 3 ? sb[0]! : 1)] : [];
      const out = [...batchOut, ...(ra > 1 ? [n] : []), ...(rb > 1 ? [m] : [])];
      const b = new ProgramBuilder('property.op.matmul', dtype);
      const a = b.leaf(data(as, sa), true, 'a');
      const bb = b.leaf(data(bs, sb), true, 'b');
      const product = b.op('matmul', [a, bb]);
      const result = finish(b, product, out, ws);
      return { program: b.program(), out: result, inputs: ['a', 'b'], forward: product };
    }));

/*
 * Losses: input and target of one random shape, every reduction. Each target element is drawn
 * free, equal to its input (the kink of l1 at x = y) or at input ± beta (smooth L1's kinks), so
 * the kinks are hit exactly; inputs take the edge values of the elementwise ops. Non-finite leaves
 * stay out: the losses' nan and inf cases are pinned by fixtures/spec/op.<loss>.edges.json.
 * At beta = 0 the target is kept off the input: PyTorch's gradient there is -norm·g (0 <= -0),
 * which no derivative gives, so the edge fixture pins it instead (op.smoothL1Loss).
 */
type Relation = 'free' | 'equal' | 'above' | 'below';
const RELATIONS = fc.constantFrom<Relation>('free', 'free', 'equal', 'above', 'below');

/** Ids are lower-case slugs: the property and clause of `mseLoss` are `gradient.op.mse-loss` and `op.mse-loss`. */
export const LOSS_SLUGS = {
  mseLoss: 'mse-loss', l1Loss: 'l1-loss', smoothL1Loss: 'smooth-l1-loss', binaryCrossEntropy: 'binary-cross-entropy',
  binaryCrossEntropyWithLogits: 'binary-cross-entropy-with-logits', nllLoss: 'nll-loss', crossEntropy: 'cross-entropy',
} as const satisfies Record<(typeof LOSS_OPS)[number], string>;

/*
 * binary_cross_entropy's inputs are probabilities: a 1/64 grid inside (0, 1) and the near edges
 * 2^-20 and 1 - 2^-20 (exact in float32), where the logs are still unclamped and x·(1 - x) is far
 * above 1e-12. At x = 0 and 1 (and subnormal x) 1.13's gradient g·(x - y)/max(x·(1 - x), 1e-12)
 * is not the derivative of its clamped value, so no oracle judges it: the edge fixtures pin those
 * points (op.binary-cross-entropy). Targets: the grid of [0, 1], the input itself, and 1.5 and -0.5
 * (1.13 takes any target).
 */
const probabilities = () => fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 63 }).map((i) => i / 64), weight: 8 },
  { arbitrary: fc.constantFrom(2 ** -20, 1 - 2 ** -20), weight: 1 },
);
const targets = () => fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 64 }).map((i) => i / 64), weight: 8 },
  { arbitrary: fc.constantFrom(1.5, -0.5), weight: 1 },
);

/** Logits: the elementwise edges (up to ±1e3, the exp overflow bands) and ±100 and ±1e4, where a naive log(sigmoid) fails. */
const logits = () => fc.oneof({ arbitrary: withEdges('any'), weight: 9 }, { arbitrary: fc.constantFrom(100, -100, 1e4, -1e4), weight: 1 });

type ClassLoss = 'nllLoss' | 'crossEntropy';

export function lossProperty(op: Exclude<(typeof LOSS_OPS)[number], ClassLoss>): AnyProperty {
  const bce = op === 'binaryCrossEntropy' || op === 'binaryCrossEntropyWithLogits';
  const betas = op === 'smoothL1Loss' ? fc.constantFrom<number | undefined>(undefined, 1, 0.5, 2, 0) : fc.constant(undefined);
  const arbitrary = fc.tuple(shapes(), pool(op === 'binaryCrossEntropy' ? probabilities() : op === 'binaryCrossEntropyWithLogits' ? logits() : withEdges('any')), pool(bce ? targets() : ordinary()), pool(RELATIONS), pool(weight()),
    fc.constantFrom(...REDUCTIONS, undefined), betas, dtypes)
    .map(([shape, xs, free, relations, ws, reduction, beta, dtype]): GradientCase => {
      const kink = op === 'mseLoss' ? 0 : op === 'l1Loss' ? 0 : beta ?? 1;
      const ys = xs.map((x, i) => {
        const r = relations[i]!;
        const y = r === 'free' || (bce && r !== 'equal') ? free[i]! : r === 'equal' ? x : r === 'above' ? x + kink : x - kink;
        return op === 'smoothL1Loss' && beta === 0 && y === x ? x + 1 / 64 : y;
      });
      const b = new ProgramBuilder(`property.op.${LOSS_SLUGS[op]}`, dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      const y = b.leaf(data(ys, shape, dtype), true, 'y');
      const attrs: Attrs = { ...(reduction ? { reduction } : {}), ...(beta !== undefined ? { beta } : {}) };
      const result = b.op(op, [x, y], Object.keys(attrs).length ? attrs : undefined);
      const out = finish(b, result, (reduction ?? 'mean') === 'none' ? shape : [], ws);
      return { program: b.program(), out, inputs: ['x', 'y'], forward: result };
    });
  const id = LOSS_SLUGS[op];
  return gradientProperty(`gradient.op.${id}`, [`op.${id}`], `${op}: every reduction, input and target, at the kinks and edges, matches both oracles`, arbitrary, { edges: true });
}

/*
 * nll_loss: log-probability-like inputs [N, C] (or [C] with a 0-d target), int64 class targets,
 * each one in ten the ignored -100. Its gradient does not depend on the input's values, so the
 * input draws the elementwise edges too.
 */
const nllProperty: AnyProperty = gradientProperty('gradient.op.nll-loss', ['op.nll-loss'],
  'nllLoss: every reduction, class targets and ignored ones, on [N, C] and [C] inputs, matches both oracles',
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }), pool(withEdges('any')), pool(fc.nat({ max: 9 })), pool(weight()),
    fc.constantFrom(...REDUCTIONS, undefined), dtypes)
    .map(([n, c, xs, picks, ws, reduction, dtype]): GradientCase => {
      const shape = n === 0 ? [c] : [n, c];
      const targets = Array.from({ length: Math.max(n, 1) }, (_, i) => (picks[i] === 9 ? -100 : picks[i]! % c));
      const b = new ProgramBuilder('property.op.nll-loss', dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      b.push({ let: 't', tensor: n === 0 ? targets[0]! : targets, dtype: 'int64' });
      const result = b.op('nllLoss', [x, 't'], reduction ? { reduction } : undefined);
      const out = finish(b, result, (reduction ?? 'mean') === 'none' ? shape.slice(0, -1) : [], ws);
      return { program: b.program(), out, inputs: ['x'], forward: result };
    }));

/*
 * cross_entropy: logits [N, C] (or [C] with a 0-d target), int64 class targets, one in ten the
 * ignored -100. Logits past exp's float32 overflow (88 to 90, 100, ±1e4, 1e4 + 1), where only
 * log_softmax's max shift keeps the value finite, and rows of equal logits (gradient 1/C - onehot).
 */
const logitRows = fc.oneof(
  { arbitrary: ordinary(), weight: 6 },
  { arbitrary: fc.constantFrom(0, 88, 89, 90, 100, -100, 1e4, -1e4, 1e4 + 1), weight: 3 },
);
const crossEntropyProperty: AnyProperty = gradientProperty('gradient.op.cross-entropy', ['op.cross-entropy'],
  'crossEntropy: every reduction, class and ignored targets, large logits and equal rows, on [N, C] and [C] inputs, matches both oracles',
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), pool(logitRows), pool(fc.nat({ max: 9 })), pool(weight()),
    fc.constantFrom(...REDUCTIONS, undefined), dtypes)
    .map(([n, c, equal, xs, picks, ws, reduction, dtype]): GradientCase => {
      const shape = n === 0 ? [c] : [n, c];
      // Equal rows: every logit of a row takes the row's first draw.
      const values = Array.from({ length: Math.max(n, 1) * c }, (_, i) => xs[equal ? i - (i % c) : i]!);
      const targets = Array.from({ length: Math.max(n, 1) }, (_, i) => (picks[i] === 9 ? -100 : picks[i]! % c));
      const b = new ProgramBuilder('property.op.cross-entropy', dtype);
      const x = b.leaf(data(values, shape, dtype), true, 'x');
      b.push({ let: 't', tensor: n === 0 ? targets[0]! : targets, dtype: 'int64' });
      const result = b.op('crossEntropy', [x, 't'], reduction ? { reduction } : undefined);
      const out = finish(b, result, (reduction ?? 'mean') === 'none' ? shape.slice(0, -1) : [], ws);
      return { program: b.program(), out, inputs: ['x'], forward: result };
    }));

export const OP_PROPERTIES: AnyProperty[] = [
  ...UNARY_OPS.map((op) => unaryProperty(op)),
  ...(['add', 'sub', 'mul', 'div', 'pow'] as const).map((op) => binaryProperty(op)),
  reductionProperty('sum'),
  reductionProperty('mean'),
  ...Object.keys(SHAPE_OPS).map((name) => shapeProperty(name)),
  matmul,
  ...STATISTIC_PROPERTIES,
  selectAllProperty('max'),
  selectAllProperty('min'),
  selectDimsProperty('amax'),
  selectDimsProperty('amin'),
  selectPairProperty('maximum'),
  selectPairProperty('minimum'),
  clampProperty('clamp'),
  clampProperty('clampMin'),
  clampProperty('clampMax'),
  argSelectProperty('argmax'),
  argSelectProperty('argmin'),
  selectDimProperty('max'),
  selectDimProperty('min'),
  ...LOSS_OPS.filter((op) => op !== 'nllLoss' && op !== 'crossEntropy').map((op) => lossProperty(op as Exclude<(typeof LOSS_OPS)[number], ClassLoss>)),
  nllProperty,
  crossEntropyProperty,
  ...JOIN_PROPERTIES,
  ...VIEW_PROPERTIES,
];
