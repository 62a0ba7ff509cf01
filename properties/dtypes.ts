import fc from 'fast-check';
import { evaluateProgram } from '../oracles/evaluate.ts';
import type { Arg, DType, FloatDType, Scalar } from '../spec/program.ts';
import { asLeafValue } from './arbitraries/edges.ts';
import { ordinary } from './arbitraries/numbers.ts';
import { broadcastPair } from './arbitraries/shapes.ts';
import { nest, numel, ProgramBuilder } from './build.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';
import { errorOf, find } from './observed.ts';
import type { AnyProperty, Property } from './property.ts';

/*
 * Properties of int64 and bool tensors, comparisons and where: dtype promotion judged against a
 * table recorded on PyTorch 1.13, comparisons judged by the float64 interpreter (IEEE), and
 * where's gradients judged by both oracles (comparisons are point constants there).
 */

/** An operand: a tensor of a dtype with dims or 0-d, or a Python int (2) or float (2.5). */
const KINDS = [
  'int64:dims', 'bool:dims', 'float32:dims', 'float64:dims', 'int64:0d', 'bool:0d', 'float32:0d', 'float64:0d', 'int', 'float',
] as const;
type Kind = (typeof KINDS)[number];
type PromotionOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'where';

/**
 * The result dtype of `op(first, second)` for every pair of kinds (rows: first, columns: second,
 * in KINDS order): i int64, b bool, f float32, d float64, E0..E2 the errors below, - two numbers
 * (not a program). Recorded by running each pair on PyTorch 1.13 (`torch.tensor([3, -2])`,
 * `torch.tensor([True, False])`, `torch.tensor([1.5, 2.])` and their first elements as 0-d
 * tensors, 2 and 2.5; where with a bool condition of dims when an operand has dims); spec:
 * dtype.promotion, whose table is the first four rows of add.
 */
const TABLE: Record<PromotionOp, string[]> = {
  where: [
    'i i f d i i f d i f', 'i b f d i b f d i f', 'f f f d f f f f f f', 'd d d d d d d d d d', 'i i f d i i f d i f',
    'i b f d i b f d i f', 'f f f d f f f d f f', 'd d f d d d d d d d', 'i i f d i i f d - -', 'f f f d f f f d - -',
  ],
  add: [
    'i i f d i i f d i f', 'i b f d i b f d i f', 'f f f d f f f f f f', 'd d d d d d d d d d', 'i i f d i i f d i f',
    'i b f d i b f d i f', 'f f f d f f f d f f', 'd d f d d d d d d d', 'i i f d i i f d - -', 'f f f d f f f d - -',
  ],
  sub: [
    'i E0 f d i E0 f d i f', 'E0 E1 E0 E0 E0 E1 E0 E0 E0 E0', 'f E0 f d f E0 f f f f', 'd E0 d d d E0 d d d d',
    'i E0 f d i E0 f d i f', 'E0 E1 E0 E0 E0 E1 E0 E0 E0 E0', 'f E0 f d f E0 f d f f', 'd E0 f d d E0 d d d d',
    'i E0 f d i E0 f d - -', 'f E0 f d f E0 f d - -',
  ],
  mul: [
    'i i f d i i f d i f', 'i b f d i b f d i f', 'f f f d f f f f f f', 'd d d d d d d d d d', 'i i f d i i f d i f',
    'i b f d i b f d i f', 'f f f d f f f d f f', 'd d f d d d d d d d', 'i i f d i i f d - -', 'f f f d f f f d - -',
  ],
  div: [
    'f f f d f f f d f f', 'f f f d f f f d f f', 'f f f d f f f f f f', 'd d d d d d d d d d', 'f f f d f f f d f f',
    'f f f d f f f d f f', 'f f f d f f f d f f', 'd d f d d d d d d d', 'f f f d f f f d - -', 'f f f d f f f d - -',
  ],
  pow: [
    'i i f d i i f d i f', 'i E2 f d i E2 f d i f', 'f f f d f f f f f f', 'd d d d d d d d d d', 'i i f d i i f d i f',
    'i E2 f d i E2 f d i f', 'f f f d f f f d f f', 'd d f d d d d d d d', 'i i f d i i f d - -', 'f f f d f f f d - -',
  ],
};
const CODES: Record<string, DType> = { i: 'int64', b: 'bool', f: 'float32', d: 'float64' };
const ERRORS: Record<string, string> = {
  E0: 'Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.',
  E1: 'Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.',
  E2: '"pow" not implemented for \'Bool\'',
};

export const expectedPromotion = (op: PromotionOp, a: Kind, b: Kind): string =>
  TABLE[op][KINDS.indexOf(a)]!.split(' ')[KINDS.indexOf(b)]!;

const SAMPLE_DATA: Record<string, Scalar[]> = {
  int64: [3, -2], bool: [true, false], float32: [1.5, 2], float64: [1.5, 2],
};

/** A leaf step (or a number) for a kind; float tensors may require grad. */
function operand(b: ProgramBuilder, kind: Kind, name: string, requiresGrad: boolean): Arg {
  if (kind === 'int') return 2;
  if (kind === 'float') return 2.5;
  const [dtype, group] = kind.split(':') as [DType, string];
  const data = SAMPLE_DATA[dtype]!;
  const grad = requiresGrad && (dtype === 'float32' || dtype === 'float64');
  b.push({ let: name, tensor: group === 'dims' ? data : data[0]!, dtype, ...(grad ? { requiresGrad: true } : {}) });
  return name;
}

interface PromotionSample { op: PromotionOp; a: Kind; b: Kind; requiresGrad: boolean }

export const promotion: Property<PromotionSample> = {
  id: 'dtype.promotion',
  clauses: ['dtype.promotion', 'tensor.promotion', 'dtype.requires-grad'],
  title: 'add, sub, mul, div, pow and where over random pairs of dtypes, shapes and Python numbers give the dtype of the table recorded on PyTorch 1.13',
  arbitrary: fc.record({
    op: fc.constantFrom<PromotionOp>('add', 'sub', 'mul', 'div', 'pow', 'where'),
    a: fc.constantFrom(...KINDS),
    b: fc.constantFrom(...KINDS),
    requiresGrad: fc.boolean(),
  }, { noNullPrototype: true }).filter(({ a, b }) => expectedPromotion('add', a, b) !== '-'),
  programs: ({ op, a, b: kb, requiresGrad }) => {
    const b = new ProgramBuilder('property.dtype.promotion', 'float32');
    const x = operand(b, a, 'a', requiresGrad);
    const y = operand(b, kb, 'b', requiresGrad);
    if (op === 'where') {
      const dims = a.endsWith(':dims') || kb.endsWith(':dims');
      b.push({ let: 'c', tensor: dims ? [true, false] : true, dtype: 'bool' }, { let: 'r', op: 'where', args: ['c', x, y] });
    } else {
      b.push({ let: 'r', op, args: [x, y] });
    }
    b.push({ observe: 'r' });
    return [b.program()];
  },
  judge: ({ op, a, b }, [o], engine) => {
    const want = expectedPromotion(op, a, b);
    if (want.startsWith('E')) {
      const e = o!.error;
      if (!e || e.category !== 'invalid-argument') return `expected invalid-argument (${ERRORS[want]}), got ${errorOf(o!)}`;
      if (engine.capabilities.profile.startsWith('pytorch') && !e.message.startsWith(ERRORS[want]!)) {
        return `expected the message ${JSON.stringify(ERRORS[want])}, got ${JSON.stringify(e.message)}`;
      }
      return null;
    }
    if (o!.error) return `unexpected error: ${errorOf(o!)}`;
    const r = find(o!, 'r');
    if (!r || r.dtype === undefined) return 'the result was not observed with its dtype';
    if (r.dtype !== CODES[want]) return `${op}(${a}, ${b}) is ${r.dtype}, PyTorch 1.13 gives ${CODES[want]}`;
    if (r.requiresGrad === true && CODES[want] !== 'float32' && CODES[want] !== 'float64') return `an ${r.dtype} result requires grad`;
    return null;
  },
  fields: ['dtype'],
  keepDtypes: true,
};

// ----- comparisons -----

type Comparison = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';
/** Few distinct values, so that ties are common; signed zeros, nan and the infinities too. */
const TIES: number[] = [-1, 0, -0, 0.5, 1, NaN, NaN, Infinity, -Infinity];

interface CompareSample {
  op: Comparison;
  shapes: [number[], number[]];
  xs: number[];
  ys: number[];
  operands: 'tensors' | 'number-right' | 'number-left';
  dtype: FloatDType;
  requiresGrad: boolean;
  /** Which elements of y copy x's element of the same flat index: ties, nan against nan, -0 against 0. */
  same: boolean[];
}

const tieValues = fc.array(fc.constantFrom(...TIES), { minLength: 27, maxLength: 27 });
const leafData = (values: readonly number[], shape: readonly number[], dtype: FloatDType) =>
  nest(values.slice(0, numel(shape)).map((v) => asLeafValue(v, dtype)) as unknown as number[], shape);

export const compare: Property<CompareSample> = {
  id: 'values.op.compare',
  clauses: ['op.compare', 'dtype.requires-grad'],
  title: 'gt, ge, lt, le, eq, ne over broadcast shapes with ties, signed zeros, nan and infinities are IEEE comparisons, bool, and never require grad',
  arbitrary: fc.record({
    op: fc.constantFrom<Comparison>('gt', 'ge', 'lt', 'le', 'eq', 'ne'),
    shapes: broadcastPair(),
    xs: tieValues,
    ys: tieValues,
    operands: fc.constantFrom('tensors' as const, 'number-right' as const, 'number-left' as const),
    dtype: fc.constantFrom<FloatDType>('float32', 'float64'),
    requiresGrad: fc.boolean(),
    same: fc.array(fc.boolean(), { minLength: 27, maxLength: 27 }),
  }, { noNullPrototype: true }),
  programs: (s) => [compareProgram(s)],
  judge: (s, [o]) => {
    if (o!.error) return `unexpected error: ${errorOf(o!)}`;
    const r = find(o!, 'r');
    if (!r) return 'the result was not observed';
    const expected = evaluateProgram(compareProgram(s)).get('r')!;
    if (r.dtype !== undefined && r.dtype !== 'bool') return `the result is ${r.dtype}, not bool`;
    if (r.requiresGrad === true || (r.gradFn !== undefined && r.gradFn !== null)) return `a comparison requires grad (grad_fn ${r.gradFn})`;
    if (r.shape !== undefined && r.shape.join() !== expected.shape.join()) return `shape [${r.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
    const got = [r.value].flat(Infinity as 1);
    const want = Array.from(expected.values, (v) => v === 1);
    const i = want.findIndex((w, k) => got[k] !== w);
    return i < 0 && got.length === want.length ? null : `element ${i} is ${JSON.stringify(got[i])}, expected ${want[i]} (booleans, compared exactly)`;
  },
};

function compareProgram(s: CompareSample) {
  const b = new ProgramBuilder('property.values.op.compare', s.dtype);
  // A Python number operand: finite (nan, inf and -0 cannot be written as a number argument).
  const number = (v: number) => (Number.isFinite(v) ? v + 0 : 1);
  const ys = s.ys.map((v, i) => (s.same[i] ? s.xs[i]! : v));
  const x = b.leaf(leafData(s.xs, s.shapes[0], s.dtype), s.requiresGrad, 'x');
  const args: Arg[] = s.operands === 'tensors' ? [x, b.leaf(leafData(ys, s.shapes[1], s.dtype), false, 'y')]
    : s.operands === 'number-right' ? [x, number(ys[0]!)] : [number(ys[0]!), x];
  b.push({ let: 'r', op: s.op, args }, { observe: 'r' });
  return b.program();
}

// ----- where -----

/** Three shapes that broadcast together: a common shape, each dim kept or 1 per operand, leading dims dropped. */
const broadcastTriple = (): fc.Arbitrary<[number[], number[], number[]]> =>
  fc.tuple(
    fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.nat({ max: 7 })), { minLength: 0, maxLength: 3 }),
    fc.nat({ max: 2 }), fc.nat({ max: 2 }), fc.nat({ max: 2 }),
  ).map(([dims, d0, d1, d2]) => {
    const pick = (bit: number, drop: number) => dims.map(([d, mask]) => ((mask >> bit) & 1 ? 1 : d)).slice(Math.min(drop, dims.length));
    return [pick(0, d0), pick(1, d1), pick(2, d2)];
  });

type Branch = 'none' | 'square' | 'neg';

export const whereGradient: AnyProperty = gradientProperty(
  'gradient.op.where',
  ['op.where', 'op.compare', 'backward.broadcast-reduce'],
  'where(p op q, f(a), g(b)) with a condition from tied constants: forward and gradients match both oracles on broadcast shapes, numbers on either side',
  fc.tuple(
    broadcastTriple(),
    fc.constantFrom<Comparison>('gt', 'ge', 'lt', 'le', 'eq', 'ne'),
    fc.array(fc.constantFrom(-1, 0, 1), { minLength: 27, maxLength: 27 }),
    fc.array(fc.constantFrom(-1, 0, 1), { minLength: 27, maxLength: 27 }),
    fc.array(ordinary(), { minLength: 27, maxLength: 27 }),
    fc.array(ordinary(), { minLength: 27, maxLength: 27 }),
    fc.array(fc.integer({ min: -192, max: 191 }).map((i) => (i >= 0 ? i + 1 : i) / 64), { minLength: 27, maxLength: 27 }),
    fc.constantFrom<Branch>('none', 'square', 'neg'),
    fc.constantFrom('tensors' as const, 'number-a' as const, 'number-b' as const),
    fc.constantFrom<FloatDType>('float64', 'float32'),
  ).map(([[sc, sa, sb], op, ps, qs, as, bs, ws, branch, operands, dtype]): GradientCase => {
    const b = new ProgramBuilder('property.op.where', dtype);
    const p = b.leaf(leafData(ps, sc, dtype), false, 'p');
    const q = b.leaf(leafData(qs, sc, dtype), false, 'q');
    const c = b.op(op, [p, q]);
    const inputs: string[] = [];
    const side = (name: string, values: number[], shape: number[], number: boolean): Arg => {
      if (number) return values[0]!;
      inputs.push(name);
      const leaf = b.leaf(leafData(values, shape, dtype), true, name);
      return branch === 'none' ? leaf : b.op(branch, [leaf]);
    };
    const x = side('a', as, sa, operands === 'number-a');
    const y = side('b', bs, sb, operands === 'number-b');
    const result = b.op('where', [c, x, y]);
    const shape = [sc, sa, sb].reduce((s, t) => broadcastShape(s, t));
    const w = b.leaf(leafData(ws, shape, dtype), false, 'w');
    const out = b.op('sum', [b.op('mul', [result, w])]);
    return { program: b.program(), out, inputs, forward: result };
  }),
);

function broadcastShape(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => Math.max(a[a.length - n + i] ?? 1, b[b.length - n + i] ?? 1));
}

export const DTYPE_PROPERTIES: AnyProperty[] = [promotion, compare, whereGradient];
