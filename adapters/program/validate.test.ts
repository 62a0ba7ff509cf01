import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import schema from '../../spec/program.schema.json' with { type: 'json' };
import { LOSS_OPS, MULTI_OUTPUT_OPS, OP_NAMES, type Arg, type Attrs, type OpName, type Program, type Step } from '../../spec/program.ts';
import {
  MAX_ELEMENTS, MAX_STEPS, ProgramError, validateFixture, validateProgram, type Fixture, type ProgramProblem,
} from './validate.ts';
import { ONE_STEP as onestep } from './one-step.example.ts';

const program = (steps: unknown[], extra: object = {}): unknown => ({ id: 'test.program', ...extra, steps });


/** The problems a validation reports (fails the test if it reports none). */
function problems(run: () => unknown): ProgramProblem[] {
  try {
    run();
  } catch (e) {
    if (e instanceof ProgramError) return e.problems;
    throw e;
  }
  throw new Error('expected a ProgramError');
}

function expectProblem(value: unknown, path: string, message: string | RegExp): void {
  const found = problems(() => validateProgram(value));
  const match = found.some((p) => p.path === path && (typeof message === 'string' ? p.message.includes(message) : message.test(p.message)));
  expect(match, `no problem at ${path} matching ${String(message)}; got:\n${found.map((p) => `${p.path} ${p.message}`).join('\n')}`).toBe(true);
}

describe('valid programs', () => {
  test('program.schema accepts the seed document one-step example', () => {
    expect(validateProgram(onestep)).toBe(onestep);
  });

  test('program.schema accepts every step kind, nested blocks included', () => {
    const steps: Step[] = [
      { let: 'x', tensor: [[1, 2], [3, 'nan']], requiresGrad: true, dtype: 'float64' },
      { let: 'w', tensor: ['inf', '-inf', 0.5] },
      { let: 'empty', tensor: [[], []] },
      { let: 'y', op: 'sum', args: ['x'], attrs: { dim: [0, 1], keepdim: true } },
      { retainGrad: 'y' },
      { backward: 'y', gradient: [[1]], retainGraph: true, createGraph: false },
      { backward: 'y', gradient: { ref: 'y' } },
      { autogradBackward: ['y'], gradTensors: [null], retainGraph: true },
      { let: ['gx'], grad: { outputs: ['y'], inputs: ['x'], gradOutputs: ['y'], retainGraph: true, createGraph: true, allowUnused: false } },
      { noGrad: [{ let: 'z', op: 'mul', args: ['x', 2] }, { enableGrad: [{ observe: 'z', label: 'z inside' }] }, { noGrad: [] }] },
      { setGradEnabled: true },
      { inplace: 'add_', target: 'z', args: [1] },
      { inplace: 'zero_', target: 'x.grad' },
      { inplace: 'fill_', target: 'z', args: ['y'] },
      { requiresGrad_: 'w', flag: true },
      { detach_: 'z' },
      { clearGrad: 'x' },
      { observe: 'gx' },
      { observe: 'x.grad', label: 'grad of x' },
    ];
    expect(() => validateProgram(program(steps, { dtype: 'float32' }))).not.toThrow();
  });

  test('program.schema accepts every op with the attributes it uses', () => {
    const attrs: Partial<Record<OpName, Attrs>> = {
      sum: { dim: 0 }, mean: { dim: [0], keepdim: false }, reshape: { shape: [-1] }, view: { shape: [4] },
      expand: { shape: [2, 4] }, transpose: { dim0: 0, dim1: 1 }, permute: { dims: [1, 0] },
      unsqueeze: { dim: 0 }, squeeze: { dim: 0 },
      softmax: { dim: 1 }, logSoftmax: { dim: -1 }, logsumexp: { dim: [0, 1], keepdim: true },
      softplus: { beta: 2, threshold: 10 }, leakyRelu: { negativeSlope: 0.2 }, elu: { alpha: 0.5 }, gelu: { approximate: 'tanh' },
      prod: { dim: 1, keepdim: true }, cumsum: { dim: 0 }, cumprod: { dim: -1 },
      var: { dim: [0], unbiased: false, keepdim: true }, std: { unbiased: true }, norm: { p: 'inf', dim: 0, keepdim: true },
      amax: { dim: [0, 1], keepdim: true }, amin: { dim: -1 },
      clamp: { min: null, max: 1 }, clampMin: { min: 0 }, clampMax: { max: 1.5 },
      mseLoss: { reduction: 'sum' }, smoothL1Loss: { reduction: 'none', beta: 0.5 },
      select: { dim: 0, index: -1 }, narrow: { dim: 1, start: 0, length: 1 }, diagonal: { offset: 1, dim1: 1, dim2: 0 },
      unbind: { dim: 1 }, split: { splitSize: [1, 1], dim: 0 }, chunk: { chunks: 2 }, index: { items: [0, null, '...', { start: -1 }] },
      cat: { dim: -1 }, stack: { dim: 2 }, flip: { dims: [0, -1] }, roll: { shifts: [1, -2], dims: [0, 1] }, repeat: { sizes: [2, 1, 3] },
      indexSelect: { dim: 0 }, gather: { dim: 1 }, scatter: { dim: 0 }, scatterAdd: { dim: -1 }, indexAdd: { dim: 0, alpha: 2 },
    };
    // The gather family's arguments: an index (the tensor itself stands in) and a src, source, mask or value.
    const index: Partial<Record<OpName, Arg[]>> = {
      indexSelect: ['x', 'x'], gather: ['x', 'x'], scatter: ['x', 'x', 1.5], scatterAdd: ['x', 'x', 'x'], indexAdd: ['x', 'x', 'x'], maskedFill: ['x', 'x', 0],
    };
    const multi = new Set<string>(MULTI_OUTPUT_OPS);
    const binary = new Set(['add', 'sub', 'mul', 'div', 'pow', 'matmul', 'gt', 'ge', 'lt', 'le', 'eq', 'ne', 'maximum', 'minimum', ...LOSS_OPS]);
    const steps: Step[] = [{ let: 'x', tensor: [[1, 2], [3, 4]], requiresGrad: true }];
    for (const op of OP_NAMES) {
      const a = attrs[op];
      const name = `r_${op}`;
      steps.push({ let: multi.has(op) ? [name, `${name}_1`] : name, op, args: index[op] ?? (op === 'where' ? ['x', 'x', 0] : binary.has(op) ? ['x', 'x'] : op === 'cat' ? ['x', 'x', 'x'] : ['x']), ...(a ? { attrs: a } : {}) });
    }
    steps.push({ let: 'sq', op: 'squeeze', args: ['x'] }, { let: 's', op: 'sum', args: ['x'] }, { let: 'r1', op: 'roll', args: ['x'], attrs: { shifts: 3 } });
    // cat and stack take at least one tensor, and tensors only.
    expectProblem(program([steps[0]!, { let: 'c', op: 'cat', args: [] }]), '/steps/1/args', 'cat takes at least one tensor argument, got 0');
    expectProblem(program([steps[0]!, { let: 'c', op: 'stack', args: ['x', 2] }]), '/steps/1/args/1', 'must be a tensor reference: stack joins tensors, not the number 2');
    expect(() => validateProgram(program(steps))).not.toThrow();
  });

  test('program.schema binds a tuple only for max and min with a dim: two names there, one name elsewhere', () => {
    const x: Step = { let: 'x', tensor: [1.5, 2], requiresGrad: true };
    expect(() => validateProgram(program([x, { let: ['v', 'i'], op: 'max', args: ['x'], attrs: { dim: 0 } }, { let: 's', op: 'sum', args: ['v'] }]))).not.toThrow();
    expect(() => validateProgram(program([x, { let: 'v', op: 'max', args: ['x'], attrs: { dim: 0 } }]))).toThrow(/must be a list of two names for max with a dim/);
    expect(() => validateProgram(program([x, { let: ['v', 'i'], op: 'min', args: ['x'] }]))).toThrow(/must be one name: min\(\) without a dim/);
    expect(() => validateProgram(program([x, { let: ['v', 'i'], op: 'sum', args: ['x'], attrs: { dim: 0 } }]))).toThrow(/only max and min with a dim, unbind, split and chunk return a tuple/);
  });

  test('program.schema refuses a number as an operand of maximum and minimum (PyTorch takes tensors only)', () => {
    expect(() => validateProgram(program([
      { let: 't', tensor: 1.5, requiresGrad: true },
      { let: 'a', op: 'maximum', args: ['t', 2] },
    ]))).toThrow(/must be a tensor reference: maximum takes no plain numbers/);
  });

  test('program.schema refuses a loss with a number operand, an unknown reduction or a negative beta', () => {
    const x: Step = { let: 'x', tensor: [1, 2], requiresGrad: true };
    expectProblem(program([x, { let: 'y', op: 'mseLoss', args: ['x', 2] }]), '/steps/1/args/1', 'mseLoss takes no plain numbers');
    expect(() => validateProgram(program([x, { let: 'y', op: 'l1Loss', args: ['x', 'x'], attrs: { reduction: 'avg' as 'mean' } }]))).toThrow(/reduction/);
    expect(() => validateProgram(program([x, { let: 'y', op: 'smoothL1Loss', args: ['x', 'x'], attrs: { beta: -1 } }]))).toThrow(/beta/);
    expectProblem(program([x, { let: 'y', op: 'mseLoss', args: ['x', 'x'], attrs: { beta: 1 } }]), '/steps/1/attrs/beta', 'is not an attribute of mseLoss');
  });

  test('program.schema accepts numbers on either side of a binary op', () => {
    expect(() => validateProgram(program([
      { let: 't', tensor: 1.5, requiresGrad: true },
      { let: 'a', op: 'sub', args: [3, 't'] },
      { let: 'b', op: 'pow', args: ['t', -1] },
      { let: 'c', op: 'div', args: ['t.grad', 2] },
    ]))).not.toThrow();
  });

  test('program.schema file compiles with the default Ajv class in strict mode, with Observations and Fixture definitions', () => {
    const ajv = new Ajv({ strict: true });
    ajv.addSchema(schema, 'program');
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    const observations = ajv.compile({ $ref: 'program#/definitions/Observations' });
    expect(observations({ observations: [{ label: 'x.grad', none: true }], error: null })).toBe(true);
    expect(observations({
      observations: [{ label: 'y', value: [1, 'nan'], shape: [2], dtype: 'float32', requiresGrad: true, isLeaf: false,
        gradFn: 'AddBackward0', nextFunctions: ['AccumulateGrad', null], repr: 'tensor(...)', version: 0 }],
      error: { step: '4.1', category: 'freed-graph', message: 'Trying to backward through the graph a second time' },
    })).toBe(true);
    expect(observations({ observations: [], error: { step: '4', category: 'oops', message: '' } })).toBe(false);
    expect(observations({ observations: [{ label: 'x', valu: 1 }], error: null })).toBe(false);
    expect(observations({ observations: [{ label: 'x', gradFn: 3 }], error: null })).toBe(false);
    expect(ajv.getSchema('program#/definitions/Fixture')).toBeTypeOf('function');
  });
});

describe('shape problems', () => {
  test('program.schema rejects an unknown op and names its path', () => {
    expectProblem(program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'exx', args: ['x'] }]), '/steps/1/op', /must be one of "neg".*\(got "exx"\).*did you mean "exp"/);
  });

  test('program.schema rejects an unknown step key', () => {
    expectProblem(program([{ let: 'x', tensor: 1 }, { obsrve: 'x' }]), '/steps/1', /is not a step: it has the keys obsrve.*did you mean "observe"/);
  });

  test('program.schema rejects a step that mixes two kinds', () => {
    expectProblem(program([{ let: 'x', tensor: 1, op: 'exp', args: [] }]), '/steps/0', 'mixes step kinds: it has tensor and op');
  });

  test('program.schema rejects a typo\'d field, also inside a noGrad block', () => {
    expectProblem(program([{ let: 'x', tensor: 1, requiresgrad: true }]), '/steps/0/requiresgrad', /is not a known field here \(allowed: let, tensor, requiresGrad, dtype\) \(did you mean "requiresGrad"\?\)/);
    expectProblem(program([{ let: 'x', tensor: 1 }, { noGrad: [{ observe: 'x', lable: 'x' }] }]), '/steps/1/noGrad/0/lable', 'is not a known field here');
    expectProblem(program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'sum', args: ['x'], attrs: { keepDim: true } }]), '/steps/1/attrs/keepDim', 'did you mean "keepdim"');
  });

  test('program.schema rejects a missing required field and a wrong type', () => {
    expectProblem(program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'exp' }]), '/steps/1/args', 'is required');
    expectProblem(program([{ let: 'x', tensor: 1, requiresGrad: 'yes' }]), '/steps/0/requiresGrad', 'must be true or false (got "yes")');
    expectProblem({ steps: [] }, '/id', 'is required');
    expectProblem(program([], { dtype: 'float16' }), '/dtype', 'must be one of "float32", "float64"');
    expectProblem(42, '', 'must be an object (got 42)');
  });

  test('program.schema rejects bad names, refs and data scalars', () => {
    expectProblem(program([{ let: '1x', tensor: 1 }]), '/steps/0/let', 'must be a name');
    expectProblem(program([{ let: 'x', tensor: 1 }, { observe: 'x.gradd' }]), '/steps/1/observe', 'must be a reference: a name, optionally followed by ".grad" (got "x.gradd")');
    expectProblem(program([{ let: 'x', tensor: [1, 'NaN'] }]), '/steps/0/tensor/1', 'must be one of "nan", "inf", "-inf", "-0" (got "NaN")');
    expectProblem(program([{ let: 'x', tensor: [1, null] }]), '/steps/0/tensor/1', 'must be a number, a boolean, "nan", "inf", "-inf", "-0" or a list of those (got null)');
    expectProblem(program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'add', args: ['x', { ref: 'x' }] }]), '/steps/1/args/1', 'must be a tensor reference or a number (got an object)');
    expectProblem(program([{ let: 'x', tensor: 1 }, { autogradBackward: ['x'], gradTensors: [0] }]), '/steps/1/gradTensors/0', 'must be a reference or null (got 0)');
  });
});

describe('semantic problems', () => {
  test('program.schema rejects a reference to a name that no step binds', () => {
    expectProblem(program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'add', args: ['x', 'z'] }]), '/steps/1/args/1', 'refers to "z", which no step binds');
  });

  test('program.schema rejects a reference to a name bound later', () => {
    expectProblem(program([{ observe: 'y' }, { let: 'y', tensor: 1 }]), '/steps/0/observe', 'refers to "y", which is bound only later (at /steps/1/let)');
    expectProblem(program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'mul', args: ['x', 'y'] }]), '/steps/1/args/1', 'bound only later');
  });

  test('program.schema requires the base name of a .grad reference to be bound, also in nested steps', () => {
    expectProblem(program([{ noGrad: [{ inplace: 'zero_', target: 'w.grad' }] }]), '/steps/0/noGrad/0/target', 'refers to "w"');
    expectProblem(program([{ let: 'x', tensor: 1 }, { backward: 'x', gradient: { ref: 'g.grad' } }]), '/steps/1/gradient/ref', 'refers to "g"');
  });

  test('program.schema rejects a name bound twice, by leaf, op or grad steps', () => {
    expectProblem(program([{ let: 'x', tensor: 1 }, { let: 'x', op: 'exp', args: ['x'] }]), '/steps/1/let', 'binds "x" again; it is already bound at /steps/0/let');
    expectProblem(program([
      { let: 'x', tensor: 1, requiresGrad: true }, { let: 'y', op: 'exp', args: ['x'] },
      { enableGrad: [{ let: ['g', 'g'], grad: { outputs: ['y'], inputs: ['x', 'x'] } }] },
    ]), '/steps/2/enableGrad/0/let/1', 'binds "g" again');
  });

  test('program.schema rejects names the printed Python could not use', () => {
    expectProblem(program([{ let: 'lambda', tensor: 1 }]), '/steps/0/let', '"lambda" is reserved');
    expectProblem(program([{ let: 'torch', tensor: 1 }]), '/steps/0/let', '"torch" is reserved');
  });

  test('program.schema rejects ragged tensor data with the path of the first mismatch', () => {
    expectProblem(program([{ let: 'x', tensor: [[1, 2], [3]] }]), '/steps/0/tensor/1', 'has shape [1], but /steps/0/tensor/0 has shape [2]: tensor data must be rectangular');
    expectProblem(program([{ let: 'x', tensor: [[[1], [2]], [[3], 4]] }]), '/steps/0/tensor/1/1', 'is a scalar, but /steps/0/tensor/1/0 has shape [1]');
    expectProblem(program([{ let: 'x', tensor: [1, [2]] }]), '/steps/0/tensor/1', 'has shape [1], but /steps/0/tensor/0 is a scalar');
    expectProblem(program([{ let: 'x', tensor: [1, 2] }, { backward: 'x', gradient: [[1], [2, 3]] }]), '/steps/1/gradient/1', 'must be rectangular');
  });

  test('program.schema rejects the wrong number of op arguments', () => {
    const x = { let: 'x', tensor: [1, 2] };
    expectProblem(program([x, { let: 'y', op: 'exp', args: ['x', 'x'] }]), '/steps/1/args', 'exp takes 1 tensor argument, got 2');
    expectProblem(program([x, { let: 'y', op: 'mul', args: ['x'] }]), '/steps/1/args', 'mul takes 2 arguments, got 1');
    expectProblem(program([x, { let: 'y', op: 'sum', args: [] }]), '/steps/1/args', 'sum takes 1 tensor argument, got 0');
    expectProblem(program([x, { let: 'y', op: 'reshape', args: [3], attrs: { shape: [1] } }]), '/steps/1/args/0', 'must be a tensor reference: reshape applies to a tensor, not the number 3');
    expectProblem(program([x, { let: 'y', op: 'add', args: [1, 2] }]), '/steps/1/args', 'add needs at least one tensor reference');
    expectProblem(program([x, { let: 'y', op: 'matmul', args: ['x', 2] }]), '/steps/1/args/1', 'matmul takes no plain numbers');
    expectProblem(program([x, { inplace: 'zero_', target: 'x', args: [0] }]), '/steps/1/args', 'zero_ takes 0 arguments, got 1');
    expectProblem(program([x, { inplace: 'mul_', target: 'x' }]), '/steps/1/args', 'mul_ takes 1 argument, got 0');
  });

  test('program.schema rejects attributes an op does not use, and requires the ones it needs', () => {
    const x = { let: 'x', tensor: [[1, 2]] };
    expectProblem(program([x, { let: 'y', op: 'transpose', args: ['x'], attrs: { dim0: 0, dims: [1, 0] } }]), '/steps/1/attrs/dims', 'is not an attribute of transpose (transpose takes only dim0, dim1)');
    expectProblem(program([x, { let: 'y', op: 'transpose', args: ['x'], attrs: { dim0: 0 } }]), '/steps/1/attrs/dim1', 'is required by transpose');
    expectProblem(program([x, { let: 'y', op: 'unsqueeze', args: ['x'] }]), '/steps/1/attrs/dim', 'is required by unsqueeze');
    expectProblem(program([x, { let: 'y', op: 'reshape', args: ['x'] }]), '/steps/1/attrs/shape', 'is required by reshape');
    expectProblem(program([x, { let: 'y', op: 't', args: ['x'], attrs: { dim: 0 } }]), '/steps/1/attrs/dim', 't takes no attributes');
    expectProblem(program([x, { let: 'y', op: 'exp', args: ['x'], attrs: { keepdim: true } }]), '/steps/1/attrs/keepdim', 'is not an attribute of exp');
    expectProblem(program([x, { let: 'y', op: 'squeeze', args: ['x'], attrs: { dim: [0] } }]), '/steps/1/attrs/dim', 'must be a single integer for squeeze');
    expectProblem(program([x, { let: 'y', op: 'mean', args: ['x'], attrs: { keepdim: true } }]), '/steps/1/attrs/keepdim', 'needs attrs.dim');
    expectProblem(program([x, { let: 'y', op: 'sum', args: ['x'], attrs: { dim: 0.5 } }]), '/steps/1/attrs/dim', 'must be an integer or a list of integers (got 0.5)');
  });

  test('program.schema requires one grad-step name per input and matching gradient counts', () => {
    const head = [{ let: 'x', tensor: 1, requiresGrad: true }, { let: 'w', tensor: 2, requiresGrad: true }, { let: 'y', op: 'mul', args: ['x', 'w'] }];
    expectProblem(program([...head, { let: ['gx'], grad: { outputs: ['y'], inputs: ['x', 'w'] } }]), '/steps/3/let', 'has 1 name but grad.inputs has 2 tensors');
    expectProblem(program([...head, { let: ['gx'], grad: { outputs: ['y'], inputs: ['x'], gradOutputs: [null, null] } }]), '/steps/3/grad/gradOutputs', 'has 2 entries but grad.outputs has 1 tensor');
    expectProblem(program([...head, { autogradBackward: ['y'], gradTensors: [] }]), '/steps/3/gradTensors', 'has 0 entries but autogradBackward has 1 tensor');
    expectProblem(program([...head, { let: [], grad: { outputs: ['y'], inputs: [] } }]), '/steps/3/grad/inputs', 'must have at least 1 item');
  });

  test('program.schema refuses a leaf with more than 1,000,000 elements', () => {
    const big = Array.from({ length: MAX_ELEMENTS + 1 }, () => 0);
    expectProblem(program([{ let: 'x', tensor: big }]), '/steps/0/tensor', 'has 1,000,001 elements; the limit is 1,000,000');
    expect(() => validateProgram(program([{ let: 'x', tensor: big.slice(1) }]))).not.toThrow();
  });

  test('program.schema refuses data nested too deeply for the stack, clearly', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    expectProblem(program([{ let: 'x', tensor: deep }]), '', 'is nested too deeply to validate');
  });

  test('program.schema refuses more than 10,000 steps, nested ones included', () => {
    const observe = { observe: 'x' };
    const many = Array.from({ length: MAX_STEPS }, () => observe);
    expectProblem(program([{ let: 'x', tensor: 1 }, ...many]), '/steps', 'has more than 10,000 steps (nested ones included), the limit');
    expectProblem(program([{ let: 'x', tensor: 1 }, { noGrad: many.slice(1) }, observe]), '/steps', 'has more than 10,000 steps');
    expect(() => validateProgram(program([{ let: 'x', tensor: 1 }, ...many.slice(1)]))).not.toThrow();
  });
});

describe('views, indexing and in-place through views', () => {
  const x: Step = { let: 'x', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true };
  const i: Step = { let: 'i', tensor: [1, 0], dtype: 'int64' };

  test('program.schema accepts every kind of index item, indexPut_ with and without accumulate, copy_, and layout observations', () => {
    expect(() => validateProgram(program([
      x, i,
      { let: 'm', op: 'gt', args: ['x', 2] },
      { let: 'y', op: 'mul', args: ['x', 1] },
      { let: 'v', op: 'index', args: ['y'], attrs: { items: [{ start: 1, stop: 2, step: 1 }, null, '...', { ref: 'i' }] } },
      { let: 'w', op: 'index', args: ['y'], attrs: { items: [[0, 0, -1], { ref: 'm' }, {}, 1] } },
      { let: 'e', op: 'index', args: ['y'], attrs: { items: [] } },
      { let: ['a'], op: 'unbind', args: ['y'] },
      { inplace: 'copy_', target: 'v', args: ['w'] },
      { inplace: 'copy_', target: 'v', args: [2] },
      { inplace: 'indexPut_', target: 'y', args: [0], attrs: { items: [0, { start: 1 }] } },
      { inplace: 'indexPut_', target: 'y', args: ['w'], attrs: { items: [{ ref: 'i' }, [2, 2]], accumulate: true } },
      { observe: 'v', layout: true, sameStorage: 'y' },
      { observe: 'y.grad', sameStorage: 'x.grad' },
    ]))).not.toThrow();
  });

  test('program.schema binds unbind, split and chunk to a non-empty list of names, and refuses a list elsewhere', () => {
    expectProblem(program([x, { let: 'a', op: 'unbind', args: ['x'] }]), '/steps/1/let', 'must be a list of names for unbind, one per tensor it returns');
    expectProblem(program([x, { let: [], op: 'split', args: ['x'], attrs: { splitSize: 1 } }]), '/steps/1/let', 'must have at least 1 item');
    expectProblem(program([x, { let: ['a', 'b'], op: 'select', args: ['x'], attrs: { dim: 0, index: 0 } }]), '/steps/1/let', 'must be one name: only max and min with a dim, unbind, split and chunk return a tuple');
    expectProblem(program([x, { let: ['a', 'a'], op: 'chunk', args: ['x'], attrs: { chunks: 2 } }]), '/steps/1/let/1', 'binds "a" again');
  });

  test('program.schema requires the attributes of each view op and refuses others', () => {
    expectProblem(program([x, { let: 'y', op: 'select', args: ['x'], attrs: { dim: 0 } }]), '/steps/1/attrs/index', 'is required by select');
    expectProblem(program([x, { let: 'y', op: 'narrow', args: ['x'], attrs: { dim: 0, start: 0 } }]), '/steps/1/attrs/length', 'is required by narrow');
    expectProblem(program([x, { let: ['y'], op: 'split', args: ['x'] }]), '/steps/1/attrs/splitSize', 'is required by split');
    expectProblem(program([x, { let: ['y'], op: 'chunk', args: ['x'], attrs: { chunks: 1, dim: [0] } }]), '/steps/1/attrs/dim', 'must be a single integer for chunk');
    expectProblem(program([x, { let: 'y', op: 'index', args: ['x'] }]), '/steps/1/attrs/items', 'is required by index');
    expectProblem(program([x, { let: 'y', op: 'diagonal', args: ['x'], attrs: { dim0: 0 } }]), '/steps/1/attrs/dim0', 'is not an attribute of diagonal (diagonal takes only offset, dim1, dim2)');
    expectProblem(program([x, { let: 'y', op: 'contiguous', args: ['x'], attrs: { dim: 0 } }]), '/steps/1/attrs/dim', 'contiguous takes no attributes');
    expectProblem(program([x, { let: ['y'], op: 'split', args: ['x'], attrs: { splitSize: [1.5] } }]), '/steps/1/attrs/splitSize/0', 'must be an integer');
  });

  test('program.schema refuses malformed index items with their paths', () => {
    const index = (...items: unknown[]) => program([x, i, { let: 'y', op: 'index', args: ['x'], attrs: { items } }]);
    expectProblem(index({ start: 0, step: 0 }), '/steps/2/attrs/items/0/step', 'must be at least 1 (got 0)');
    expectProblem(index({ start: 0, step: -1 }), '/steps/2/attrs/items/0/step', 'must be at least 1 (got -1)');
    expectProblem(index({ begin: 0 }), '/steps/2/attrs/items/0/begin', 'is not a known field here (allowed: start, stop, step)');
    expectProblem(index({ ref: 'i', start: 0 }), '/steps/2/attrs/items/0/start', 'is not a known field here (allowed: ref)');
    expectProblem(index('..'), '/steps/2/attrs/items/0', 'must be "..." (got "..")');
    expectProblem(index(1.5), '/steps/2/attrs/items/0', 'must be an integer, null, "...", a slice object, {"ref": name} or a list of integers (got 1.5)');
    expectProblem(index([0, 0.5]), '/steps/2/attrs/items/0/1', 'must be an integer (got 0.5)');
    expectProblem(index(true), '/steps/2/attrs/items/0', 'must be an integer, null');
    expectProblem(index('...', 0, '...'), '/steps/2/attrs/items/2', 'is a second "...": an index can only have a single ellipsis');
    expectProblem(index({ ref: 'j' }), '/steps/2/attrs/items/0/ref', 'refers to "j", which no step binds');
    expectProblem(index({ ref: 'x y' }), '/steps/2/attrs/items/0/ref', 'must be a reference');
  });

  test('program.schema checks in-place arguments and indexPut_ attributes', () => {
    const y: Step = { let: 'y', op: 'mul', args: ['x', 1] };
    expectProblem(program([x, y, { inplace: 'copy_', target: 'y' }]), '/steps/2/args', 'copy_ takes 1 argument, got 0');
    expectProblem(program([x, y, { inplace: 'copy_', target: 'y', args: ['z'] }]), '/steps/2/args/0', 'refers to "z", which no step binds');
    expectProblem(program([x, y, { inplace: 'indexPut_', target: 'y', args: [1] }]), '/steps/2/attrs', 'is required by indexPut_');
    expectProblem(program([x, y, { inplace: 'mul_', target: 'y', args: [1], attrs: { items: [0] } }]), '/steps/2/attrs', 'is not used by mul_: only indexPut_ takes attrs');
    expectProblem(program([x, y, { inplace: 'indexPut_', target: 'y', args: [1], attrs: { accumulate: true } }]), '/steps/2/attrs/items', 'is required');
    expectProblem(program([x, y, { inplace: 'indexPut_', target: 'y', args: [1], attrs: { items: [0], accumulate: 1 } }]), '/steps/2/attrs/accumulate', 'must be true or false');
    expectProblem(program([x, y, i, { inplace: 'indexPut_', target: 'y', args: ['y'], attrs: { items: [{ ref: 'i' }, { start: 1 }], accumulate: true } }]),
      '/steps/3/attrs/items/1', 'must be an index tensor ({ "ref": name }) or a list of integers with accumulate: index_put_ takes index tensors only (got an object)');
    expectProblem(program([x, y, i, { inplace: 'indexPut_', target: 'y', args: [2], attrs: { items: [{ ref: 'i' }], accumulate: true } }]),
      '/steps/3/args/0', 'must be a tensor reference with accumulate: index_put_ takes a tensor of values, not the number 2');
    expectProblem(program([x, y, { inplace: 'indexPut_', target: 'y', args: [2], attrs: { items: [{ ref: 'k' }] } }]), '/steps/2/attrs/items/0/ref', 'refers to "k", which no step binds');
  });

  test('program.schema checks observe steps with layout and sameStorage', () => {
    expectProblem(program([x, { observe: 'x', sameStorage: 'q' }]), '/steps/1/sameStorage', 'refers to "q", which no step binds');
    expectProblem(program([x, { observe: 'x', layout: 1 }]), '/steps/1/layout', 'must be true or false');
    expectProblem(program([x, { observe: 'x', item: true, layout: true }]), '/steps/1/layout', 'cannot be given with item');
    expectProblem(program([x, { observe: 'x', item: true, sameStorage: 'x' }]), '/steps/1/sameStorage', 'cannot be given with item');
  });

  test('program.schema accepts layout fields in observations, and refuses them on a none observation', () => {
    const f: Fixture = {
      id: 'spec.layout', title: 'layout', source: {}, clauses: ['autograd.backward'],
      program: { id: 'spec.layout', steps: [x, { observe: 'x', layout: true, sameStorage: 'x' }] },
      expected: { observations: [{ label: 'x', stride: [3, 1], storageOffset: 0, isContiguous: true, isView: false, sharesStorage: true }], error: null },
    };
    expect(() => validateFixture(f)).not.toThrow();
    const none = { ...f, expected: { ...f.expected, observations: [{ label: 'x', none: true, stride: [1] }] } };
    expect(problems(() => validateFixture(none)).map((p) => `${p.path} ${p.message}`)).toContain('/expected/observations/0/stride must be left out when "none" is true');
    const negative = { ...f, expected: { ...f.expected, observations: [{ label: 'x', storageOffset: -1 }] } };
    expect(problems(() => validateFixture(negative)).map((p) => `${p.path} ${p.message}`)).toContain('/expected/observations/0/storageOffset must be at least 0 (got -1)');
  });
});

describe('ProgramError', () => {
  test('program.schema errors name the file and each JSON path, and keep the list', () => {
    let error: unknown;
    try {
      validateProgram(program([{ let: 'x', tensor: 1 }, { let: 'y', op: 'exx', args: ['x'] }, { observe: 'q' }]), 'fixtures/document/x.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProgramError);
    expect(error).toBeInstanceOf(Error);
    const e = error as ProgramError;
    expect(e.name).toBe('ProgramError');
    expect(e.file).toBe('fixtures/document/x.json');
    expect(e.message).toMatch(/^fixtures\/document\/x\.json: \/steps\/1\/op must be one of /);
    // Schema problems are reported first; semantic checks run on a well-formed program only.
    expect(e.problems).toHaveLength(1);
    expect(() => validateProgram(program([{ observe: 'q' }, { observe: 'r' }]), 'p.json')).toThrow(
      'p.json: /steps/0/observe refers to "q", which no step binds\np.json: /steps/1/observe refers to "r", which no step binds',
    );
  });
});

describe('fixtures', () => {
  const fixture = (): Fixture => ({
    id: 'document.one-step',
    title: 'One step of the polynomial example',
    source: { document: 'seed.md', section: '2.1', recorded: { engine: 'torch', version: '1.13.0', seed: 0, date: '2026-11-26' } },
    clauses: ['autograd.backward'],
    program: onestep,
    expected: {
      observations: [
        { label: 'y', value: 63, gradFn: 'AddBackward0', repr: 'tensor(63., grad_fn=<AddBackward0>)' },
        { label: 'x.grad', value: 93 },
      ],
      error: null,
    },
    differences: [{ label: 'y', field: 'repr', document: 'tensor(63.)', expected: { 'torch-1.13': 'tensor(63., grad_fn=<AddBackward0>)' }, reason: 'the document printed y without grad_fn' }],
  });
  const expectFixtureProblem = (value: unknown, path: string, message: string) => {
    const found = problems(() => validateFixture(value, 'f.json'));
    expect(found.map((p) => `${p.path} ${p.message}`).join('\n')).toContain(`${path} ${message}`);
  };

  test('program.schema accepts a well-formed fixture', () => {
    const f = fixture();
    expect(validateFixture(f)).toBe(f);
  });

  test('program.schema rejects fixture wrapper problems with their paths', () => {
    expectFixtureProblem({ ...fixture(), id: 'Document One' }, '/id', 'must be a dotted slug');
    expectFixtureProblem({ ...fixture(), clauses: [] }, '/clauses', 'must have at least 1 item');
    expectFixtureProblem({ ...fixture(), expected: { observations: [] } }, '/expected/error', 'is required');
    expectFixtureProblem({ ...fixture(), source: { doc: 'x' } }, '/source/doc', 'is not a known field here');
    expectFixtureProblem({ ...fixture(), differences: [{ ...fixture().differences![0]!, field: 'grad_fn' }] }, '/differences/0/field', 'must be one of "gradFn", "repr", "value", "nextFunctions"');
    const f = fixture();
    f.expected.observations[1] = { label: 'x.grad', none: true, value: 1 };
    expectFixtureProblem(f, '/expected/observations/1/value', 'must be left out when "none" is true');
  });

  test('program.schema reports program problems in a fixture under /program', () => {
    const f = fixture();
    f.program = { ...onestep, steps: [...onestep.steps, { let: 'y', op: 'exp', args: ['x'] }] };
    expectFixtureProblem(f, '/program/steps/14/let', 'binds "y" again; it is already bound at /program/steps/10/let');
    expectFixtureProblem({ ...fixture(), program: { id: 'p', steps: [{ obsrve: 'x' }] } }, '/program/steps/0', 'is not a step');
  });

  test('program.schema checks expected observations against the observe steps', () => {
    const swapped = fixture();
    swapped.expected.observations.reverse();
    expectFixtureProblem(swapped, '/expected/observations/0/label', 'is "x.grad" but observe step /program/steps/12 has label "y"');
    const short = fixture();
    short.expected.observations.pop();
    expectFixtureProblem(short, '/expected/observations', 'has 1 entry but the program runs 2 observe steps');
    const errored = fixture();
    errored.expected.error = { step: '11', category: 'freed-graph', message: '' };
    expectFixtureProblem(errored, '/expected/observations/0', 'has no observe step that runs (the program runs 0 observe steps)');
    errored.expected.error.step = '99';
    expectFixtureProblem(errored, '/expected/error/step', 'names no step of the program (got "99")');
    const unknownLabel = fixture();
    unknownLabel.differences![0]!.label = 'z';
    expectFixtureProblem(unknownLabel, '/differences/0/label', '"z" is not the label of any expected observation');
  });
});

describe('repeat steps', () => {
  const chain = (count: number, body: unknown[] = [{ let: 'y', op: 'add', args: ['y', 'x'] }]) => program([
    { let: 'x', tensor: 0.5, requiresGrad: true },
    { let: 'y', op: 'mul', args: ['x', 1] },
    { repeat: count, steps: body },
    { backward: 'y' },
    { observe: 'x.grad' },
  ]);
  const expectFixtureProblem = (value: unknown, path: string, message: string) => {
    const found = problems(() => validateFixture(value, 'f.json'));
    expect(found.map((p) => `${p.path} ${p.message}`).join('\n')).toContain(`${path} ${message}`);
  };

  test('program.schema accepts a repeat body that rebinds a name bound before it, and names first bound inside it', () => {
    expect(() => validateProgram(chain(100_000))).not.toThrow();
    expect(() => validateProgram(chain(3, [{ let: 'z', op: 'neg', args: ['y'] }, { let: 'y', op: 'add', args: ['z', 1] }, { observe: 'z', item: true }]))).not.toThrow();
    const after = chain(2, [{ let: 'z', op: 'neg', args: ['y'] }]) as { steps: unknown[] };
    after.steps.push({ observe: 'z' });
    expect(() => validateProgram(after)).not.toThrow();
  });

  test('program.schema still refuses rebinding outside a repeat body, and a body reference to a name the body binds only later', () => {
    expectProblem(program([
      { let: 'x', tensor: 1 }, { repeat: 2, steps: [{ let: 'y', op: 'neg', args: ['x'] }] }, { let: 'y', op: 'neg', args: ['x'] },
    ]), '/steps/2/let', 'binds "y" again; it is already bound at /steps/1/steps/0/let');
    expectProblem(chain(2, [{ let: 'y', op: 'add', args: ['z', 1] }, { let: 'z', op: 'neg', args: ['y'] }]),
      '/steps/2/steps/0/args/0', 'refers to "z", which is bound only later (at /steps/2/steps/1/let)');
    expectProblem(program([{ let: '_', tensor: 1 }]), '/steps/0/let', '"_" is reserved');
  });

  test('program.schema refuses a repeat count below 1, an empty body and unknown fields', () => {
    expectProblem(chain(0), '/steps/2/repeat', 'must be at least 1 (got 0)');
    expectProblem(chain(1.5), '/steps/2/repeat', 'must be an integer (got 1.5)');
    expectProblem(chain(2, []), '/steps/2/steps', 'must have at least 1 item');
    expectProblem(chain(2, [{ let: 'y', op: 'ad', args: ['y', 'x'] }]), '/steps/2/steps/0/op', 'must be one of');
    expectProblem(program([{ let: 'x', tensor: 1 }, { repeat: 2, steps: [{ observe: 'x' }], times: 3 }]), '/steps/1/times', 'is not a known field here');
  });

  test('program.schema refuses more than 1,000,000 executed steps, repeat bodies counted once per iteration', () => {
    // The 5 top-level steps (the repeat step itself included) count too.
    expect(() => validateProgram(chain(1_000_000 - 5))).not.toThrow();
    expectProblem(chain(1_000_000 - 4), '/steps', 'would execute more than 1,000,000 steps (repeat bodies counted once per iteration), the limit');
    // Nested repeats multiply: 1,001 x 1,000 body steps.
    expectProblem(chain(1001, [{ repeat: 1000, steps: [{ let: 'y', op: 'add', args: ['y', 'x'] }] }]), '/steps', 'would execute more than 1,000,000 steps');
  });

  test('program.schema places fixture observations and error paths of a repeat per iteration ("2.1.0")', () => {
    const f: Fixture = {
      id: 'spec.repeat', title: 'repeat', source: {}, clauses: ['backward.iterative'],
      program: {
        id: 'spec.repeat',
        steps: [
          { let: 'x', tensor: 1, requiresGrad: true },
          { let: 'y', op: 'mul', args: ['x', 1] },
          { repeat: 3, steps: [{ observe: 'y' }, { let: 'y', op: 'add', args: ['y', 'x'] }] },
        ],
      },
      expected: { observations: [{ label: 'y' }, { label: 'y' }], error: { step: '2.1.1', category: 'invalid-argument', message: 'Maximum call stack size exceeded' } },
    };
    expect(() => validateFixture(f)).not.toThrow();
    expectFixtureProblem({ ...f, expected: { ...f.expected, observations: [{ label: 'y' }] } }, '/expected/observations', 'has 1 entry but the program runs 2 observe steps before the error');
    expectFixtureProblem({ ...f, expected: { ...f.expected, error: { ...f.expected.error!, step: '2.3.0' } } }, '/expected/error/step', 'names no step of the program (got "2.3.0")');
    expectFixtureProblem({ ...f, expected: { ...f.expected, error: { ...f.expected.error!, step: '2' } } }, '/expected/error/step', 'names a noGrad/enableGrad block or a repeat step');
  });
});
