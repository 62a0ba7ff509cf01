import type { Attrs } from '../spec/program.ts';
import { numel } from './shape.ts';

/*
 * Joining and repeating as the oracles see them: every output element is one input element, so
 * each op is an index map from the output's elements to (input, element). Written from the
 * ops' definitions, one output multi-index at a time; nothing here is shared with engine/.
 */

export interface IndexMap { shape: number[]; from: [number, number][] }

const wrap = (dim: number, rank: number): number => {
  const r = Math.max(rank, 1);
  if (dim < -r || dim >= r) throw new Error(`dim ${dim} is out of range for ${rank} dims`);
  return dim < 0 ? dim + r : dim;
};

/** The multi-indices of a shape in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const n = numel(shape);
  for (let flat = 0; flat < n; flat++) {
    const at: number[] = new Array(shape.length);
    let rest = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      at[d] = rest % shape[d]!;
      rest = Math.floor(rest / shape[d]!);
    }
    yield at;
  }
}

const flatOf = (at: readonly number[], shape: readonly number[]): number => at.reduce((s, v, d) => s * shape[d]! + v, 0);

const mod = (a: number, n: number): number => ((a % n) + n) % n;

function map(shape: number[], f: (at: number[]) => [number, number]): IndexMap {
  return { shape, from: Array.from(indices(shape), f) };
}

/** The op's output shape and where each output element comes from; inputs are the args' shapes. */
export function joinMap(op: 'cat' | 'stack' | 'flip' | 'roll' | 'repeat', shapes: readonly (readonly number[])[], attrs: Attrs): IndexMap {
  const x = shapes[0]!;
  switch (op) {
    case 'cat': {
      // 1-d empty inputs take no part (PyTorch's legacy rule); the others agree except along dim.
      const parts = shapes.map((s, k) => ({ s, k })).filter(({ s }) => !(s.length === 1 && s[0] === 0));
      if (parts.length === 0) return { shape: [0], from: [] };
      const dim = wrap((attrs.dim as number | undefined) ?? 0, parts[0]!.s.length);
      const shape = [...parts[0]!.s];
      shape[dim] = parts.reduce((n, { s }) => n + s[dim]!, 0);
      return map(shape, (at) => {
        let i = at[dim]!;
        for (const { s, k } of parts) {
          if (i < s[dim]!) return [k, flatOf(at.map((v, d) => (d === dim ? i : v)), s)];
          i -= s[dim]!;
        }
        throw new Error('cat: index past the end');
      });
    }
    case 'stack': {
      const dim = wrap((attrs.dim as number | undefined) ?? 0, x.length + 1);
      const shape = [...x];
      shape.splice(dim, 0, shapes.length);
      return map(shape, (at) => [at[dim]!, flatOf(at.filter((_, d) => d !== dim), x)]);
    }
    case 'flip': {
      const dims = (attrs.dims ?? []).map((d) => wrap(d, x.length));
      return map([...x], (at) => [0, flatOf(at.map((v, d) => (dims.includes(d) ? x[d]! - 1 - v : v)), x)]);
    }
    case 'roll': {
      const shifts = typeof attrs.shifts === 'number' ? [attrs.shifts] : attrs.shifts ?? [];
      const n = numel(x);
      if (attrs.dims === undefined || attrs.dims.length === 0) {
        return map([...x], (at) => [0, mod(flatOf(at, x) - shifts[0]!, n)]);
      }
      const dims = attrs.dims.map((d) => wrap(d, x.length));
      return map([...x], (at) => {
        const src = [...at];
        dims.forEach((d, k) => (src[d] = mod(src[d]! - shifts[k]!, x[d]!)));
        return [0, flatOf(src, x)];
      });
    }
    case 'repeat': {
      const sizes = attrs.sizes ?? [];
      const padded = [...sizes.slice(0, sizes.length - x.length).map(() => 1), ...x];
      return map(padded.map((d, i) => d * sizes[i]!), (at) => [0, flatOf(at.map((v, d) => v % padded[d]!), padded)]);
    }
  }
}
