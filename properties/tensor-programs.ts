import fc from 'fast-check';
import { recipes, buildTensorProgram, type Recipe } from './arbitraries/tensor-programs.ts';
import { gradientProperty, judgeable, judgeDirectional, withBackward, type GradientCase } from './gradient.ts';
import type { AnyProperty, Property } from './property.ts';

/*
 * Random tensor programs mixing elementwise ops (with broadcasting), reductions with dims and
 * keepdim, matmul, reshape and view, transpose, permute, unsqueeze and expand, ending in a sum
 * or a mean. Small ones are judged element by element by both oracles; large ones by the
 * dot-product test.
 */
const toCase = (r: Recipe, id?: string): GradientCase => {
  const { b, out, inputs } = buildTensorProgram(r, id);
  return { program: b.program(), out, inputs };
};

export const tensorPrograms = gradientProperty('gradient.tensor-program', ['backward.broadcast-reduce', 'backward.fan-in', 'op.broadcast'],
  'random tensor programs (elementwise, reductions, matmul, shape ops): every gradient element matches both oracles',
  recipes(3).map((r) => toCase(r)), { symbolic: 'when-small' });

export const largeTensorPrograms: Property<{ c: GradientCase; seed: number }> = {
  id: 'gradient.tensor-program.large',
  clauses: ['backward.broadcast-reduce', 'backward.fan-in'],
  title: 'larger random tensor programs pass the dot-product test against finite differences',
  arbitrary: fc.record({ c: recipes(8).map((r) => toCase(r, 'property.tensor-program.large')), seed: fc.nat() }, { noNullPrototype: true }),
  precondition: ({ c }) => judgeable(c),
  programs: ({ c }) => [withBackward(c)],
  judge: ({ c, seed }, [o], engine, { dtype }) => judgeDirectional(c, o!, engine, seed, dtype),
};

export const TENSOR_PROGRAMS: AnyProperty[] = [tensorPrograms, largeTensorPrograms];
