import fc from 'fast-check';
import type { ClauseId } from '../spec/clauses.ts';
import type { Attrs, FloatDType } from '../spec/program.ts';
import { asLeafValue, withNonFinite } from './arbitraries/edges.ts';
import { ordinary } from './arbitraries/numbers.ts';
import { nest, numel, ProgramBuilder } from './build.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';
import type { AnyProperty } from './property.ts';

/*
 * cat, stack, flip, roll and repeat: every output element is one input element, so values move
 * and gradients move back (summed where repeat copies an element). The generators reach dims of
 * size 0 and 1, negative dims, one to four inputs, cat's skipped 1-d empty inputs, roll's shifts
 * past the size (and negative), and repeat's extra leading sizes and sizes of 0. Leaves may be
 * nan or ±inf: the gradients do not depend on the values. Errors are pinned by fixtures.
 */

export const MAX_OUT = 48; // output elements at most (so weights are one pool)
export const dtypes = fc.constantFrom<FloatDType>('float64', 'float32');
export const values = () => fc.array(withNonFinite(ordinary()), { minLength: MAX_OUT, maxLength: MAX_OUT });
export const weights = () => fc.array(fc.integer({ min: -192, max: 191 }).map((i) => (i >= 0 ? i + 1 : i) / 64), { minLength: MAX_OUT, maxLength: MAX_OUT });
/** Sizes 0 to 3, 0 less often (its gradients are empty). */
export const size: fc.Arbitrary<number> = fc.constantFrom(2, 1, 3, 0, 2, 3, 1);
/** A shape of minRank to maxRank dims, the rank drawn evenly (not as an array's length, which favours short ones). */
export const shapeOf = (maxRank: number, minRank = 0) =>
  fc.tuple(fc.integer({ min: minRank, max: maxRank }), fc.array(size, { minLength: maxRank, maxLength: maxRank })).map(([rank, sizes]) => sizes.slice(0, rank));

interface Draw { shapes: number[][]; attrs: Attrs; out: number[] }

/**
 * A tensor of the shape: a leaf, or where nested lists cannot carry the shape (a 0 before the
 * last dim: [0, 3] would read as [0]) an empty leaf reshaped to it. Returns the leaf and the tensor.
 */
export function tensorOf(b: ProgramBuilder, xs: number[], shape: number[], dtype: FloatDType, requiresGrad: boolean, name: string): [string, string] {
  if (!shape.slice(0, -1).includes(0)) {
    // nan, ±inf and -0 spelled as the format wants them ("inf"), float32 values rounded.
    const leaf = b.leaf(nest(xs.slice(0, numel(shape)).map((v) => asLeafValue(v, dtype)) as unknown as number[], shape), requiresGrad, name);
    return [leaf, leaf];
  }
  const leaf = b.leaf([], requiresGrad, name);
  return [leaf, b.op('reshape', [leaf], { shape })];
}

/** One case: leaves of the shapes (named a, b, c, d), the op, and out = sum(result * w). */
function joinCase(op: 'cat' | 'stack' | 'flip' | 'roll' | 'repeat', d: Draw, xs: number[], ws: number[], dtype: FloatDType): GradientCase {
  const b = new ProgramBuilder(`property.op.${op}`, dtype);
  let at = 0;
  const made = d.shapes.map((s, k) => {
    const t = tensorOf(b, xs.slice(at), s, dtype, true, 'abcd'[k]!);
    at += numel(s);
    return t;
  });
  const result = b.op(op, made.map(([, t]) => t), d.attrs);
  const [, w] = tensorOf(b, ws, d.out, dtype, false, 'w');
  const out = b.op('sum', [b.op('mul', [result, w])]);
  return { program: b.program(), out, inputs: made.map(([leaf]) => leaf), forward: result, nonFinite: { kind: 'linear' } };
}

/** A dim of a tensor of `rank` dims, negative one time in two. */
export const dimOf = (k: number, rank: number, negative: boolean) => (k % rank) - (negative ? rank : 0);

/** cat: 1 to 4 inputs agreeing except along dim; a 1-d empty input now and then (PyTorch skips it). */
const catDraws = fc.tuple(shapeOf(3, 1), fc.array(size, { minLength: 1, maxLength: 4 }), fc.nat(), fc.boolean(), fc.nat({ max: 4 }))
  .map(([base, along, k, negative, empty]): Draw => {
    const dim = dimOf(k, base.length, negative);
    const d = (dim + base.length) % base.length;
    const shapes = along.map((n) => base.map((s, i) => (i === d ? n : s)));
    // A skipped 1-d empty input, whatever the others' rank (one of two or more, so one is not skipped).
    if (base.length > 1 && shapes.length > 1 && empty < shapes.length) shapes[empty] = [0];
    const out = [...base];
    out[d] = shapes.filter((s) => !(s.length === 1 && s[0] === 0 && base.length > 1)).reduce((n, s) => n + s[d]!, 0);
    return { shapes, attrs: { dim }, out };
  });

/** stack: 1 to 4 inputs of one shape (rank 0 to 2), the new dim anywhere, negative too. */
const stackDraws = fc.tuple(shapeOf(2), fc.integer({ min: 1, max: 4 }), fc.nat(), fc.boolean())
  .map(([shape, n, k, negative]): Draw => {
    const dim = dimOf(k, shape.length + 1, negative);
    const out = [...shape];
    out.splice((dim + shape.length + 1) % (shape.length + 1), 0, n);
    return { shapes: Array.from({ length: n }, () => shape), attrs: { dim }, out };
  });

/** flip: a subset of the dims in any order, negative ones too, the empty list included. */
const flipDraws = fc.tuple(shapeOf(3), fc.nat({ max: 7 }), fc.nat({ max: 5 }), fc.boolean())
  .map(([shape, mask, turn, negative]): Draw => {
    const rank = Math.max(shape.length, 1); // a 0-d tensor takes dim 0 or -1
    const picked = Array.from({ length: rank }, (_, i) => i).filter((i) => mask & (1 << i));
    const rotated = [...picked.slice(turn % Math.max(picked.length, 1)), ...picked.slice(0, turn % Math.max(picked.length, 1))];
    return { shapes: [shape], attrs: { dims: rotated.map((i) => (negative && i % 2 === 0 ? i - rank : i)) }, out: shape };
  });

/** roll: one shift of the flattened tensor, or one shift per dim (a dim may repeat); shifts from -10 to 10. */
const rollDraws = fc.tuple(shapeOf(3), fc.boolean(), fc.array(fc.tuple(fc.integer({ min: -10, max: 10 }), fc.nat(), fc.boolean()), { minLength: 1, maxLength: 3 }), fc.boolean())
  .filter(([shape, flat]) => flat || shape.length > 0)
  .map(([shape, flat, pairs, single]): Draw => {
    if (flat) return { shapes: [shape], attrs: { shifts: single ? pairs[0]![0] : [pairs[0]![0]] }, out: shape };
    return { shapes: [shape], attrs: { shifts: pairs.map(([s]) => s), dims: pairs.map(([, k, neg]) => dimOf(k, shape.length, neg)) }, out: shape };
  });

/** repeat: one size per dim and up to two more (leading dims), sizes 0 to 3. */
const repeatDraws = fc.tuple(shapeOf(2), fc.nat({ max: 2 }), fc.array(fc.constantFrom(0, 1, 2, 3, 1, 2), { minLength: 4, maxLength: 4 }))
  .map(([shape, extra, picks]): Draw => {
    const sizes = picks.slice(0, shape.length + extra);
    const padded = [...sizes.slice(0, extra).map(() => 1), ...shape];
    return { shapes: [shape], attrs: { sizes }, out: padded.map((d, i) => d * sizes[i]!) };
  });

const TITLES = {
  cat: 'cat of one to four inputs along any dim (negative, size 0 and 1, skipped 1-d empty inputs): values move and each input gets its part of the gradient, by both oracles',
  stack: 'stack of one to four inputs at any new dim (negative, 0-d inputs, size 0 and 1): each input gets its slice of the gradient, by both oracles',
  flip: 'flip over any subset of dims in any order (negative dims, none, 0-d): the gradient flips back, by both oracles',
  roll: 'roll flattened or per dim (repeated dims, negative shifts and shifts past the size, size 0 and 1): the gradient rolls back, by both oracles',
  repeat: 'repeat with extra leading sizes and sizes of 0 and 1: each input element gets the sum of its copies\' gradients, by both oracles',
} as const;

function joinProperty(op: keyof typeof TITLES, draws: fc.Arbitrary<Draw>): AnyProperty {
  const small = draws.filter((d) => numel(d.out) <= MAX_OUT && d.shapes.reduce((n, s) => n + numel(s), 0) <= MAX_OUT);
  const arbitrary = fc.tuple(small, values(), weights(), dtypes).map(([d, xs, ws, dtype]) => joinCase(op, d, xs, ws, dtype));
  return gradientProperty(`gradient.op.${op}`, [`op.${op}` as ClauseId], TITLES[op], arbitrary);
}

export const JOIN_PROPERTIES: AnyProperty[] = [
  joinProperty('cat', catDraws),
  joinProperty('stack', stackDraws),
  joinProperty('flip', flipDraws),
  joinProperty('roll', rollDraws),
  joinProperty('repeat', repeatDraws),
];
