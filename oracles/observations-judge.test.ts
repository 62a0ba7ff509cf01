import { describe, expect, test } from 'vitest';
import type { Observation, Observations } from '../spec/program.ts';
import { compareObservations, TOLERANCE } from './observations.ts';

/*
 * The judge of fixture observations, judged: each test is a wrong engine's answer that must be
 * caught (a value just past the bound, NaN against a number, one wrong element among many, a wrong
 * field, a missing or extra observation, a wrong error) next to a right one that must pass.
 */
const FIELDS = ['value', 'shape', 'dtype', 'requiresGrad', 'isLeaf', 'gradFn', 'nextFunctions', 'repr', 'version'];

const obs = (o: Partial<Observation> & { label: string }): Observation => o as Observation;
const run = (observations: Observation[], error: Observations['error'] = null): Observations => ({ observations, error });
const judge = (expected: Observations, actual: Observations, fields = FIELDS, messages = true) =>
  compareObservations(expected, actual, fields, messages);
const values = (expected: unknown, actual: unknown, dtype: 'float32' | 'float64' = 'float64') =>
  judge(run([obs({ label: 'y', value: expected as number, dtype })]), run([obs({ label: 'y', value: actual as number, dtype })]));

describe('values', () => {
  test.each(['float32', 'float64'] as const)('program.observations %s values agree within atol + rtol * max(|a|, |e|), not beyond', (dtype) => {
    const { rtol, atol } = TOLERANCE[dtype];
    for (const e of [2, -2, 3e5]) {
      const bound = atol + rtol * Math.abs(e);
      expect(values(e, e + 0.9 * bound, dtype)).toEqual([]);
      expect(values(e, e - 0.9 * bound, dtype)).toEqual([]);
      expect(values(e, e + 1.1 * bound * (1 + rtol), dtype)).toHaveLength(1);
      expect(values(e, e - 1.1 * bound, dtype)).toHaveLength(1);
    }
  });

  test('program.observations the tolerance is the dtype\'s: float64 is tighter than float32', () => {
    expect(TOLERANCE.float64.rtol).toBeLessThanOrEqual(1e-12);
    expect(TOLERANCE.float32.rtol).toBeLessThanOrEqual(1e-5);
    expect(values(1, 1 + 1e-9, 'float64')).toHaveLength(1);
    expect(values(1, 1 + 1e-9, 'float32')).toEqual([]);
  });

  test('program.observations the engine\'s dtype picks the tolerance: float64 values labelled float64 are held to float64', () => {
    const expected = run([obs({ label: 'y', value: 1, dtype: 'float32' })]);
    expect(judge(expected, run([obs({ label: 'y', value: 1 + 1e-9, dtype: 'float64' })]), ['value'])).toHaveLength(1);
    expect(judge(run([obs({ label: 'y', value: 1 })]), run([obs({ label: 'y', value: 1 + 1e-9 })]), ['value'])).toEqual([]);
  });

  test('program.observations NaN agrees with NaN only, and infinities only with themselves', () => {
    expect(values(NaN, NaN)).toEqual([]);
    expect(values(Infinity, Infinity)).toEqual([]);
    expect(values(-Infinity, -Infinity)).toEqual([]);
    for (const [e, a] of [[NaN, 1], [1, NaN], [NaN, Infinity], [Infinity, NaN], [Infinity, -Infinity], [-Infinity, Infinity], [Infinity, 1e308], [1e308, Infinity], [-Infinity, -1e308]]) {
      expect(values(e, a), `${e} vs ${a}`).toHaveLength(1);
    }
  });

  test('program.observations every element is compared, nested or not, and a different count fails', () => {
    const e = [[1, 2, 3], [4, 5, 6]];
    expect(values(e, [[1, 2, 3], [4, 5, 6]])).toEqual([]);
    for (let i = 0; i < 6; i++) {
      const a = e.flat();
      a[i] = a[i]! + 1;
      expect(values(e, [a.slice(0, 3), a.slice(3)]), `element ${i}`).toHaveLength(1);
    }
    expect(values([1, 2], [1, 2, 3])).toHaveLength(1);
    expect(values([1, 2, 3], [1, 2])).toHaveLength(1);
    expect(values([1, 2], undefined)).toHaveLength(1);
    expect(values(5, 5)).toEqual([]);
    expect(values(5, 6)).toHaveLength(1);
  });

  test('program.observations a mismatch names the label, the field, both values, the element and the error', () => {
    const [m] = values([1, 2], [1, 3]);
    expect(m).toMatchObject({ label: 'y', field: 'value', expected: [1, 2], actual: [1, 3] });
    expect(m!.detail).toMatch(/element 1: expected 2, got 3 \(abs error 1, bound /);
  });

  test('program.observations the bound takes the larger magnitude of the two values', () => {
    // Just inside atol + rtol * |actual| but outside atol + rtol * |expected| (actual is larger).
    const { rtol, atol } = TOLERANCE.float32;
    const e = 2;
    const d = (atol + rtol * e) * (1 + rtol / 2);
    expect(values(e, e + d, 'float32')).toEqual([]);
    expect(values(e + d, e, 'float32')).toEqual([]);
  });
});

describe('other fields', () => {
  const full = obs({
    label: 'y', value: [1, 2], shape: [2], dtype: 'float64', requiresGrad: true, isLeaf: false,
    gradFn: 'MulBackward0', nextFunctions: ['AccumulateGrad', null], repr: 'tensor([1., 2.])', version: 0,
  });

  test('program.observations every stated field is compared exactly', () => {
    expect(judge(run([full]), run([{ ...full }]))).toEqual([]);
    const wrong: Record<string, unknown> = {
      shape: [1, 2], dtype: 'float32', requiresGrad: false, isLeaf: true, gradFn: 'AddBackward0',
      nextFunctions: [null, 'AccumulateGrad'], repr: 'tensor([1., 2.], grad_fn=<MulBackward0>)', version: 1,
    };
    for (const [field, v] of Object.entries(wrong)) {
      const got = judge(run([full]), run([{ ...full, [field]: v } as Observation]));
      expect(got.map((m) => [m.label, m.field]), field).toEqual([['y', field]]);
      expect(got[0]).toMatchObject({ expected: (full as unknown as Record<string, unknown>)[field], actual: v });
    }
    // A field the engine leaves out is a mismatch when the engine claims to report it.
    expect(judge(run([full]), run([{ ...full, gradFn: undefined } as unknown as Observation])).map((m) => m.field)).toEqual(['gradFn']);
  });

  test('program.observations fields the engine does not report, and fields not expected, are not compared', () => {
    expect(judge(run([full]), run([{ ...full, gradFn: 'AddBackward0', repr: 'x' }]), ['value', 'shape'])).toEqual([]);
    expect(judge(run([obs({ label: 'y', value: [1, 2] })]), run([full]))).toEqual([]);
  });

  test('program.observations none is compared first, and a missing, renamed or extra observation fails', () => {
    expect(judge(run([obs({ label: 'g', none: true })]), run([obs({ label: 'g', none: true })]))).toEqual([]);
    expect(judge(run([obs({ label: 'g', none: true })]), run([obs({ label: 'g', value: 1 })])).map((m) => m.field)).toEqual(['none']);
    expect(judge(run([obs({ label: 'g', value: 1 })]), run([obs({ label: 'g', none: true })])).map((m) => m.field)).toEqual(['none']);
    expect(judge(run([obs({ label: 'g', none: true })]), run([obs({ label: 'g', value: 1 })]))[0]).toMatchObject({ expected: true, actual: false });
    expect(judge(run([obs({ label: 'g', value: 1 })]), run([obs({ label: 'g', none: true })]))[0]).toMatchObject({ expected: false, actual: true });
    expect(judge(run([full]), run([])).map((m) => [m.field, m.actual, m.detail])).toEqual([['observation', null, 'missing observation']]);
    expect(judge(run([full]), run([{ ...full, label: 'z' }])).map((m) => [m.field, m.actual])).toEqual([['observation', 'z']]);
    expect(judge(run([full]), run([full, { ...full, label: 'z' }, { ...full, label: 'w' }])).map((m) => [m.label, m.field, m.actual, m.detail]))
      .toEqual([['z', 'observation', ['z', 'w'], 'unexpected observations']]);
    expect(judge(run([full, full]), run([full, { ...full, value: [1, 9] }])).map((m) => m.field)).toEqual(['value']);
  });
});

describe('errors', () => {
  const error = { step: '3', category: 'shape-mismatch', message: 'The size of tensor a (2) must match' } as const;

  test('program.observations an expected error matches by category, step and message prefix', () => {
    expect(judge(run([], error), run([], { ...error }))).toEqual([]);
    expect(judge(run([], error), run([], { ...error, message: `${error.message} (in add with shapes [2], [3])` }))).toEqual([]);
    for (const wrong of [{ ...error, category: 'invalid-argument' }, { ...error, step: '4' }, { ...error, message: 'something else' }, { ...error, message: 'The size' }]) {
      expect(judge(run([], error), run([], wrong as Observations['error'])).map((m) => m.field), JSON.stringify(wrong)).toEqual(['error']);
    }
  });

  test('program.observations messages are compared unless the caller says otherwise', () => {
    expect(compareObservations(run([], error), run([], { ...error, message: 'other text' }), FIELDS)).toHaveLength(1);
  });

  test('program.observations messages are not compared for engines outside the PyTorch profile; category and step still are', () => {
    expect(judge(run([], error), run([], { ...error, message: 'other text' }), FIELDS, false)).toEqual([]);
    expect(judge(run([], error), run([], { ...error, category: 'invalid-argument' }), FIELDS, false)).toHaveLength(1);
    expect(judge(run([], error), run([], { ...error, step: '1' }), FIELDS, false)).toHaveLength(1);
  });

  test('program.observations an error that did not come, or came unexpectedly, fails', () => {
    expect(judge(run([], error), run([])).map((m) => [m.label, m.field, m.detail])).toEqual([['step 3', 'error', 'expected shape-mismatch, nothing was thrown']]);
    expect(judge(run([]), run([], error)).map((m) => [m.label, m.field])).toEqual([['step 3', 'error']]);
    expect(judge(run([], error), run([], { ...error, step: '4' })).map((m) => m.label)).toEqual(['step 3']);
    expect(judge(run([]), run([]))).toEqual([]);
  });
});
