import { describe, expect, test } from 'vitest';
import { absSignNaN, brokenAtNonFinite, logNaNGradient, nanGradientToZero } from '../adapters/testing/non-finite-engines.ts';
import { referenceAdapter } from '../adapters/reference/index.ts';
import type { Adapter } from '../adapters/types.ts';
import type { Attrs, Program } from '../spec/program.ts';
import { polynomials } from './arbitraries/expressions.ts';
import { polynomialCase, polynomialGradient } from './compositions.ts';
import { ACTIVATION_VJP, judgeNonFinite, hasNonFiniteLeaf, UNARY_VJP, BINARY_VJP } from './non-finite.ts';
import { binaryProperty, unaryProperty } from './ops.ts';
import { checkProperty, formatFailure, settings, type AnyProperty } from './property.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';

/*
 * The non-finite leaves the generators draw catch bugs the finite ones cannot: each broken engine
 * (adapters/testing/non-finite-engines.ts) differs from the reference only at nan, inf or -inf, so
 * the property as it was (nonFinite: false) passes it, and the property as it is fails it with a
 * counterexample holding such a leaf, spelled "nan", "inf" or "-inf" in the repro program.
 */

// The default number of runs, fixed so that a small GRADSPEC_RUNS cannot make the failures vanish.
// The passing runs take a quarter of it to keep the suite's time: ops.test.ts runs the full
// properties on the reference, and the finite generators cannot draw what the faults need.
const RUNS = 200;
const seed = settings().seed;
const run = (p: AnyProperty, adapter: Adapter, numRuns = RUNS) => checkProperty(p, adapter, { seed, numRuns });

/** The values a leaf of the program holds, spelled as the program spells them. */
const leafScalars = (program: Program): unknown[] => program.steps.flatMap((s) => ('tensor' in s ? [s.tensor].flat(4) : []));

// gradient.polynomial as it was: the same cases with finite x only.
const polynomialWithoutNonFinite = gradientProperty('gradient.polynomial', polynomialGradient.clauses, polynomialGradient.title, polynomials().map(polynomialCase));

const CASES: { clause: string; engine: Adapter; now: AnyProperty; before: AnyProperty; leaf: RegExp }[] = [
  { clause: 'op.abs', engine: absSignNaN, now: unaryProperty('abs'), before: unaryProperty('abs', { nonFinite: false }), leaf: /^nan$/ },
  { clause: 'op.log', engine: logNaNGradient, now: unaryProperty('log'), before: unaryProperty('log', { nonFinite: false }), leaf: /^(nan|-inf)$/ },
  { clause: 'op.exp', engine: nanGradientToZero, now: unaryProperty('exp'), before: unaryProperty('exp', { nonFinite: false }), leaf: /^(nan|inf)$/ },
  {
    clause: 'op.mul', engine: brokenAtNonFinite('mul-nan-gradient-to-zero', 'mul', (_x, g) => (Number.isNaN(g) ? 0 : null)),
    now: binaryProperty('mul'), before: binaryProperty('mul', { nonFinite: false }), leaf: /^(nan|inf|-inf)$/,
  },
  {
    clause: 'backward.scalar-seed', engine: brokenAtNonFinite('pow-nan-gradient-to-zero', 'pow', (_x, g) => (Number.isNaN(g) ? 0 : null)),
    now: polynomialGradient, before: polynomialWithoutNonFinite, leaf: /^(nan|inf|-inf)$/,
  },
];

describe('non-finite leaves catch engines that are wrong only there', () => {
  test.each(CASES.map((c) => [c.clause, c.engine.name, c] as const))('%s the property with nan/inf leaves fails engine %s, the finite one passes it, the reference passes both', async (_clause, _name, c) => {
    const before = await run(c.before, c.engine, RUNS / 4);
    expect(before.status, before.message).toBe('pass');
    const reference = await run(c.now, referenceAdapter, RUNS / 4);
    expect(reference.status, reference.message).toBe('pass');
    const now = await run(c.now, c.engine);
    expect(now.status).toBe('fail');
    const program = now.programs![0]!;
    expect(hasNonFiniteLeaf(program)).toBe(true);
    expect(leafScalars(program).some((v) => typeof v === 'string' && c.leaf.test(v))).toBe(true);
    expect(now.message).toMatch(/compared exactly \(a non-finite value\)/);
    // The printed repro spells the leaves as the program format and PyTorch write them.
    const printed = formatFailure(now, c.engine.name).split('shrunk program')[1]!;
    expect(printed).toMatch(/"(nan|inf|-inf)"/);
    expect(printed).toMatch(/float\('(nan|inf|-inf)'\)/);
    expect(printed).not.toMatch(/null|NaN|Infinity/);
    // seed and path replay the shrunk counterexample.
    const replay = await checkProperty(c.now, c.engine, { seed, numRuns: RUNS, path: now.path! });
    expect(replay.status).toBe('fail');
    expect(replay.programs).toEqual(now.programs);
  });
});

/** y = op(x), out = sum(y * w): the op properties' case, at one leaf element. */
const unaryCase = (op: keyof typeof UNARY_VJP, x: string, w: number, dtype: 'float32' | 'float64'): GradientCase => ({
  program: {
    id: 'p', dtype, steps: [
      { let: 'x', tensor: [x as 'nan'], requiresGrad: true }, { let: 'y', op, args: ['x'] },
      { let: 'w', tensor: [w] }, { let: 'm', op: 'mul', args: ['y', 'w'] }, { let: 'out', op: 'sum', args: ['m'] },
    ],
  },
  out: 'out', inputs: ['x'], forward: 'y', nonFinite: { kind: 'unary', op, x: 'x', result: 'y', weights: 'w' },
});

/**
 * PyTorch 1.13 (`/usr/bin/python3`, float32 and float64 alike): `y = op(x); (y * w).sum().backward()`
 * for one-element x = nan, inf, -inf and w = 0.5: [value, x.grad] at each. The table of
 * properties/non-finite.ts must give these.
 */
const PYTORCH: Record<keyof typeof UNARY_VJP, Record<'nan' | 'inf' | '-inf', [number, number]>> = {
  neg: { nan: [NaN, -0.5], inf: [-Infinity, -0.5], '-inf': [Infinity, -0.5] },
  exp: { nan: [NaN, NaN], inf: [Infinity, Infinity], '-inf': [0, 0] },
  log: { nan: [NaN, NaN], inf: [Infinity, 0], '-inf': [NaN, -0] },
  sin: { nan: [NaN, NaN], inf: [NaN, NaN], '-inf': [NaN, NaN] },
  cos: { nan: [NaN, NaN], inf: [NaN, NaN], '-inf': [NaN, NaN] },
  tan: { nan: [NaN, NaN], inf: [NaN, NaN], '-inf': [NaN, NaN] },
  tanh: { nan: [NaN, NaN], inf: [1, 0], '-inf': [-1, 0] },
  sigmoid: { nan: [NaN, NaN], inf: [1, 0], '-inf': [0, 0] },
  relu: { nan: [NaN, 0.5], inf: [Infinity, 0.5], '-inf': [0, 0] },
  sqrt: { nan: [NaN, NaN], inf: [Infinity, 0], '-inf': [NaN, NaN] },
  abs: { nan: [NaN, 0], inf: [Infinity, 0.5], '-inf': [Infinity, -0.5] },
  reciprocal: { nan: [NaN, NaN], inf: [0, -0], '-inf': [-0, -0] },
  log1p: { nan: [NaN, NaN], inf: [Infinity, 0], '-inf': [NaN, -0] },
  expm1: { nan: [NaN, NaN], inf: [Infinity, Infinity], '-inf': [-1, 0] },
  erf: { nan: [NaN, NaN], inf: [1, 0], '-inf': [-1, 0] },
  atan: { nan: [NaN, NaN], inf: [1.5707963267948966, 0], '-inf': [-1.5707963267948966, 0] },
  asin: { nan: [NaN, NaN], inf: [NaN, NaN], '-inf': [NaN, NaN] },
  acos: { nan: [NaN, NaN], inf: [NaN, NaN], '-inf': [NaN, NaN] },
  sinh: { nan: [NaN, NaN], inf: [Infinity, Infinity], '-inf': [-Infinity, Infinity] },
  cosh: { nan: [NaN, NaN], inf: [Infinity, Infinity], '-inf': [Infinity, -Infinity] },
  asinh: { nan: [NaN, NaN], inf: [Infinity, 0], '-inf': [-Infinity, 0] },
  acosh: { nan: [NaN, NaN], inf: [Infinity, 0], '-inf': [NaN, 0] },
  atanh: { nan: [NaN, NaN], inf: [NaN, -0], '-inf': [NaN, -0] },
  rsqrt: { nan: [NaN, NaN], inf: [0, -0], '-inf': [NaN, NaN] },
  square: { nan: [NaN, NaN], inf: [Infinity, Infinity], '-inf': [Infinity, -Infinity] },
  sign: { nan: [0, 0], inf: [1, 0], '-inf': [-1, 0] },
  floor: { nan: [NaN, 0], inf: [Infinity, 0], '-inf': [-Infinity, 0] },
  ceil: { nan: [NaN, 0], inf: [Infinity, 0], '-inf': [-Infinity, 0] },
  round: { nan: [NaN, 0], inf: [Infinity, 0], '-inf': [-Infinity, 0] },
  trunc: { nan: [NaN, 0], inf: [Infinity, 0], '-inf': [-Infinity, 0] },
};

const spelled = (x: number) => (Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : x);
const observed = (value: number, grad: number) => ({
  observations: [{ label: 'forward', value: [spelled(value)], shape: [1] }, { label: 'x.grad', value: [spelled(grad)], shape: [1] }], error: null,
}) as Parameters<typeof judgeNonFinite>[1];

describe('the non-finite judge agrees with PyTorch 1.13', () => {
  for (const [op, points] of Object.entries(PYTORCH) as [keyof typeof UNARY_VJP, (typeof PYTORCH)['neg']][]) {
    test(`op.${op} at nan, inf and -inf the judge expects PyTorch's value and gradient, and rejects a wrong one`, () => {
      for (const [x, [value, grad]] of Object.entries(points)) {
        for (const dtype of ['float32', 'float64'] as const) {
          const c = unaryCase(op, x, 0.5, dtype);
          expect(judgeNonFinite(c, observed(value, grad), referenceAdapter, dtype), `${op}(${x}) ${dtype}`).toBeNull();
          const wrong = Number.isNaN(grad) ? 0 : NaN;
          expect(judgeNonFinite(c, observed(value, wrong), referenceAdapter, dtype)).toMatch(/d out \/ d x: .* disagree at element \[0\]/);
        }
      }
    });
  }

  test('op.div the binary table gives PyTorch\'s gradients at nan, inf, -inf and zero divisors (weight 0.75)', () => {
    // [a, b, dz/da, dz/db] recorded from PyTorch 1.13 for z = (a / b * 0.75).sum().
    const rows: [number, number, number, number][] = [
      [NaN, Infinity, 0, NaN], [Infinity, 0, Infinity, -Infinity], [Infinity, -0, -Infinity, -Infinity], [Infinity, Infinity, 0, NaN],
      [2, Infinity, 0, -0], [-1.5, -Infinity, -0, 0], [Infinity, 2, 0.375, -Infinity], [-Infinity, -1.5, -0.5, Infinity],
    ];
    for (const [a, b, da, db] of rows) expect(BINARY_VJP.div(a, b, 0.75)).toEqual([da, db]);
    // mul: x * 0 at x = inf has value nan, gradient 0 for x and inf for the zero.
    expect(BINARY_VJP.mul(Infinity, 0, 0.75)).toEqual([0, Infinity]);
  });

  test('op.softplus op.leaky-relu op.elu op.gelu op.silu the activation table gives PyTorch\'s gradients at nan, inf and -inf (weight 0.5)', () => {
    // d (0.5 · f(x)).sum() / dx at [nan, inf, -inf], recorded from PyTorch 1.13 on one-element
    // tensors (float32 and float64 agree; elu at nan is not specified and left out).
    const rows: [keyof typeof ACTIVATION_VJP, Attrs, [number, number, number]][] = [
      ['softplus', {}, [NaN, 0.5, 0]],
      ['softplus', { beta: 2, threshold: 1 }, [NaN, 0.5, 0]],
      ['leakyRelu', { negativeSlope: 0.2 }, [0.1, 0.5, 0.1]],
      ['elu', { alpha: 0.5 }, [NaN, 0.5, 0]],
      ['gelu', {}, [NaN, NaN, NaN]],
      ['gelu', { approximate: 'tanh' }, [NaN, NaN, NaN]],
      ['silu', {}, [NaN, NaN, NaN]],
    ];
    for (const [op, attrs, expected] of rows) {
      const got = [NaN, Infinity, -Infinity].map((t) => ACTIVATION_VJP[op](t, 0.5, attrs));
      if (op === 'elu') got[0] = NaN;
      expect(got, `${op} ${JSON.stringify(attrs)}`).toEqual(expected);
    }
  });
});
