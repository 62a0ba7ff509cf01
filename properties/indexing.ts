import fc from 'fast-check';
import type { Arg, Attrs } from '../spec/program.ts';
import type { ClauseId } from '../spec/clauses.ts';
import { withEdges, withNonFinite } from './arbitraries/edges.ts';
import { ordinary } from './arbitraries/numbers.ts';
import { shapes } from './arbitraries/shapes.ts';
import { nest, numel, ProgramBuilder } from './build.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';
import { data, dtypes, finish, weight } from './ops.ts';
import type { AnyProperty } from './property.ts';

/*
 * The gather family: random shapes of rank 0 to 3, a dim (negative one time in two), and int64
 * indices drawn from a few small numbers, so that index 0, repeated indices (whose gradients add
 * up) and size-1 dims are common. The gradients do not depend on the values, so the values take
 * the edges and nan and ±inf ('linear' samples); the ops that add (scatterAdd, indexAdd) take
 * ordinary values: the order of float32 additions of huge and tiny terms is the kernel's own.
 * scatter with a tensor src writes each place at most once (op.scatter: repeated writes are not specified).
 */

/** Enough values for any tensor here: an index of 4 along one dim of a [3, 3, 3] tensor, or a src one larger per dim. */
const pool = <T>(value: fc.Arbitrary<T>) => fc.array(value, { minLength: 64, maxLength: 64 });
const picked = fc.constantFrom(0, 0, 1, 1, 2, 3); // index 0 and repeats on purpose
const indexPool = pool(picked);
const keys = pool(fc.nat({ max: 99 }));
const selecting = withNonFinite(withEdges('any'));
const adding = withNonFinite(ordinary());

interface Drawn { shape: number[]; dim: number; attrDim: number }

/** A shape and a dim of it, written negative when `negative` (a 0-d tensor takes 0 or -1). */
const shapeAndDim = fc.tuple(shapes(3), fc.nat({ max: 2 }), fc.boolean()).map(([shape, k, negative]): Drawn => {
  const rank = Math.max(shape.length, 1);
  const dim = k % rank;
  return { shape, dim, attrDim: negative ? dim - rank : dim };
});

const intLeaf = (b: ProgramBuilder, name: string, values: readonly number[], shape: readonly number[]) =>
  b.push({ let: name, tensor: nest([...values], shape), dtype: 'int64' });

const sizeOf = (shape: readonly number[], d: number) => (shape.length === 0 ? 1 : shape[d]!);

function indexProperty(slug: string, clauses: readonly [ClauseId, ...ClauseId[]], title: string,
  arbitrary: fc.Arbitrary<GradientCase>): AnyProperty {
  return gradientProperty(`gradient.op.${slug}`, clauses, title, arbitrary);
}

/** index_select: a 1-d index of 1 to 4 elements or a 0-d one; a 0-d x takes index 0 once. */
const indexSelect = indexProperty('index-select', ['op.index-select', 'op.index-select.duplicates', 'op.dims'],
  'indexSelect along any dim with repeated indices (their gradients add up) and 0-d indices matches both oracles',
  fc.tuple(shapeAndDim, fc.integer({ min: 1, max: 4 }), fc.boolean(), indexPool, pool(selecting), pool(weight()), dtypes)
    .map(([{ shape, dim, attrDim }, count, scalar, picks, xs, ws, dtype]): GradientCase => {
      const n = sizeOf(shape, dim);
      const zeroD = shape.length === 0;
      const length = zeroD || scalar ? 1 : count;
      const idx = picks.slice(0, length).map((p) => p % n);
      const b = new ProgramBuilder('property.op.index-select', dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      intLeaf(b, 'i', idx, zeroD || scalar ? [] : [length]);
      const result = b.op('indexSelect', [x, 'i'], { dim: attrDim });
      const out = finish(b, result, zeroD ? [] : shape.map((s, d) => (d === dim ? length : s)), ws);
      return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'linear' } };
    }));

/** An index shape for gather and scatter: each dim but dim at most x's size, dim's own size drawn. */
function indexShape(shape: readonly number[], dim: number, sizes: readonly number[], along: number): number[] {
  if (shape.length === 0) return sizes[0]! % 2 === 0 ? [] : [1];
  return shape.map((s, d) => (d === dim ? along : 1 + (sizes[d]! % s)));
}

const gather = indexProperty('gather', ['op.gather', 'op.gather.duplicates', 'op.dims'],
  'gather along any dim with an index smaller than x and repeated indices (their gradients add up) matches both oracles',
  fc.tuple(shapeAndDim, pool(fc.nat({ max: 3 })), fc.integer({ min: 1, max: 3 }), indexPool, pool(selecting), pool(weight()), dtypes)
    .map(([{ shape, dim, attrDim }, sizes, along, picks, xs, ws, dtype]): GradientCase => {
      const n = sizeOf(shape, dim);
      const ishape = indexShape(shape, dim, sizes, along);
      const idx = picks.slice(0, numel(ishape)).map((p) => p % n);
      const b = new ProgramBuilder('property.op.gather', dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      intLeaf(b, 'i', idx, ishape);
      const result = b.op('gather', [x, 'i'], { dim: attrDim });
      const out = finish(b, result, ishape, ws);
      return { program: b.program(), out, inputs: ['x'], forward: result, nonFinite: { kind: 'linear' } };
    }));

/**
 * Distinct places along dim in every line of the index: each line takes the first entries of a
 * permutation of 0..n-1 (sorted by drawn keys), so no place is written twice (op.scatter: repeated writes are not specified).
 */
export function distinctAlong(ishape: readonly number[], dim: number, n: number, keys: readonly number[]): number[] {
  const shape = ishape.length === 0 ? [1] : ishape;
  const [m, inner, outer] = [shape[dim]!, numel(shape.slice(dim + 1)), numel(shape.slice(0, dim))];
  const idx = new Array<number>(numel(shape)).fill(0);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const line = o * inner + j;
      const order = Array.from({ length: n }, (_, v) => v).sort((p, q) => (keys[(line * 3 + p) % keys.length]! - keys[(line * 3 + q) % keys.length]!) || p - q);
      for (let k = 0; k < m; k++) idx[(o * m + k) * inner + j] = order[k]!;
    }
  }
  return idx;
}

type ScatterSrc = 'tensor' | 'number' | 'larger';

/**
 * scatter with a tensor src (distinct places), with a number (repeated places allowed), or with a
 * src larger than the index that does not require grad (its gradient could not be fitted to it).
 */
const scatter = indexProperty('scatter', ['op.scatter', 'op.dims'],
  'scatter of a tensor src to distinct places, or of a number to repeated ones, along any dim matches both oracles',
  fc.tuple(shapeAndDim, pool(fc.nat({ max: 3 })), fc.integer({ min: 1, max: 3 }), fc.constantFrom<ScatterSrc>('tensor', 'number', 'larger'),
    keys, indexPool, pool(selecting), pool(selecting), pool(weight()), dtypes)
    .map(([{ shape, dim, attrDim }, sizes, along, how, ks, picks, xs, ss, ws, dtype]): GradientCase => {
      const n = sizeOf(shape, dim);
      const ishape = indexShape(shape, dim, sizes, how === 'number' ? along : Math.min(along, n));
      const idx = how === 'number' ? picks.slice(0, numel(ishape)).map((p) => p % n) : distinctAlong(ishape, dim, n, ks);
      const b = new ProgramBuilder('property.op.scatter', dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      intLeaf(b, 'i', idx, ishape);
      const srcShape = how === 'larger' && ishape.length > 0 ? ishape.map((s) => s + 1) : ishape;
      const src: Arg = how === 'number' ? ordinaryNumber(ss[0]!) : b.leaf(data(ss, srcShape, dtype), how === 'tensor', 's');
      const result = b.op('scatter', [x, 'i', src], { dim: attrDim });
      const out = finish(b, result, shape, ws);
      return { program: b.program(), out, inputs: how === 'tensor' ? ['x', 's'] : ['x'], forward: result, nonFinite: { kind: 'linear' } };
    }));

/** A Python number argument: finite, on the grid (a drawn edge or non-finite value becomes 0.5). */
const ordinaryNumber = (v: number): number => (Number.isFinite(v) && Math.abs(v) <= 3 && !Object.is(v, -0) ? v : 0.5);

const scatterAdd = indexProperty('scatter-add', ['op.scatter-add', 'op.dims'],
  'scatterAdd along any dim with repeated places (the terms add up) matches both oracles',
  fc.tuple(shapeAndDim, pool(fc.nat({ max: 3 })), fc.integer({ min: 1, max: 3 }), fc.boolean(), indexPool, pool(adding), pool(adding), pool(weight()), dtypes)
    .map(([{ shape, dim, attrDim }, sizes, along, larger, picks, xs, ss, ws, dtype]): GradientCase => {
      const n = sizeOf(shape, dim);
      const ishape = indexShape(shape, dim, sizes, along);
      const idx = picks.slice(0, numel(ishape)).map((p) => p % n);
      const b = new ProgramBuilder('property.op.scatter-add', dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      intLeaf(b, 'i', idx, ishape);
      // A src larger than the index does not require grad: its gradient could not be fitted to it.
      const bigger = larger && ishape.length > 0;
      const s = b.leaf(data(ss, bigger ? ishape.map((k) => k + 1) : ishape, dtype), !bigger, 's');
      const result = b.op('scatterAdd', [x, 'i', s], { dim: attrDim });
      const out = finish(b, result, shape, ws);
      return { program: b.program(), out, inputs: bigger ? ['x'] : ['x', 's'], forward: result, nonFinite: { kind: 'linear' } };
    }));

const ALPHAS = [undefined, 1, 2, -0.5, 0.25] as const;

/** index_add: a 1-d index (0-d one time in four), source of x's shape with dim's size the index's count. */
const indexAdd = indexProperty('index-add', ['op.index-add', 'op.dims'],
  'indexAdd along any dim with repeated indices and alpha matches both oracles',
  fc.tuple(shapeAndDim, fc.integer({ min: 1, max: 4 }), fc.nat({ max: 3 }), fc.constantFrom(...ALPHAS), indexPool, pool(adding), pool(adding), pool(weight()), dtypes)
    .map(([{ shape, dim, attrDim }, count, form, alpha, picks, xs, ss, ws, dtype]): GradientCase => {
      const n = sizeOf(shape, dim);
      const zeroD = shape.length === 0;
      const scalar = zeroD || form === 0;
      const length = scalar ? 1 : count;
      const idx = picks.slice(0, length).map((p) => p % n);
      const b = new ProgramBuilder('property.op.index-add', dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      intLeaf(b, 'i', idx, scalar ? [] : [length]);
      // A 0-d x takes a 0-d source or a [1] one; a 1-d x a 0-d source one time in four with one index.
      const sourceShape = zeroD ? (form % 2 ? [1] : []) : shape.length === 1 && form === 1 && length === 1 ? [] : shape.map((s, d) => (d === dim ? length : s));
      const s = b.leaf(data(ss, sourceShape, dtype), true, 's');
      const attrs: Attrs = { dim: attrDim, ...(alpha !== undefined ? { alpha } : {}) };
      const result = b.op('indexAdd', [x, 'i', s], attrs);
      const out = finish(b, result, shape, ws);
      return { program: b.program(), out, inputs: ['x', 's'], forward: result, nonFinite: { kind: 'linear' } };
    }));

/**
 * masked_fill with a mask made by a comparison (m > 0, m a constant leaf: engines without bool
 * leaves run it too) that broadcasts with x, and a number or a 0-d tensor value that requires grad.
 */
const maskedFill = indexProperty('masked-fill', ['op.masked-fill', 'op.broadcast', 'backward.broadcast-reduce'],
  'maskedFill with a broadcast bool mask and a number or 0-d tensor value matches both oracles',
  fc.tuple(shapes(3), pool(fc.boolean()), fc.nat({ max: 7 }), fc.nat({ max: 3 }), fc.boolean(), pool(selecting), ordinary(), pool(weight()), dtypes)
    .map(([shape, bits, ones, drop, tensorValue, xs, value, ws, dtype]): GradientCase => {
      // The mask's shape: x's, with some dims 1 and some leading dims dropped; or one leading dim more.
      const mshape = drop === 3 && numel(shape) <= 13 ? [2, ...shape] : shape.map((s, d) => ((ones >> d) & 1 ? 1 : s)).slice(Math.min(drop, shape.length));
      const outShape = mshape.length > shape.length ? mshape.slice(0, 1).concat(shape) : shape;
      const b = new ProgramBuilder('property.op.masked-fill', dtype);
      const x = b.leaf(data(xs, shape, dtype), true, 'x');
      const m = b.leaf(nest(bits.slice(0, numel(mshape)).map((t) => (t ? 1 : -1)), mshape), false, 'm');
      const mask = b.op('gt', [m, 0]);
      const v: Arg = tensorValue ? b.leaf(value, true, 'v') : value;
      const result = b.op('maskedFill', [x, mask, v]);
      const out = finish(b, result, outShape, ws);
      return { program: b.program(), out, inputs: tensorValue ? ['x', 'v'] : ['x'], forward: result, nonFinite: { kind: 'linear' } };
    }));

export const INDEX_PROPERTIES: AnyProperty[] = [indexSelect, gather, scatter, scatterAdd, indexAdd, maskedFill];
