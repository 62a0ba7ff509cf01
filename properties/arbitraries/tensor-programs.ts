import fc from 'fast-check';
import type { Arg } from '../../spec/program.ts';
import { nest, numel, ProgramBuilder } from '../build.ts';
import { ordinary } from './numbers.ts';

/**
 * Random tensor programs as recipes: a list of op choices with plain integer parameters that
 * `buildTensorProgram` turns into valid steps for whatever shape the value has at that point.
 * Recipes shrink well (fewer choices, smaller integers) and every recipe builds a valid program.
 */
export type Choice =
  | { kind: 'unary'; op: 'neg' | 'sin' | 'tanh' | 'sigmoid' | 'exp-tanh' | 'log-square' | 'sqrt-square' | 'cos' }
  | { kind: 'binary'; op: 'add' | 'sub' | 'mul' | 'div-square'; with: 'leaf' | 'self' | 'number'; k: number }
  | { kind: 'reduce'; op: 'sum' | 'mean'; k: number; keepdim: boolean }
  | { kind: 'matmul'; n: number }
  | { kind: 'reshape'; k: number }
  | { kind: 'transpose'; k: number }
  | { kind: 'permute'; k: number }
  | { kind: 'unsqueeze'; k: number }
  | { kind: 'expand'; n: number };

export interface Recipe {
  shape: number[];
  /** The second leaf's shape is the first's with some dims set to 1 and some leading dims dropped. */
  mask: number;
  drop: number;
  choices: Choice[];
  values: number[];
  final: 'sum' | 'mean';
}

const choice: fc.Arbitrary<Choice> = fc.oneof(
  fc.record({ kind: fc.constant('unary' as const), op: fc.constantFrom('neg', 'sin', 'tanh', 'sigmoid', 'exp-tanh', 'log-square', 'sqrt-square', 'cos') }),
  fc.record({ kind: fc.constant('binary' as const), op: fc.constantFrom('add', 'sub', 'mul', 'div-square'), with: fc.constantFrom('leaf', 'self', 'number'), k: fc.nat(7) }),
  fc.record({ kind: fc.constant('reduce' as const), op: fc.constantFrom('sum', 'mean'), k: fc.nat(7), keepdim: fc.boolean() }),
  fc.record({ kind: fc.constant('matmul' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('reshape' as const), k: fc.nat(3) }),
  fc.record({ kind: fc.constant('transpose' as const), k: fc.nat(5) }),
  fc.record({ kind: fc.constant('permute' as const), k: fc.nat(5) }),
  fc.record({ kind: fc.constant('unsqueeze' as const), k: fc.nat(3) }),
  fc.record({ kind: fc.constant('expand' as const), n: fc.integer({ min: 1, max: 3 }) }),
);

export const recipes = (maxDim = 3): fc.Arbitrary<Recipe> =>
  fc.record({
    shape: fc.array(fc.integer({ min: 1, max: maxDim }), { minLength: 1, maxLength: 3 }),
    mask: fc.nat(7),
    drop: fc.nat(2),
    choices: fc.array(choice, { minLength: 1, maxLength: 6 }),
    values: fc.array(ordinary(), { minLength: 64, maxLength: 64 }),
    final: fc.constantFrom('sum' as const, 'mean' as const),
  }, { noNullPrototype: true });

/** Elements beyond this are not made (expand and matmul could otherwise grow a program a lot). */
const MAX_ELEMENTS = 81;

/**
 * Builds the program: leaves x (the recipe's shape) and y (broadcastable to it), the choices in
 * order, then a final sum or mean. Returns the program's output name and its leaves.
 */
export function buildTensorProgram(r: Recipe, id = 'property.tensor-program'): { b: ProgramBuilder; out: string; inputs: string[] } {
  const b = new ProgramBuilder(id);
  let next = 0;
  const take = (n: number) => Array.from({ length: n }, () => r.values[next++ % r.values.length]!);
  const x = b.leaf(nest(take(numel(r.shape)), r.shape), true, 'x');
  const yShape = r.shape.map((d, i) => ((r.mask >> i) & 1 ? 1 : d)).slice(Math.min(r.drop, r.shape.length - 1));
  const y = b.leaf(nest(take(numel(yShape)), yShape), true, 'y');
  let cur = x;
  let shape = [...r.shape];
  const positive = (t: Arg) => b.op('add', [b.op('mul', [t, t]), 0.5]);
  for (const c of r.choices) {
    const rank = shape.length;
    switch (c.kind) {
      case 'unary': {
        if (c.op === 'exp-tanh') cur = b.op('exp', [b.op('tanh', [cur])]);
        else if (c.op === 'log-square') cur = b.op('log', [positive(cur)]);
        else if (c.op === 'sqrt-square') cur = b.op('sqrt', [positive(cur)]);
        else cur = b.op(c.op, [cur]);
        break;
      }
      case 'binary': {
        const broadcastable = yShape.length <= rank && yShape.every((d, i) => d === 1 || d === shape[rank - yShape.length + i]);
        const other: Arg = c.with === 'number' || (c.with === 'leaf' && !broadcastable) ? (c.k + 1) / 4 : c.with === 'leaf' ? y : cur;
        if (c.op === 'div-square') cur = b.op('div', [cur, typeof other === 'number' ? other : positive(other)]);
        else cur = b.op(c.op, [cur, other]);
        break;
      }
      case 'reduce': {
        if (rank === 0) break;
        const dim = c.k % rank;
        cur = b.op(c.op, [cur], { dim: c.k % 2 ? dim - rank : dim, keepdim: c.keepdim });
        shape = c.keepdim ? shape.map((d, i) => (i === dim ? 1 : d)) : shape.filter((_, i) => i !== dim);
        break;
      }
      case 'matmul': {
        if (rank === 0 || numel(shape) * c.n > MAX_ELEMENTS) break;
        const k = shape[rank - 1]!;
        const w = b.leaf(nest(take(k * c.n), [k, c.n]), true);
        cur = b.op('matmul', [cur, w]);
        shape = rank === 1 ? [c.n] : [...shape.slice(0, -1), c.n];
        break;
      }
      case 'reshape': {
        const target = c.k === 0 ? [-1] : c.k === 1 ? [...shape].reverse() : [1, ...shape];
        cur = b.op(c.k === 2 ? 'view' : 'reshape', [cur], { shape: target });
        shape = c.k === 0 ? [numel(shape)] : c.k === 1 ? [...shape].reverse() : [1, ...shape];
        break;
      }
      case 'transpose': {
        if (rank < 2) break;
        const [d0, d1] = [c.k % rank, (c.k + 1) % rank];
        cur = b.op('transpose', [cur], { dim0: d0, dim1: d1 });
        [shape[d0], shape[d1]] = [shape[d1]!, shape[d0]!];
        break;
      }
      case 'permute': {
        if (rank < 2) break;
        const dims = shape.map((_, i) => (i + c.k) % rank);
        cur = b.op('permute', [cur], { dims });
        shape = dims.map((d) => shape[d]!);
        break;
      }
      case 'unsqueeze': {
        if (rank >= 4) break;
        const dim = c.k % (rank + 1);
        cur = b.op('unsqueeze', [cur], { dim });
        shape.splice(dim, 0, 1);
        break;
      }
      case 'expand': {
        if (rank >= 4 || numel(shape) * c.n > MAX_ELEMENTS) break;
        cur = b.op('expand', [cur], { shape: [c.n, ...shape.map(() => -1)] });
        shape = [c.n, ...shape];
        break;
      }
    }
  }
  const out = b.op(r.final, [cur]);
  return { b, out, inputs: b.steps.filter((s) => 'tensor' in s && s.requiresGrad).map((s) => (s as { let: string }).let) };
}
