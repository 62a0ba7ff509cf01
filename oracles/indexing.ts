import type { OpStep } from '../spec/program.ts';
import { broadcastIndex, broadcastShapes, normalizeDim, numel, strides, unravel, type Shape } from './shape.ts';
import type { Algebra, Bound } from './walk.ts';

/*
 * The gather family as the oracles see it: each output element is an input element the constant
 * index chooses, a given value, or a sum of them; the index is an int64 leaf, read by value.
 */

/** An int64 leaf's shape and values, as written. */
export interface IntLeaf { shape: number[]; values: number[] }

/** A 0-d tensor counts as one of shape [1] for the coordinates. */
const nonEmpty = (shape: Shape): number[] => (shape.length === 0 ? [1] : [...shape]);

/** The flat offset in `target` of an index element at `coords`, with its place along dim replaced by `at`. */
function offset(target: Shape, coords: readonly number[], dim: number, at: number): number {
  const s = strides(nonEmpty(target));
  return coords.reduce((sum, c, d) => sum + (d === dim ? at : c) * s[d]!, 0);
}

export function indexing<E>(step: OpStep, args: Bound<E>[], ints: ReadonlyMap<string, IntLeaf>, algebra: Algebra<E>): Bound<E> {
  const x = args[0]!;
  if (step.op === 'maskedFill') {
    // The value where the mask holds, else x's element; mask and x broadcast.
    const [m, v] = [args[1]!, args[2]!];
    const shape = broadcastShapes(x.shape, m.shape);
    const [xi, mi] = [broadcastIndex(x.shape, shape), broadcastIndex(m.shape, shape)];
    return { shape, data: Array.from(xi, (i, o) => algebra.select(m.data[mi[o]!]!, v.data[0]!, x.data[i]!)) };
  }
  const index = ints.get(String(step.args[1]));
  if (!index) throw new Error(`${step.op}: the oracles model indices that are int64 leaves only`);
  const dim = normalizeDim(step.attrs?.dim as number, x.shape.length);
  const idx = index.values;
  const coords = (k: number) => unravel(k, nonEmpty(index.shape));
  switch (step.op) {
    case 'indexSelect': {
      const shape = nonEmpty(x.shape);
      const [n, inner, outer] = [shape[dim]!, numel(shape.slice(dim + 1)), numel(shape.slice(0, dim))];
      const data: E[] = [];
      for (let o = 0; o < outer; o++) for (const i of idx) for (let j = 0; j < inner; j++) data.push(x.data[(o * n + i) * inner + j]!);
      return { shape: x.shape.length === 0 ? [] : x.shape.map((s, d) => (d === dim ? idx.length : s)), data: x.shape.length === 0 ? data.slice(0, 1) : data };
    }
    case 'gather':
      return { shape: index.shape, data: idx.map((i, k) => x.data[offset(x.shape, coords(k), dim, i)]!) };
    case 'scatter':
    case 'scatterAdd':
    case 'indexAdd': {
      // Each place of x collects the terms added to it (scatter: the last write replaces it).
      const src = args[2]!;
      const terms: E[][] = x.data.map((e) => [e]);
      const scale = (e: E) => (step.op === 'indexAdd' && (step.attrs?.alpha ?? 1) !== 1 ? algebra.binary('mul', e, algebra.constant(step.attrs!.alpha!)) : e);
      if (step.op === 'indexAdd') {
        const shape = nonEmpty(x.shape);
        const [n, inner, outer] = [shape[dim]!, numel(shape.slice(dim + 1)), numel(shape.slice(0, dim))];
        // Slice k of source along dim is added to slice idx[k] of x, broadcast to its shape (a
        // 1-d or 0-d x adds source's k-th element, or a 0-d source's one element).
        const slice = shape.filter((_, d) => d !== dim);
        const srcSlice = src.shape.filter((_, d) => d !== dim);
        const from = broadcastIndex(srcSlice, slice);
        const srcStrides = strides(src.shape);
        const at = (k: number, p: number): number => {
          if (x.shape.length <= 1) return src.shape.length === 0 ? 0 : k;
          const c = unravel(from[p]!, srcSlice);
          c.splice(dim, 0, k);
          return c.reduce((sum, v, d) => sum + v * srcStrides[d]!, 0);
        };
        idx.forEach((i, k) => {
          for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) terms[(o * n + i) * inner + j]!.push(scale(src.data[at(k, o * inner + j)]!));
        });
      } else {
        const srcStrides = strides(nonEmpty(src.shape));
        idx.forEach((i, k) => {
          const c = coords(k);
          const at = offset(x.shape, c, dim, i);
          const value = typeof step.args[2] === 'number' ? src.data[0]! : src.data[c.reduce((sum, v, d) => sum + v * srcStrides[d]!, 0)]!;
          if (step.op === 'scatter') terms[at] = [value];
          else terms[at]!.push(value);
        });
      }
      return { shape: x.shape, data: terms.map((t) => (t.length === 1 ? t[0]! : algebra.sum(t))) };
    }
    default:
      throw new Error(`op ${step.op} is not in the gather family`);
  }
}
