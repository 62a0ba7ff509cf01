/**
 * Shape arithmetic with PyTorch's rules, as index plans: for every output element, which input
 * elements it reads (row-major flat indices). The forward interpreter and the expression expander
 * both use these plans, so the shape rules are written once and the element arithmetic twice.
 * Written from PyTorch's documented semantics, independently of engine/.
 */

export type Shape = readonly number[];

export const numel = (shape: Shape): number => shape.reduce((n, d) => n * d, 1);

export function strides(shape: Shape): number[] {
  const out = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) out[i] = out[i + 1]! * shape[i + 1]!;
  return out;
}

/** The multi-index of a row-major flat index (`[]` for a 0-d tensor). */
export function unravel(flat: number, shape: Shape): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let i = shape.length - 1; i >= 0; i--) {
    const d = shape[i]!;
    index[i] = flat % d;
    flat = Math.floor(flat / d);
  }
  return index;
}

/** The row-major flat index of a multi-index. */
export const ravel = (at: readonly number[], shape: Shape): number => at.reduce((s, v, d) => s * shape[d]! + v, 0);

const fmt = (s: Shape) => `[${s.join(', ')}]`;

/** A dim in [-ndim, ndim) made non-negative; a 0-d tensor accepts -1 and 0, as in PyTorch. */
export function normalizeDim(dim: number, ndim: number): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new Error(`dim ${dim} out of range for a tensor with ${ndim} dims`);
  }
  return dim < 0 ? dim + n : dim;
}

export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes ${fmt(a)} and ${fmt(b)} do not broadcast`);
    out.push(x === 1 ? y : x);
  }
  return out;
}

/** For each element of `out`, the flat index of the `input` element broadcast to it. */
export function broadcastIndex(input: Shape, out: Shape): Int32Array {
  const offset = out.length - input.length;
  const inStrides = strides(input);
  const plan = new Int32Array(numel(out));
  for (let o = 0; o < plan.length; o++) {
    const index = unravel(o, out);
    let flat = 0;
    for (let i = 0; i < input.length; i++) if (input[i] !== 1) flat += index[i + offset]! * inStrides[i]!;
    plan[o] = flat;
  }
  return plan;
}

/** `expand(shape)`: -1 keeps a size, new dims may be added in front, only size-1 dims grow. */
export function expandShape(input: Shape, target: readonly number[]): number[] {
  const offset = target.length - input.length;
  if (offset < 0) throw new Error(`cannot expand ${fmt(input)} to fewer dims ${fmt(target)}`);
  return target.map((t, i) => {
    const d = i >= offset ? input[i - offset]! : undefined;
    if (t === -1) {
      if (d === undefined) throw new Error(`expand: -1 is not allowed for a new leading dim`);
      return d;
    }
    if (d !== undefined && d !== t && d !== 1) throw new Error(`cannot expand ${fmt(input)} to ${fmt(target)}`);
    return t;
  });
}

/** `reshape`/`view` target with at most one -1 inferred. */
export function reshapeShape(input: Shape, target: readonly number[]): number[] {
  const total = numel(input);
  const known = target.filter((d) => d !== -1);
  const holes = target.length - known.length;
  if (holes > 1) throw new Error(`reshape: only one dim may be -1 in ${fmt(target)}`);
  const product = numel(known);
  const inferred = holes === 1 && product !== 0 && total % product === 0 ? total / product : -1;
  const out = target.map((d) => (d === -1 ? inferred : d));
  if (out.some((d) => d < 0) || numel(out) !== total) throw new Error(`cannot reshape ${fmt(input)} to ${fmt(target)}`);
  return out;
}

/** For each element of the permuted tensor, the flat index it reads from the input. */
export function permuteIndex(input: Shape, perm: readonly number[]): { shape: number[]; plan: Int32Array } {
  const dims = perm.map((d) => normalizeDim(d, input.length));
  if (dims.length !== input.length || new Set(dims).size !== dims.length) {
    throw new Error(`permute: ${fmt(perm)} is not a permutation of the dims of ${fmt(input)}`);
  }
  const shape = dims.map((d) => input[d]!);
  const inStrides = strides(input);
  const plan = new Int32Array(numel(shape));
  for (let o = 0; o < plan.length; o++) {
    const index = unravel(o, shape);
    let flat = 0;
    for (let i = 0; i < dims.length; i++) flat += index[i]! * inStrides[dims[i]!]!;
    plan[o] = flat;
  }
  return { shape, plan };
}

export function transposePerm(ndim: number, dim0: number, dim1: number): number[] {
  const perm = Array.from({ length: ndim }, (_, i) => i);
  if (ndim === 0) {
    normalizeDim(dim0, 0);
    normalizeDim(dim1, 0);
    return perm;
  }
  const [a, b] = [normalizeDim(dim0, ndim), normalizeDim(dim1, ndim)];
  [perm[a], perm[b]] = [perm[b]!, perm[a]!];
  return perm;
}

export function unsqueezeShape(input: Shape, dim: number): number[] {
  const d = normalizeDim(dim, input.length + 1);
  return [...input.slice(0, d), 1, ...input.slice(d)];
}

/** `squeeze()` drops every size-1 dim; `squeeze(d)` drops dim d only if its size is 1. */
export function squeezeShape(input: Shape, dim?: number): number[] {
  if (dim === undefined) return input.filter((d) => d !== 1);
  if (input.length === 0) {
    normalizeDim(dim, 0);
    return [];
  }
  const d = normalizeDim(dim, input.length);
  return input[d] === 1 ? [...input.slice(0, d), ...input.slice(d + 1)] : [...input];
}

/**
 * A sum or mean over `dim` (all dims when absent or empty, as PyTorch 1.13 does for `dim=[]`):
 * for each input element, the output element it adds into.
 */
export function reducePlan(
  input: Shape,
  dim: number | readonly number[] | undefined,
  keepdim: boolean,
): { shape: number[]; target: Int32Array; count: number } {
  const list = dim === undefined ? [] : typeof dim === 'number' ? [dim] : dim;
  const reduced = new Set(list.length === 0 ? input.map((_, i) => i) : list.map((d) => normalizeDim(d, input.length)));
  if (list.length > 0 && reduced.size !== list.length) throw new Error(`dim ${fmt(list)} names a dim twice`);
  const kept = input.map((d, i) => (reduced.has(i) ? 1 : d));
  const shape = keepdim ? kept : input.filter((_, i) => !reduced.has(i)); // dim=[] with keepdim keeps every dim as 1
  const keptStrides = strides(kept);
  const target = new Int32Array(numel(input));
  for (let i = 0; i < target.length; i++) {
    const index = unravel(i, input);
    let flat = 0;
    for (let k = 0; k < index.length; k++) if (!reduced.has(k)) flat += index[k]! * keptStrides[k]!;
    target[i] = flat;
  }
  const count = input.reduce((n, d, i) => (reduced.has(i) ? n * d : n), 1);
  return { shape, target, count };
}

/**
 * `a @ b` with torch.matmul's cases: 1-D·1-D is a dot product, a 1-D left operand is treated as a
 * row (and that dim removed after), a 1-D right operand as a column, and leading batch dims
 * broadcast. Output element o is the sum over p < k of a[pairs.a[o*k + p]] * b[pairs.b[o*k + p]].
 */
export function matmulPlan(aShape: Shape, bShape: Shape): { shape: number[]; k: number; a: Int32Array; b: Int32Array } {
  if (aShape.length === 0 || bShape.length === 0) throw new Error('matmul: both arguments need at least 1 dim');
  const a = aShape.length === 1 ? [1, aShape[0]!] : [...aShape];
  const b = bShape.length === 1 ? [bShape[0]!, 1] : [...bShape];
  const [n, k] = [a[a.length - 2]!, a[a.length - 1]!];
  const [k2, m] = [b[b.length - 2]!, b[b.length - 1]!];
  if (k !== k2) throw new Error(`matmul: shapes ${fmt(aShape)} and ${fmt(bShape)} cannot be multiplied`);
  const aBatch = a.slice(0, -2);
  const bBatch = b.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const aOf = broadcastIndex(aBatch, batch);
  const bOf = broadcastIndex(bBatch, batch);
  const batches = numel(batch);
  const outA = new Int32Array(batches * n * m * k);
  const outB = new Int32Array(batches * n * m * k);
  let w = 0;
  for (let t = 0; t < batches; t++) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        for (let p = 0; p < k; p++, w++) {
          outA[w] = aOf[t]! * n * k + i * k + p;
          outB[w] = bOf[t]! * k * m + p * m + j;
        }
      }
    }
  }
  const shape = [...batch];
  if (aShape.length > 1) shape.push(n);
  if (bShape.length > 1) shape.push(m);
  return { shape, k, a: outA, b: outB };
}
