import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, test } from 'vitest';
import type { Program } from '../spec/program.ts';
import { evaluate, gradientAt, programScope, secondPartialAt, symbolicGradient, symbolicVjp } from './symbolic.ts';

const fixture = (name: string): Program =>
  JSON.parse(readFileSync(new URL(`../fixtures/document/${name}.json`, import.meta.url), 'utf8')).program;

const POLY = '2x^4+x^3+3x^2+5x+1';

test('oracles.symbolic the seed polynomial at 2: value 63, first derivative 93, second 114', () => {
  expect(evaluate(POLY, { x: 2 })).toBe(63);
  expect(gradientAt(POLY, ['x'], { x: 2 })[0]).toBe(93);
  expect(secondPartialAt(POLY, 'x', 'x', { x: 2 })).toBe(114);
});

test('oracles.symbolic partials of x^2*y^3 hold the other variable constant', () => {
  const scope = { x: 3, y: 2 };
  expect(Array.from(gradientAt('x^2*y^3', ['x', 'y'], scope))).toEqual([48, 108]); // 2xy^3, 3x^2y^2
  expect(secondPartialAt('x^2*y^3', 'x', 'y', scope)).toBe(72); // 6xy^2
  expect(secondPartialAt('x^2*y^3', 'y', 'x', scope)).toBe(72);
  expect(secondPartialAt('x^2*y^3', 'y', 'y', scope)).toBe(108); // 6x^2y
  expect(gradientAt('x^2*y^3', ['z'], scope)[0]).toBe(0); // a symbol the expression does not use
});

test('oracles.symbolic the sigmoid written as 1 / (1 + exp(-x)) has derivative s(1 - s)', () => {
  for (const x of [-3, -0.5, 0, 0.3, 4]) {
    const s = 1 / (1 + Math.exp(-x));
    expect(gradientAt('(1 / (1 + exp(-x)))', ['x'], { x })[0]).toBeCloseTo(s * (1 - s), 15);
  }
});

test('oracles.symbolic relu and abs are differentiated through a step symbol away from the kink', () => {
  expect(gradientAt('max(x^2 - 1, 0)', ['x'], { x: 2 })[0]).toBe(4);
  expect(gradientAt('max(x^2 - 1, 0)', ['x'], { x: 0.5 })[0]).toBe(0);
  expect(gradientAt('abs(sin(x))', ['x'], { x: -1 })[0]).toBeCloseTo(-Math.cos(1), 15);
  expect(gradientAt('max(abs(x) - 1, 0)', ['x'], { x: -2 })[0]).toBe(-1); // nested kinks
  expect(secondPartialAt('abs(x)^3', 'x', 'x', { x: -2 })).toBe(12); // 6|x|
  expect(evaluate('max(x - 1, 0) + abs(x)', { x: -2 })).toBe(2);
});

test('oracles.symbolic at the kink relu and abs give 0, as PyTorch backward does', () => {
  expect(gradientAt('max(x, 0)', ['x'], { x: 0 })[0]).toBe(0);
  expect(gradientAt('abs(x)', ['x'], { x: 0 })[0]).toBe(0);
});

test('oracles.symbolic scopes may be Maps or objects of any prototype', () => {
  const bare = Object.assign(Object.create(null) as Record<string, number>, { x: 2 });
  expect(gradientAt(POLY, ['x'], bare)[0]).toBe(93);
  expect(gradientAt(POLY, ['x'], new Map([['x', 2]]))[0]).toBe(93);
  expect(evaluate('log(x) + sqrt(x)', { x: -1 })).toBeNaN(); // predictable: no complex numbers
});

test('oracles.symbolic the seed document programs: 93, and [[10, 16, 22], [22, 16, 10]]', () => {
  expect(Array.from(symbolicGradient(fixture('one-step'), 'y', ['x']).get('x')!)).toEqual([93]);
  const grad = symbolicGradient(fixture('multiple-steps'), 'out', ['x']).get('x')!;
  expect(Array.from(grad)).toEqual([10, 16, 22, 22, 16, 10]);
});

test('oracles.symbolic detached values are constants: d(x * x.detach())/dx = x', () => {
  const program: Program = {
    id: 'oracles.detach',
    dtype: 'float64',
    steps: [
      { let: 'x', tensor: [1.5, -2], requiresGrad: true },
      { let: 'd', op: 'detach', args: ['x'] },
      { let: 'p', op: 'mul', args: ['x', 'd'] },
      { noGrad: [{ let: 'q', op: 'exp', args: ['d'] }] },
      { let: 'r', op: 'mul', args: ['p', 'q'] },
      { let: 'out', op: 'sum', args: ['r'] },
    ],
  };
  // out = sum(x * c * exp(c)) with c = x held constant: d/dx = c * exp(c)
  const grad = symbolicGradient(program, 'out', ['x']).get('x')!;
  expect(grad[0]).toBeCloseTo(1.5 * Math.exp(1.5), 13);
  expect(grad[1]).toBeCloseTo(-2 * Math.exp(-2), 13);
  // a point moves the detached values with the leaves
  const moved = symbolicGradient(program, 'out', ['x'], new Map([['x', Float64Array.of(1, 0)]])).get('x')!;
  expect(Array.from(moved)).toEqual([Math.E, 0]);
  expect(programScope(program).get('d$d_1')).toBe(-2);
});

test('oracles.symbolic symbolicVjp weights the output elements; symbolicGradient needs one element', () => {
  const program: Program = {
    id: 'oracles.vjp',
    steps: [
      { let: 'x', tensor: [1, 2, 3] },
      { let: 'y', op: 'pow', args: ['x', 2] },
    ],
  };
  expect(Array.from(symbolicVjp(program, 'y', ['x'], [1, 0.5, -1]).get('x')!)).toEqual([2, 2, -6]);
  expect(() => symbolicGradient(program, 'y', ['x'])).toThrow(/one-element output/);
  expect(() => symbolicVjp(program, 'y', ['y'], [1, 1, 1])).toThrow(/not a leaf/);
});

test('oracles.symbolic a chain nested deeper than 120 levels is refused with a message, not a stack overflow', () => {
  const steps: Program['steps'] = [{ let: 'x', tensor: 0.1 }];
  for (let i = 1; i <= 400; i++) steps.push({ let: `y${i}`, op: 'mul', args: [i === 1 ? 'x' : `y${i - 1}`, 1.001] });
  expect(() => symbolicGradient({ id: 'oracles.deep', steps }, 'y400', ['x'])).toThrow(/nested too deeply/);
});

test('oracles.symbolic only generated arithmetic reaches mathjs: assignments, definitions and mathjs functions are refused', () => {
  for (const bad of ['x = 2', 'f(x) = x^2', 'import({})', 'evaluate("1")', 'x ? 1 : 2', '[1, 2]', 'x.y', 'simplify(x)']) {
    expect(() => evaluate(bad, { x: 1 }), bad).toThrow(/refusing|Unexpected|Parenthesis|not|Invalid|SyntaxError|Value expected/);
  }
  expect(evaluate('exp(x) + max(x, 0) * abs(x) ^ 2', { x: 1 })).toBeCloseTo(Math.E + 1);
});

test('oracles.symbolic nothing in gradspec evaluates program or fixture content as code', () => {
  const files = spawnSync('git', ['ls-files', '*.ts', '*.py', '*.js'], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) }).stdout.split('\n').filter(Boolean);
  const code = (f: string) => readFileSync(fileURLToPath(new URL(`../${f}`, import.meta.url)), 'utf8');
  // eval and the Function constructor in JavaScript; eval and exec in Python.
  const risky = (f: string) => (f.endsWith('.py') ? /\b(eval|exec)\(/ : /\beval\(|\bnew Function\(|[^.\w]Function\(/).test(code(f));
  const offenders = files.filter((f) => !f.endsWith('.test.ts') && risky(f));
  expect(offenders).toEqual([]);
});
