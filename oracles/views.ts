import type { Attrs, IndexItem } from '../spec/program.ts';
import { numel, ravel, unravel } from './shape.ts';

/*
 * Views and indexing as the oracles see them: each output element is one input element (index.*,
 * op.select and the other view ops), so each op is an index map from output elements to input
 * elements. Aliasing is not the oracles' business: a program's in-place writes are restated
 * without in-place ops before an oracle sees it. Written from the ops' definitions, one output
 * multi-index at a time; nothing here is shared with engine/.
 */

export interface ViewMap { shape: number[]; from: number[] }

/** The values of the int64 and bool leaves a program indexes with, by name. */
export type IndexValues = ReadonlyMap<string, { shape: number[]; values: number[]; isBool: boolean }>;

const wrap = (dim: number, rank: number): number => {
  const r = Math.max(rank, 1);
  if (!Number.isInteger(dim) || dim < -r || dim >= r) throw new Error(`dim ${dim} is out of range for ${rank} dims`);
  return dim < 0 ? dim + r : dim;
};

const flatOf = ravel;

const map = (input: readonly number[], shape: number[], source: (at: number[]) => number[]): ViewMap =>
  ({ shape, from: Array.from({ length: numel(shape) }, (_, flat) => flatOf(source(unravel(flat, shape)), input)) });

/** Elements start, start + step, ... of one dim (Python's clamping of start and stop). */
function sliceMap(x: readonly number[], dim: number, start: number, stop: number, step: number): ViewMap {
  const size = x[dim]!;
  const clamp = (i: number) => Math.min(Math.max(i < 0 ? i + size : i, 0), size);
  const from = clamp(start);
  const count = Math.max(0, Math.ceil((clamp(stop) - from) / step));
  return map(x, x.map((s, d) => (d === dim ? count : s)), (at) => at.map((v, d) => (d === dim ? from + v * step : v)));
}

function selectMap(x: readonly number[], dim: number, index: number): ViewMap {
  const size = x[dim]!;
  const i = index < 0 ? index + size : index;
  if (i < 0 || i >= size) throw new Error(`index ${index} is out of range for size ${size}`);
  return map(x, x.filter((_, d) => d !== dim), (at) => [...at.slice(0, dim), i, ...at.slice(dim)]);
}

/** The pieces of split(size or sizes, dim) and chunk(n, dim), as (start, length) along dim. */
export function pieces(op: 'split' | 'chunk', x: readonly number[], attrs: Attrs): { dim: number; parts: [number, number][] } {
  const dim = wrap((attrs.dim as number | undefined) ?? 0, x.length);
  const size = x[dim]!;
  let sizes: number[];
  if (op === 'split' && Array.isArray(attrs.splitSize)) sizes = attrs.splitSize;
  else if (op === 'chunk' && size === 0) sizes = new Array<number>(attrs.chunks!).fill(0);
  else {
    const step = op === 'chunk' ? Math.ceil(size / attrs.chunks!) : (attrs.splitSize as number);
    const count = step === 0 ? 1 : Math.max(1, Math.ceil(size / step));
    sizes = Array.from({ length: count }, (_, i) => (step === 0 ? 0 : Math.min(step, size - i * step)));
  }
  let start = 0;
  return { dim, parts: sizes.map((s) => { const p: [number, number] = [start, s]; start += s; return p; }) };
}

/** One output of a single-output view op. */
export function viewMap(op: string, x: readonly number[], attrs: Attrs, refs: IndexValues): ViewMap {
  switch (op) {
    case 'contiguous': return map(x, [...x], (at) => at);
    case 'select': return selectMap(x, wrap(attrs.dim as number, x.length), attrs.index!);
    case 'narrow': {
      const dim = wrap(attrs.dim as number, x.length);
      const start = attrs.start! < 0 ? attrs.start! + x[dim]! : attrs.start!;
      return sliceMap(x, dim, start, start + attrs.length!, 1);
    }
    case 'diagonal': {
      const [offset, d1, d2] = [attrs.offset ?? 0, wrap(attrs.dim1 ?? 0, x.length), wrap(attrs.dim2 ?? 1, x.length)];
      const size = Math.max(0, offset >= 0 ? Math.min(x[d1]!, x[d2]! - offset) : Math.min(x[d1]! + offset, x[d2]!));
      const rest = x.map((_, d) => d).filter((d) => d !== d1 && d !== d2);
      return map(x, [...rest.map((d) => x[d]!), size], (at) => {
        const i = at[at.length - 1]!;
        const src = new Array<number>(x.length);
        rest.forEach((d, k) => (src[d] = at[k]!));
        src[d1] = offset >= 0 ? i : i - offset;
        src[d2] = offset >= 0 ? i + offset : i;
        return src;
      });
    }
    case 'index': return indexMap(x, attrs.items ?? [], refs);
    default: throw new Error(`${op} is not a view op the oracles model`);
  }
}

/** The outputs of unbind, split and chunk. */
export function multiViewMaps(op: 'unbind' | 'split' | 'chunk', x: readonly number[], attrs: Attrs): ViewMap[] {
  if (op === 'unbind') {
    const dim = wrap((attrs.dim as number | undefined) ?? 0, x.length);
    return Array.from({ length: x[dim]! }, (_, i) => selectMap(x, dim, i));
  }
  const { dim, parts } = pieces(op, x, attrs);
  return parts.map(([start, length]) => sliceMap(x, dim, start, start + length, 1));
}

/**
 * Python's `x[items]`: numbers, slices, None and '...' first, left to right, then the advanced
 * items (int64 tensors and arrays, bool masks as the indices of their true elements), broadcast
 * together; their dims go where the first was when they are adjacent, else first.
 */
function indexMap(x: readonly number[], items: readonly IndexItem[], refs: IndexValues): ViewMap {
  const isAdvanced = (i: IndexItem) => Array.isArray(i) || (typeof i === 'object' && i !== null && 'ref' in i);
  const refOf = (i: IndexItem) => {
    const name = (i as { ref: string }).ref;
    const r = refs.get(name);
    if (!r) throw new Error(`${name}: the oracles index by int64 and bool leaves only`);
    return r;
  };
  const consumed = (i: IndexItem) => (i === null || i === '...' ? 0 : isAdvanced(i) && !Array.isArray(i) && refOf(i).isBool ? refOf(i).shape.length : 1);
  const used = items.reduce<number>((n, i) => n + consumed(i), 0);
  // Basic items as a composition of maps over the current shape; `cur` maps to x's flat index.
  let shape = [...x];
  let cur: number[] = Array.from({ length: numel(x) }, (_, i) => i);
  const apply = (m: ViewMap) => { cur = m.from.map((i) => cur[i]!); shape = m.shape; };
  let dim = 0;
  const advanced: { dim: number; index: number[]; shape: number[] }[] = [];
  for (const item of items) {
    if (typeof item === 'number') apply(selectMap(shape, dim, item));
    else if (item === null) { apply(map(shape, [...shape.slice(0, dim), 1, ...shape.slice(dim)], (at) => [...at.slice(0, dim), ...at.slice(dim + 1)])); dim++; }
    else if (item === '...') dim += x.length - used;
    else if (Array.isArray(item)) { advanced.push({ dim, index: item, shape: [item.length] }); dim++; }
    else if ('ref' in item) {
      const r = refOf(item);
      if (r.isBool) {
        const trues = r.values.flatMap((v, i) => (v !== 0 ? [i] : []));
        r.shape.forEach((_, k) => {
          const inner = numel(r.shape.slice(k + 1));
          advanced.push({ dim: dim + k, index: trues.map((i) => Math.floor(i / inner) % r.shape[k]!), shape: [trues.length] });
        });
        dim += 1; // PyTorch applies later basic items as if a mask were one dim
      } else if (r.shape.length === 0) apply(selectMap(shape, dim, r.values[0]!));
      else { advanced.push({ dim, index: r.values, shape: r.shape }); dim++; }
    } else {
      apply(sliceMap(shape, dim, item.start ?? 0, item.stop ?? shape[dim]!, item.step ?? 1));
      dim++;
    }
  }
  if (advanced.length === 0) return { shape, from: cur };
  // Broadcast the index shapes (right-aligned, 1 stretches).
  const rank = Math.max(...advanced.map((a) => a.shape.length));
  const b = Array.from({ length: rank }, (_, i) => Math.max(...advanced.map((a) => a.shape[a.shape.length - rank + i] ?? 1)));
  const dims = advanced.map((a) => a.dim);
  const adjacent = dims.every((d, k) => k === 0 || d === dims[k - 1]! + 1);
  const rest = shape.map((_, d) => d).filter((d) => !dims.includes(d));
  const first = adjacent ? dims[0]! : 0;
  const before = rest.filter((d) => d < first);
  const after = rest.filter((d) => d >= first);
  const outShape = [...before.map((d) => shape[d]!), ...b, ...after.map((d) => shape[d]!)];
  const m = map(shape, outShape, (at) => {
    const src = new Array<number>(shape.length);
    before.forEach((d, k) => (src[d] = at[k]!));
    after.forEach((d, k) => (src[d] = at[before.length + b.length + k]!));
    const bi = at.slice(before.length, before.length + b.length);
    for (const a of advanced) {
      const own = a.shape.map((s, k) => (s === 1 ? 0 : bi[b.length - a.shape.length + k]!));
      const v = a.index[flatOf(own, a.shape)]!;
      src[a.dim] = v < 0 ? v + shape[a.dim]! : v;
    }
    return src;
  });
  return { shape: outShape, from: m.from.map((i) => cur[i]!) };
}
