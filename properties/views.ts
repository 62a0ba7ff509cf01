import fc from 'fast-check';
import type { ClauseId } from '../spec/clauses.ts';
import type { Attrs, FloatDType, IndexItem, OpName, Step } from '../spec/program.ts';
import { nest, numel, ProgramBuilder } from './build.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';
import type { AnyProperty } from './property.ts';
import { dimOf, dtypes, shapeOf, tensorOf, values, weights } from './joining.ts';

/*
 * The view ops and indexing, one gradient property each: values move and gradients move back
 * (summed where an index repeats). The generators reach dims of size 0 and 1, negative dims and
 * indices, steps past 1, empty slices and diagonals, masks with no true element, and repeated
 * advanced indices. Leaves may be nan or ±inf: the gradients do not depend on the values.
 * What a view shares with its input (writes through it) is the business of model.views and of
 * gradient.views.inplace; errors are pinned by engine tests and fixtures.
 */

const MAX = 36; // elements at most of the input and of every output (weights come from one pool of 48)

/** An op step with its outputs' shapes; extra steps (int64 and bool leaves) come before it. */
interface Draw { shape: number[]; op: OpName; attrs: Attrs; outs: number[][]; leaves?: Step[] }

/** x of the shape, the op, and out = the sum over the outputs of sum(output * w). */
function viewCase(d: Draw, xs: number[], ws: number[], dtype: FloatDType): GradientCase {
  const b = new ProgramBuilder(`property.op.${d.op}`, dtype);
  const [leaf, x] = tensorOf(b, xs, d.shape, dtype, true, 'x');
  b.push(...(d.leaves ?? []));
  const names = d.outs.map((_, k) => `p${k}`);
  b.push({ let: d.outs.length === 1 && !['unbind', 'split', 'chunk'].includes(d.op) ? names[0]! : names, op: d.op, args: [x], attrs: d.attrs });
  const terms = d.outs.map((shape, k) => {
    const [, w] = tensorOf(b, ws.slice(k), shape, dtype, false, `w${k}`);
    return b.op('sum', [b.op('mul', [names[k]!, w])]);
  });
  const out = terms.slice(1).reduce((s, t) => b.op('add', [s, t]), terms[0] ?? b.op('sum', [x]));
  return { program: b.program(), out, inputs: [leaf], forward: names[0]!, nonFinite: { kind: 'linear' } };
}

const selectDraws = fc.tuple(shapeOf(3, 1), fc.nat(), fc.boolean(), fc.nat(), fc.boolean())
  .filter(([s, k]) => s[k % s.length]! > 0)
  .map(([shape, k, negDim, i, negIndex]): Draw => {
    const d = k % shape.length;
    const index = (i % shape[d]!) - (negIndex ? shape[d]! : 0);
    return { shape, op: 'select', attrs: { dim: dimOf(k, shape.length, negDim), index }, outs: [shape.filter((_, j) => j !== d)] };
  });

const narrowDraws = fc.tuple(shapeOf(3, 1), fc.nat(), fc.boolean(), fc.nat(), fc.nat(), fc.boolean())
  .filter(([s, k]) => s[k % s.length]! > 0)
  .map(([shape, k, negDim, a, l, negStart]): Draw => {
    const d = k % shape.length;
    const start = a % shape[d]!;
    const length = l % (shape[d]! - start + 1);
    return { shape, op: 'narrow', attrs: { dim: dimOf(k, shape.length, negDim), start: negStart ? start - shape[d]! : start, length }, outs: [shape.map((s, j) => (j === d ? length : s))] };
  });

const diagonalDraws = fc.tuple(shapeOf(3, 2), fc.integer({ min: -3, max: 3 }), fc.nat(), fc.nat(), fc.boolean())
  .filter(([s, , a, b]) => a % s.length !== b % s.length)
  .map(([shape, offset, a, b, negative]): Draw => {
    const [d1, d2] = [a % shape.length, b % shape.length];
    const n = Math.max(0, offset >= 0 ? Math.min(shape[d1]!, shape[d2]! - offset) : Math.min(shape[d1]! + offset, shape[d2]!));
    return { shape, op: 'diagonal', attrs: { offset, dim1: negative ? d1 - shape.length : d1, dim2: d2 }, outs: [[...shape.filter((_, j) => j !== d1 && j !== d2), n]] };
  });

// A dim of size 0 unbinds to no tensors, which a step's list of names cannot bind: left out.
const unbindDraws = fc.tuple(shapeOf(3, 1), fc.nat(), fc.boolean())
  .filter(([s, k]) => s[k % s.length]! > 0)
  .map(([shape, k, negative]): Draw => {
    const d = k % shape.length;
    return { shape, op: 'unbind', attrs: { dim: dimOf(k, shape.length, negative) }, outs: Array.from({ length: shape[d]! }, () => shape.filter((_, j) => j !== d)) };
  });

/** split by a size (0 only for an empty dim) or by sections; chunk into n pieces (fewer when n does not fit). */
const splitDraws = (op: 'split' | 'chunk') => fc.tuple(shapeOf(3, 1), fc.nat(), fc.boolean(), fc.integer({ min: 1, max: 4 }), fc.boolean(), fc.nat())
  .map(([shape, k, negative, n, sections, cut]): Draw => {
    const d = k % shape.length;
    const size = shape[d]!;
    const attrs: Attrs = { dim: dimOf(k, shape.length, negative) };
    let sizes: number[];
    if (op === 'chunk') {
      attrs.chunks = n;
      const step = Math.ceil(size / n);
      sizes = step === 0 ? new Array<number>(n).fill(0) : Array.from({ length: Math.ceil(size / step) }, (_, i) => Math.min(step, size - i * step));
    } else if (sections) {
      const first = cut % (size + 1);
      sizes = [first, size - first];
      attrs.splitSize = sizes;
    } else {
      const step = size === 0 ? 0 : n;
      attrs.splitSize = step;
      sizes = step === 0 ? [0] : Array.from({ length: Math.ceil(size / step) }, (_, i) => Math.min(step, size - i * step));
    }
    return { shape, op, attrs, outs: sizes.map((s) => shape.map((x, j) => (j === d ? s : x))) };
  });

/** contiguous of a transposed (or already contiguous) input: the values in their new order. */
const contiguousCase = (shape: number[], transposed: boolean, xs: number[], ws: number[], dtype: FloatDType): GradientCase => {
  const b = new ProgramBuilder('property.op.contiguous', dtype);
  const [leaf, x] = tensorOf(b, xs, shape, dtype, true, 'x');
  const moved = transposed ? b.op('transpose', [x], { dim0: 0, dim1: -1 }) : x;
  const out = [...shape];
  if (transposed) [out[0], out[out.length - 1]] = [shape[shape.length - 1]!, shape[0]!];
  const c = b.op('contiguous', [moved]);
  const [, w] = tensorOf(b, ws, out, dtype, false, 'w');
  const total = b.op('sum', [b.op('mul', [c, w])]);
  return { program: b.program(), out: total, inputs: [leaf], forward: c, nonFinite: { kind: 'linear' } };
};

/** One basic item for a dim of `size`: a number (negative too), a slice (steps 1 to 3, bounds past the ends), or a whole-dim slice. */
const basicItem = fc.tuple(fc.nat(4), fc.integer({ min: -4, max: 4 }), fc.integer({ min: -4, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.boolean());

/**
 * Basic items, left to right: numbers, slices and a None; '...' first (the items then index the
 * last dims), last, or not at all (index.basic).
 */
const basicDraws = fc.tuple(shapeOf(3, 1), fc.array(basicItem, { minLength: 3, maxLength: 3 }), fc.nat(3), fc.nat(4), fc.nat(2))
  .map(([shape, picks, count, noneAt, mode]): Draw => {
    const take = Math.min(count, shape.length);
    const front = mode === 1;
    const first = front ? shape.length - take : 0;
    const items: IndexItem[] = [];
    const mid: number[] = [];
    for (let k = 0; k < take; k++) {
      const [kind, a, stop, step, open] = picks[k]!;
      const s = shape[first + k]!;
      if (kind === 0 && s > 0) {
        items.push((((a % s) + s) % s) - (a < 0 ? s : 0));
        continue;
      }
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + s : v, 0), s);
      items.push(open ? { start: a } : { start: a, stop, step });
      const from = clamp(a);
      mid.push(Math.max(0, Math.ceil(((open ? s : clamp(stop)) - from) / (open ? 1 : step))));
    }
    if (noneAt <= items.length) {
      const slicesBefore = items.slice(0, noneAt).filter((i) => typeof i !== 'number').length;
      items.splice(noneAt, 0, null);
      mid.splice(slicesBefore, 0, 1);
    }
    const out = front ? [...shape.slice(0, first), ...mid] : [...mid, ...shape.slice(take)];
    if (front) items.unshift('...');
    if (mode === 2) items.push('...');
    return { shape, op: 'index', attrs: { items }, outs: [out] };
  });

/**
 * Advanced items: an integer list (repeats and negatives), an int64 leaf of 1 or 2 dims, or a
 * bool mask leaf over the leading dims, after an optional leading slice (index.advanced).
 */
const advancedDraws = fc.tuple(shapeOf(3, 1), fc.nat(2), fc.array(fc.integer({ min: -3, max: 2 }), { minLength: 1, maxLength: 4 }), fc.boolean(), fc.array(fc.boolean(), { minLength: 9, maxLength: 9 }))
  .filter(([shape, , , lead]) => shape[lead ? 1 : 0] !== undefined && shape[lead ? 1 : 0]! > 0)
  .map(([shape, kind, picks, lead, bits]): Draw => {
    const d = lead ? 1 : 0;
    const s = shape[d]!;
    const idx = picks.map((p) => (((p % s) + s) % s) - (p < 0 ? s : 0));
    const items: IndexItem[] = lead ? [{}] : [];
    const leaves: Step[] = [];
    let indexShape: number[];
    let consumed = 1;
    if (kind === 0) {
      items.push(idx);
      indexShape = [idx.length];
    } else if (kind === 1) {
      const two = idx.length >= 2 && idx.length % 2 === 0;
      leaves.push({ let: 'i', tensor: two ? [idx.slice(0, idx.length / 2), idx.slice(idx.length / 2)] : idx, dtype: 'int64' });
      items.push({ ref: 'i' });
      indexShape = two ? [2, idx.length / 2] : [idx.length];
    } else {
      const maskShape = shape.slice(d, Math.min(shape.length, d + 2));
      const mask = bits.slice(0, numel(maskShape));
      leaves.push({ let: 'm', tensor: nest(mask as unknown as number[], maskShape), dtype: 'bool' });
      items.push({ ref: 'm' });
      indexShape = [mask.filter(Boolean).length];
      consumed = maskShape.length;
    }
    const out = [...(lead ? [shape[0]!] : []), ...indexShape, ...shape.slice(d + consumed)];
    return { shape, op: 'index', attrs: { items }, outs: [out], leaves };
  });

const TITLES: Record<string, [ClauseId, string]> = {
  select: ['op.select', 'select at any dim and index (negative too): the gradient is g at the index, 0 elsewhere, by both oracles'],
  narrow: ['op.narrow', 'narrow at any dim, start (negative too) and length (0 too): the gradient is g inside, 0 outside, by both oracles'],
  diagonal: ['op.diagonal', 'diagonal with offsets inside and past the matrix and any two dims: the gradient is g on the diagonal, by both oracles'],
  unbind: ['op.unbind', 'unbind at any dim (size 0 and 1 too): each output gives its slice of the gradient, by both oracles'],
  split: ['op.split', 'split by a size or by sections (empty pieces too): each piece gives its part of the gradient, by both oracles'],
  chunk: ['op.split', 'chunk into 1 to 4 pieces (fewer when they do not fit): each piece gives its part of the gradient, by both oracles'],
  'index-basic': ['index.basic', 'x[...] with numbers, slices (steps, bounds past the ends, empty), None and ...: the gradient goes back to the picked elements, by both oracles'],
  'index-advanced': ['index.advanced', 'x[idx] with integer lists, int64 tensors of 1 and 2 dims and bool masks, after a slice: repeated indices add their gradients, by both oracles'],
};

function viewProperty(name: keyof typeof TITLES, draws: fc.Arbitrary<Draw>): AnyProperty {
  const small = draws.filter((d) => numel(d.shape) <= MAX && d.outs.every((o) => numel(o) <= MAX) && d.outs.length <= 4);
  const [clause, title] = TITLES[name]!;
  const arbitrary = fc.tuple(small, values(), weights(), dtypes).map(([d, xs, ws, dtype]) => viewCase(d, xs, ws, dtype));
  return gradientProperty(`gradient.op.${name}`, [clause], title, arbitrary);
}

const contiguous: AnyProperty = gradientProperty('gradient.op.contiguous', ['views.layout'],
  'contiguous of a transposed tensor copies it in row-major order, of a contiguous one is itself: gradients by both oracles',
  fc.tuple(shapeOf(3, 1), fc.boolean(), values(), weights(), dtypes).map(([s, t, xs, ws, dtype]) => contiguousCase(s, t, xs, ws, dtype)));

export const VIEW_PROPERTIES: AnyProperty[] = [
  viewProperty('select', selectDraws),
  viewProperty('narrow', narrowDraws),
  viewProperty('diagonal', diagonalDraws),
  viewProperty('unbind', unbindDraws),
  viewProperty('split', splitDraws('split')),
  viewProperty('chunk', splitDraws('chunk')),
  contiguous,
  viewProperty('index-basic', basicDraws),
  viewProperty('index-advanced', advancedDraws),
];
