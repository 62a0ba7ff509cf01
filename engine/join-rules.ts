import type { DType } from '../spec/program.ts';
import type { Rule } from './dispatch.ts';
import { alloc, type Result } from './kernels.ts';
import { numel, stridesOf, type Shape } from './shape.ts';
import { Tensor } from './tensor.ts';
import { slice } from './views.ts';

/*
 * Joining and repeating (cat, stack, flip, roll, repeat): every output element is one input
 * element, so each forward is an index map, built here once and read by one gather.
 */

export interface CatAttrs { dim: number; shapes: number[][] }
export interface StackAttrs { dim: number; count: number }
export interface FlipAttrs { dims: number[] }
/** Normalized: dims empty means the flattened tensor rolled by shifts[0]. */
export interface RollAttrs { shifts: number[]; dims: number[] }
export interface RepeatAttrs { repeats: number[]; inputShape: number[] }

/** Where each output element comes from: input `source[o]`, its flat element `index[o]`. */
interface Plan { shape: number[]; source: Int32Array; index: Int32Array }

function gather(inputs: readonly Tensor[], plan: Plan, dtype: DType): Result {
  const data = alloc(dtype, plan.index.length);
  const values = inputs.map((t) => t.data);
  for (let o = 0; o < data.length; o++) data[o] = values[plan.source[o]!]![plan.index[o]!]!;
  return { shape: plan.shape, data };
}

/** PyTorch's legacy rule: 1-d empty tensors take no part in cat's shapes (they may have any rank). */
export const skipped = (shape: Shape): boolean => shape.length === 1 && shape[0] === 0;

/** cat along dim; `shapes` are the inputs' shapes (skipped ones included, giving nothing). */
function catPlan(shapes: readonly Shape[], dim: number): Plan {
  const used = shapes.map((s, k) => [s, k] as const).filter(([s]) => !skipped(s));
  if (used.length === 0) return { shape: [0], source: new Int32Array(0), index: new Int32Array(0) };
  const shape = [...used[0]![0]];
  shape[dim] = used.reduce((n, [s]) => n + s[dim]!, 0);
  const outer = numel(shape.slice(0, dim));
  const inner = numel(shape.slice(dim + 1));
  const source = new Int32Array(numel(shape));
  const index = new Int32Array(source.length);
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (const [s, k] of used) {
      const block = s[dim]! * inner; // this input's contiguous run within outer index p
      for (let i = 0; i < block; i++, o++) [source[o], index[o]] = [k, p * block + i];
    }
  }
  return { shape, source, index };
}

export const catForward = (xs: readonly Tensor[], a: CatAttrs, dtype: DType): Result => gather(xs, catPlan(a.shapes, a.dim), dtype);

/** stack is cat of the inputs with a dim of 1 inserted at dim. */
export function stackForward(xs: readonly Tensor[], a: StackAttrs, dtype: DType): Result {
  const shapes = xs.map((t) => { const s = [...t.shape]; s.splice(a.dim, 0, 1); return s; });
  return gather(xs, catPlan(shapes, a.dim), dtype);
}

/** A plan over one input from a function of the output's multi-index to the input's. */
function mapPlan(outShape: number[], inShape: Shape, from: (at: number[]) => number[]): Plan {
  const n = numel(outShape);
  const strides = stridesOf(inShape);
  const index = new Int32Array(n);
  const at = outShape.map(() => 0);
  for (let o = 0; o < n; o++) {
    index[o] = from(at).reduce((s, v, d) => s + v * strides[d]!, 0);
    for (let d = at.length - 1; d >= 0; d--) {
      if (++at[d]! < outShape[d]!) break;
      at[d] = 0;
    }
  }
  return { shape: outShape, source: new Int32Array(n), index };
}

export function flipForward(x: Tensor, a: FlipAttrs, dtype: DType): Result {
  const s = x.shape;
  return gather([x], mapPlan([...s], s, (at) => at.map((v, d) => (a.dims.includes(d) ? s[d]! - 1 - v : v))), dtype);
}

/** Element i along a rolled dim of size n comes from (i - shift) mod n, for any shift. */
const rolledFrom = (i: number, shift: number, n: number): number => (((i - shift) % n) + n) % n;

export function rollForward(x: Tensor, a: RollAttrs, dtype: DType): Result {
  const s = x.shape;
  if (x.numel() === 0) return gather([x], mapPlan([...s], s, (at) => at), dtype);
  if (a.dims.length === 0) {
    const n = x.numel();
    const plan = mapPlan([n], [n], ([i]) => [rolledFrom(i!, a.shifts[0]!, n)]);
    return gather([x], { ...plan, shape: [...s] }, dtype);
  }
  // Shifts along the same dim add up, as rolling twice does.
  const total = s.map((_, d) => a.dims.reduce((t, e, k) => (e === d ? t + a.shifts[k]! : t), 0));
  return gather([x], mapPlan([...s], s, (at) => at.map((v, d) => rolledFrom(v, total[d]!, s[d]!))), dtype);
}

/** The input's shape padded with leading 1s to the repeats' length; the output is their product. */
export function repeatForward(x: Tensor, a: RepeatAttrs, dtype: DType): Result {
  const padded = [...a.repeats.slice(0, a.repeats.length - x.ndim).map(() => 1), ...x.shape];
  const out = padded.map((d, i) => d * a.repeats[i]! + 0); // + 0: a 0 dim repeated -1 times is 0, not -0
  const plan = mapPlan(out, padded, (at) => at.map((v, d) => v % padded[d]!));
  return gather([x], plan, dtype);
}

/** PyTorch's repeat_backward: the leading dims summed away, then each repeat folded out and summed. */
export function repeatBackward(g: Tensor, a: RepeatAttrs): Tensor {
  const lead = a.repeats.length - a.inputShape.length;
  let r = g;
  for (let i = 0; i < lead; i++) r = r.sum(0);
  const sizes: number[] = [];
  const dims: number[] = [];
  a.inputShape.forEach((d, i) => {
    const k = a.repeats[i + lead]!;
    if (k !== 1) {
      sizes.push(k);
      dims.push(sizes.length - 1);
    }
    sizes.push(d);
  });
  return dims.length > 0 ? r.reshape(sizes).sum(dims) : r;
}

/** cat's rules, one per input: its part of g along dim; a skipped input's gradient is zeros([0]). */
export function catRules(a: CatAttrs): Rule<CatAttrs>[] {
  let offset = 0;
  return a.shapes.map((s): Rule<CatAttrs> => {
    if (skipped(s)) return { saves: [], vjp: (g) => new Tensor(alloc(g.dtype, 0), [0], g.dtype) };
    const [start, length] = [offset, s[a.dim]!];
    offset += length;
    // at::slice, which g.narrow calls: a part of size 0 may start at the end (narrow's start = size).
    return { saves: [], vjp: (g) => slice(g, a.dim, start, start + length, 1) };
  });
}

/** stack's rules: input i's gradient is g.select(dim, i). */
export const stackRules = (a: StackAttrs): Rule<StackAttrs>[] =>
  Array.from({ length: a.count }, (_, i): Rule<StackAttrs> => ({
    saves: [],
    vjp: (g) => g.select(a.dim, i),
  }));
