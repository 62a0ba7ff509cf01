import { fail, typeName } from './errors.ts';

export type Shape = readonly number[];

export const numel = (shape: Shape): number => shape.reduce((n, d) => n * d, 1);

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export const sameShape = (a: Shape, b: Shape): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

export const shapeText = (s: Shape): string => `[${s.join(', ')}]`;

/** The largest tensor the reference engine makes: bigger ones are refused, not allocated. */
export const MAX_ELEMENTS = 2 ** 26;
/** The most dims a tensor may have (PyTorch's kernels stop at 64 too). */
export const MAX_DIMS = 64;

export function checkElements(n: number): void {
  if (!(n <= MAX_ELEMENTS)) {
    fail('invalid-argument', `a tensor of ${n} elements is over the reference engine's limit of ${MAX_ELEMENTS} (2^26) elements`);
  }
}

export function checkDims(rank: number): void {
  if (rank > MAX_DIMS) fail('invalid-argument', `tensors of ${rank} dimensions are over the reference engine's limit of ${MAX_DIMS}`);
}

/** A list of sizes given by a caller: an array of at most MAX_DIMS entries. */
export function checkSizeList(sizes: unknown, op: string, what: string): asserts sizes is unknown[] {
  if (!Array.isArray(sizes)) fail('invalid-argument', `${op}(): argument '${what}' must be a list of integers, not ${typeName(sizes)}`);
  checkDims(sizes.length);
}

/** Wraps a possibly negative dim into [0, rank); PyTorch treats a 0-d tensor as rank 1 here. */
export function normalizeDim(dim: unknown, rank: number, op: string): number {
  if (typeof dim !== 'number' || !Number.isInteger(dim)) {
    fail('invalid-argument', `${op}(): argument 'dim' must be an integer, not ${typeName(dim)}`);
  }
  const r = Math.max(rank, 1);
  if (dim < -r || dim >= r) {
    fail('invalid-argument', `Dimension out of range (expected to be in range of [${-r}, ${r - 1}], but got ${dim})`);
  }
  return dim < 0 ? dim + r : dim;
}

/** NumPy broadcasting: align trailing dims; a dim of 1 stretches. */
export function broadcastShapes(a: Shape, b: Shape): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      fail('shape-mismatch', `The size of tensor a (${da}) must match the size of tensor b (${db}) at non-singleton dimension ${i}`);
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/**
 * Strides that read a tensor of shape `from` as if it had the broadcast shape `to`:
 * stretched and missing dims get stride 0.
 */
export function broadcastStrides(from: Shape, to: Shape): number[] {
  const own = stridesOf(from);
  const offset = to.length - from.length;
  return to.map((d, i) => (i < offset || from[i - offset] !== d ? 0 : own[i - offset]!));
}

/** Resolves one -1 in a requested shape against `count` elements (reshape and view). */
export function inferShape(requested: unknown, count: number, op: string): number[] {
  checkSizeList(requested, op, 'shape');
  for (let i = 0; i < requested.length; i++) {
    const d = requested[i];
    if (typeof d !== 'number' || !Number.isInteger(d)) {
      fail('invalid-argument', `${op}(): argument 'shape' must be a list of integers, but found ${typeName(d)} at pos ${i}`);
    }
  }
  const sizes = (requested as number[]).map((d) => d + 0); // -0 is 0
  if (sizes.filter((d) => d === -1).length > 1) fail('invalid-argument', 'only one dimension can be inferred');
  for (const d of sizes) if (d < -1) fail('invalid-argument', `invalid shape dimension ${d}`);
  const known = sizes.filter((d) => d !== -1).reduce((n, d) => n * d, 1);
  if (sizes.includes(-1) && known === 0 && count === 0) {
    fail('shape-mismatch', `cannot reshape tensor of 0 elements into shape ${shapeText(sizes)} because the unspecified dimension size -1 can be any value and is ambiguous`);
  }
  const shape = sizes.map((d) => (d === -1 ? (known === 0 ? 0 : count / known) : d));
  if (numel(shape) !== count || !shape.every(Number.isInteger)) {
    fail('shape-mismatch', `shape '${shapeText(sizes)}' is invalid for input of size ${count}`);
  }
  return shape;
}

/** Calls `visit(outIndex, aIndex, bIndex)` over a broadcast pair, in row-major order of the output. */
export function forEachBroadcast(
  out: Shape,
  aStrides: readonly number[],
  bStrides: readonly number[],
  visit: (o: number, a: number, b: number) => void,
): void {
  const n = numel(out);
  const rank = out.length;
  const counter = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let o = 0; o < n; o++) {
    visit(o, ia, ib);
    // Odometer increment: bump the last dim, carry into earlier ones.
    for (let d = rank - 1; d >= 0; d--) {
      counter[d]!++;
      ia += aStrides[d]!;
      ib += bStrides[d]!;
      if (counter[d]! < out[d]!) break;
      ia -= aStrides[d]! * out[d]!;
      ib -= bStrides[d]! * out[d]!;
      counter[d] = 0;
    }
  }
}
