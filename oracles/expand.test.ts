import { expect, test } from 'vitest';
import type { Program, Step } from '../spec/program.ts';
import { evaluateProgram } from './evaluate.ts';
import { expandProgram, expandWithDetached, numberLiteral } from './expand.ts';
import { evaluate, programScope, symbolicGradient } from './symbolic.ts';

const program = (steps: Step[]): Program => ({ id: 'oracles.expand', dtype: 'float64', steps });
const grad = (p: Program, leaf: string) => Array.from(symbolicGradient(p, 'out', [leaf]).get(leaf)!);

const X = [[0.5, -1, 2], [1.5, 3, -0.25]];

test('oracles.expand elements are mathjs expressions in the leaf symbols, operands parenthesised once', () => {
  const names = expandProgram(program([
    { let: 'x', tensor: [1, 2] },
    { let: 'a', op: 'mul', args: ['x', -2] },
    { let: 'b', op: 'sigmoid', args: ['a'] },
    { let: 'c', op: 'pow', args: [1e-7, 'b'] },
  ]));
  expect(names.get('x')).toEqual({ shape: [2], exprs: ['x_0', 'x_1'] });
  expect(names.get('a')!.exprs[1]).toBe('(x_1 * (-2))');
  expect(names.get('b')!.exprs[0]).toBe('(1 / (1 + exp(-(x_0 * (-2)))))');
  expect(names.get('c')!.exprs[0]).toBe('((1e-7) ^ (1 / (1 + exp(-(x_0 * (-2))))))');
  expect([numberLiteral(-0), numberLiteral(2.5), numberLiteral(1e21)]).toEqual(['(-0)', '2.5', '(1e+21)']);
});

test('oracles.expand broadcast multiply then sum: d/dx is w repeated, d/dw the column sums of x', () => {
  const p = program([
    { let: 'x', tensor: X },
    { let: 'w', tensor: [2, -3, 0.5] },
    { let: 'y', op: 'mul', args: ['x', 'w'] },
    { let: 'out', op: 'sum', args: ['y'] },
  ]);
  expect(grad(p, 'x')).toEqual([2, -3, 0.5, 2, -3, 0.5]);
  expect(grad(p, 'w')).toEqual([2, 2, 1.75]);
});

test('oracles.expand mean over a dim: d sum(m^2)/dx_ij = 2 m_i / 3', () => {
  const p = program([
    { let: 'x', tensor: X },
    { let: 'm', op: 'mean', args: ['x'], attrs: { dim: -1 } },
    { let: 'q', op: 'mul', args: ['m', 'm'] },
    { let: 'out', op: 'sum', args: ['q'] },
  ]);
  const m = X.map((row) => row.reduce((a, b) => a + b) / 3);
  const expected = X.flatMap((row, i) => row.map(() => (2 * m[i]!) / 3));
  grad(p, 'x').forEach((g, i) => expect(g).toBeCloseTo(expected[i]!, 15));
  expect(expandProgram(p).get('m')!.shape).toEqual([2]);
});

test('oracles.expand matmul 2x3 @ 3x2 then sum: row sums of B for A, column sums of A for B', () => {
  const B = [[1, 2], [-1, 0.5], [3, -2]];
  const p = program([
    { let: 'a', tensor: X },
    { let: 'b', tensor: B },
    { let: 'c', op: 'matmul', args: ['a', 'b'] },
    { let: 'out', op: 'sum', args: ['c'] },
  ]);
  expect(grad(p, 'a')).toEqual([3, -0.5, 1, 3, -0.5, 1]);
  expect(grad(p, 'b')).toEqual([2, 2, 2, 2, 1.75, 1.75]);
});

test('oracles.expand transpose, reshape and expand then a weighted sum', () => {
  const w = [1, 2, 3, 4, 5, 6];
  const p = program([
    { let: 'x', tensor: X },
    { let: 'w', tensor: w },
    { let: 't', op: 'transpose', args: ['x'], attrs: { dim0: 0, dim1: 1 } },
    { let: 'r', op: 'reshape', args: ['t'], attrs: { shape: [1, -1] } },
    { let: 'e', op: 'expand', args: ['r'], attrs: { shape: [4, -1] } },
    { let: 'y', op: 'mul', args: ['e', 'w'] },
    { let: 'out', op: 'sum', args: ['y'] },
  ]);
  // x[i][j] lands at flat position 2j + i of t, then is repeated 4 times
  expect(grad(p, 'x')).toEqual([4 * w[0]!, 4 * w[2]!, 4 * w[4]!, 4 * w[1]!, 4 * w[3]!, 4 * w[5]!]);
  expect(expandProgram(p).get('e')!.shape).toEqual([4, 6]);
});

test('oracles.expand matmul cases and shape ops follow PyTorch shapes and values', () => {
  const p = program([
    { let: 'v', tensor: [1, 2, 3] },
    { let: 'm', tensor: X },
    { let: 'b', tensor: [[[1, 0], [0, 1], [1, 1]]] },
    { let: 'dot', op: 'matmul', args: ['v', 'v'] },
    { let: 'mv', op: 'matmul', args: ['m', 'v'] },
    { let: 'vm', op: 'matmul', args: ['mv', 'm'] },
    { let: 'bmm', op: 'matmul', args: ['m', 'b'] },
    { let: 'u', op: 'unsqueeze', args: ['bmm'], attrs: { dim: -1 } },
    { let: 's', op: 'squeeze', args: ['u'] },
    { let: 'p', op: 'permute', args: ['b'], attrs: { dims: [2, 0, 1] } },
    { let: 'tt', op: 't', args: ['v'] },
    { let: 'k', op: 'sum', args: ['b'], attrs: { dim: [0, -1], keepdim: true } },
  ]);
  const shapes = expandProgram(p);
  const shape = (n: string) => shapes.get(n)!.shape;
  const values = evaluateProgram(p);
  const value = (n: string) => Array.from(values.get(n)!.values);
  expect([value('dot'), value('mv'), value('vm')]).toEqual([[14], [4.5, 6.75], [12.375, 15.75, 7.3125]]);
  expect([value('bmm'), value('p'), value('k')]).toEqual([[2.5, 1, 1.25, 2.75], [1, 0, 1, 0, 1, 1], [1, 1, 2]]);
  expect([shape('dot'), shape('mv'), shape('vm'), shape('bmm')]).toEqual([[], [2], [3], [1, 2, 2]]);
  expect([shape('u'), shape('s'), shape('p'), shape('tt'), shape('k')]).toEqual([[1, 2, 2, 1], [2, 2], [2, 1, 3], [3], [1, 3, 1]]);
});

test('oracles.expand evaluateProgram agrees with the expanded expressions on every op', () => {
  const p = program([
    { let: 'x', tensor: [[0.3, 1.2], [2.5, 0.7]] },
    { let: 'v', tensor: [0.9, -0.4] },
    { let: 'b', tensor: [[[0.1, 0.2], [0.3, 0.4]], [[-1, 1], [2, 0.5]]] },
    { let: 'a1', op: 'log', args: ['x'] },
    { let: 'a2', op: 'sqrt', args: ['x'] },
    { let: 'a3', op: 'reciprocal', args: ['a2'] },
    { let: 'a4', op: 'tan', args: ['v'] },
    { let: 'a5', op: 'relu', args: ['v'] },
    { let: 'a6', op: 'abs', args: ['v'] },
    { let: 'a7', op: 'tanh', args: ['a4'] },
    { noGrad: [{ let: 'a8', op: 'sub', args: [3, 'a1'] }] },
    { let: 'a9', op: 'div', args: ['a8', 'a6'] },
    { let: 'b1', op: 'pow', args: ['x', 'a5'] },
    { let: 'b2', op: 'pow', args: [2, 'a9'] },
    { let: 'b3', op: 'neg', args: ['b2'] },
    { let: 'b4', op: 'cos', args: ['b3'] },
    { let: 'b5', op: 'sin', args: ['b1'] },
    { let: 'c1', op: 'matmul', args: ['b', 'b5'] },
    { let: 'c2', op: 'matmul', args: ['v', 'b'] },
    { let: 'c3', op: 'matmul', args: ['b4', 'v'] },
    { let: 'd1', op: 'detach', args: ['c1'] },
    { let: 'd2', op: 'add', args: ['d1', 'c2'] },
    { let: 'd3', op: 'mean', args: ['d2'], attrs: { dim: [0, 2], keepdim: true } },
    { let: 'd4', op: 'view', args: ['d3'], attrs: { shape: [2] } },
    { let: 'd5', op: 'sigmoid', args: ['d4'] },
    { let: 'd6', op: 'mul', args: ['d5', 'c3'] },
    { let: 'd7', op: 'clone', args: ['d6'] },
    { let: 'out', op: 'mean', args: ['d7'] },
  ]);
  const { names } = expandWithDetached(p);
  const scope = programScope(p);
  const values = evaluateProgram(p);
  for (const [name, { shape, exprs }] of names) {
    const v = values.get(name)!;
    expect(v.shape, name).toEqual(shape);
    exprs.forEach((e, i) => {
      const expected = v.values[i]!;
      expect(Math.abs(evaluate(e, scope) - expected), `${name}[${i}]`).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(expected)));
    });
  }
});

test('oracles.expand overrides replace leaf values in evaluateProgram', () => {
  const p = program([{ let: 'x', tensor: [1, 2] }, { let: 'y', op: 'exp', args: ['x'] }]);
  const y = evaluateProgram(p, new Map([['x', Float64Array.of(0, 1)]])).get('y')!;
  expect(Array.from(y.values)).toEqual([1, Math.E]);
  expect(() => evaluateProgram(p, new Map([['x', Float64Array.of(0)]]))).toThrow(/override/);
});

test('oracles.expand refuses what it does not model, and expressions past the size limit', () => {
  const steps: Step[] = [{ let: 'x', tensor: 1.5 }];
  for (let i = 1; i <= 20; i++) steps.push({ let: `y${i}`, op: 'mul', args: [i === 1 ? 'x' : `y${i - 1}`, i === 1 ? 'x' : `y${i - 1}`] });
  expect(() => expandProgram(program(steps))).toThrow(/exceeds 200000 characters/);
  expect(evaluateProgram(program(steps)).get('y20')!.values[0]).toBe(Infinity); // the forward is fine
  const grads = program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'exp', args: ['x.grad'] }]);
  expect(() => expandProgram(grads)).toThrow(/not a value the oracles model/);
  expect(() => expandProgram(program([{ let: 'x', tensor: [1, 2] }, { let: 'y', op: 'view', args: ['x'], attrs: { shape: [3] } }]))).toThrow(/reshape/);
});
