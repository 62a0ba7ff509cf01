import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Observations, Program } from '../../spec/program.ts';
import { ONE_STEP } from '../program/one-step.example.ts';
import { hasTorch, PYTHON } from '../testing/has-torch.ts';
import { compareObservations } from '../../oracles/observations.ts';
import { runProgram as runReference } from '../reference/run-program.ts';
import { FIELDS } from '../types.ts';

const SCRIPT = fileURLToPath(new URL('./run_program.py', import.meta.url));

function run(programs: Program[]): Observations[] {
  const result = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(programs), encoding: 'utf8', timeout: 60_000 });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as Observations[];
}


const TWICE: Program = {
  id: 'backward-twice',
  steps: [
    { let: 'x', tensor: [1, 2, 3], requiresGrad: true },
    { let: 'm', op: 'mul', args: ['x', 2] },
    { let: 'y', op: 'sum', args: ['m'] },
    { backward: 'y' },
    { backward: 'y' },
  ],
};

const NO_GRAD: Program = {
  id: 'no-grad',
  steps: [
    { let: 'x', tensor: [1, 2], requiresGrad: true },
    { noGrad: [{ let: 'q', op: 'mul', args: ['x', 2] }, { observe: 'q' }] },
  ],
};

describe.skipIf(!hasTorch)('program.observations run_program.py', () => {
  // One PyTorch process runs the programs of every test (starting one costs about a second of CPU);
  // each test reads its own. The grad-mode test's programs keep their order: off, NO_GRAD, ONE_STEP.
  const off: Program = { id: 'grad-off', steps: [{ setGradEnabled: false }] };
  let observed: Observations[] = [];
  beforeAll(() => {
    observed = run([ONE_STEP, TWICE, off, NO_GRAD, ONE_STEP]);
  }, 60_000); // the spawn's own limit: a hook's default (10 s) is shorter than a test's

  test('program.observations runs the one-step polynomial: value 63, grad 93', () => {
    const [obs] = observed;
    expect(obs!.error).toBeNull();
    const [y, grad] = obs!.observations;
    expect(y).toMatchObject({ label: 'y', value: 63, repr: 'tensor(63., grad_fn=<AddBackward0>)', gradFn: 'AddBackward0' });
    expect(grad).toMatchObject({ label: 'x.grad', value: 93, repr: 'tensor(93.)', gradFn: null });
  });

  test('program.observations reports a second backward through a freed graph', () => {
    const obs = observed[1];
    expect(obs!.error).toMatchObject({ step: '4', category: 'freed-graph' });
    expect(obs!.error!.message).toMatch(/^Trying to backward through the graph a second time/);
  });

  test('program.observations records no graph inside noGrad, and programs do not share grad mode', () => {
    const [, obs, after] = observed.slice(2);
    expect(obs!.error).toBeNull();
    expect(obs!.observations[0]).toMatchObject({ label: 'q', requiresGrad: false, gradFn: null, isLeaf: true });
    expect(after!.observations[0]).toMatchObject({ gradFn: 'AddBackward0' });
  });
});

describe.skipIf(!hasTorch)('program.observations run_program.py: views, indexing and in-place through views', () => {
  const x: Program['steps'][number] = { let: 'x', tensor: [1, 2, 3], requiresGrad: true };
  const m: Program['steps'][number] = { let: 'm', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true };
  const programs: Program[] = [
    { id: 'through-view', steps: [
      x, { let: 'y', op: 'mul', args: ['x', 1] },
      { let: 'v', op: 'index', args: ['y'], attrs: { items: [{ start: 1 }] } },
      { inplace: 'mul_', target: 'v', args: [2] },
      { let: 's', op: 'sum', args: ['y'] }, { backward: 's' },
      { observe: 'x.grad' }, { observe: 'y' }, { observe: 'v', layout: true, sameStorage: 'y' },
    ] },
    { id: 'leaf-view', steps: [x, { let: 'v', op: 'index', args: ['x'], attrs: { items: [{ start: 1 }] } }, { inplace: 'mul_', target: 'v', args: [2] }] },
    { id: 'unbind-inplace', steps: [x, { let: 'y', op: 'mul', args: ['x', 1] }, { let: ['a', 'b', 'c'], op: 'unbind', args: ['y'] }, { inplace: 'copy_', target: 'a', args: [5] }] },
    { id: 'view-transposed', steps: [m, { let: 't', op: 't', args: ['m'] }, { let: 'v', op: 'view', args: ['t'], attrs: { shape: [6] } }] },
    { id: 'unpack-count', steps: [x, { let: ['a', 'b'], op: 'unbind', args: ['x'] }] },
    { id: 'mask-shape', steps: [m, { let: 'k', tensor: [true, false, true], dtype: 'bool' }, { let: 'v', op: 'index', args: ['m'], attrs: { items: [{ ref: 'k' }] } }] },
    { id: 'every-view', steps: [
      m, { let: 'i', tensor: [1, 1], dtype: 'int64' },
      { let: 's', op: 'select', args: ['m'], attrs: { dim: 1, index: -1 } },
      { let: 'n', op: 'narrow', args: ['m'], attrs: { dim: 1, start: 1, length: 2 } },
      { let: 'd', op: 'diagonal', args: ['m'], attrs: { offset: 1 } },
      { let: ['p', 'q'], op: 'split', args: ['m'], attrs: { splitSize: [1, 2], dim: 1 } },
      { let: ['c0', 'c1'], op: 'chunk', args: ['m'], attrs: { chunks: 2, dim: 1 } },
      { let: 'g', op: 'index', args: ['m'], attrs: { items: [{ ref: 'i' }, [0, 2]] } },
      { let: 'k', op: 'contiguous', args: ['n'] },
      { let: 'y', op: 'mul', args: ['m', 1] },
      { inplace: 'indexPut_', target: 'y', args: ['g'], attrs: { items: [[0, 0], [0, 0]], accumulate: true } },
      ...['s', 'n', 'd', 'q', 'c1', 'g', 'k', 'y'].map((r) => ({ observe: r, layout: true })),
    ] },
  ];
  // More programs for the agreement check below: strides of slices with steps and negative dims,
  // chunk giving fewer pieces, masks, views of views, a saved tensor written through a view,
  // copy_ broadcasting, an empty index list, index_put_ accumulating repeated indices.
  const more: Program[] = [
    { id: 'strided-views', steps: [
      { let: 'm', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true },
      { let: 'y', op: 'mul', args: ['m', 1] },
      { let: 's', op: 'index', args: ['y'], attrs: { items: [{ step: 2 }, -1] } },
      { let: 'd', op: 'diagonal', args: ['y'], attrs: { offset: -1 } },
      { let: ['u0', 'u1', 'u2'], op: 'unbind', args: ['y'], attrs: { dim: -1 } },
      { let: 'n', op: 'narrow', args: ['y'], attrs: { dim: -1, start: -2, length: 2 } },
      { let: 'e', op: 'index', args: ['y'], attrs: { items: ['...', null] } },
      { let: 'z', op: 'index', args: ['u0'], attrs: { items: [1] } },
      { let: 'tc', op: 'contiguous', args: ['y'] },
      { let: 'tt', op: 't', args: ['y'] },
      { let: 'tk', op: 'contiguous', args: ['tt'] },
      { observe: 's', layout: true, sameStorage: 'm' },
      { observe: 'd', layout: true, sameStorage: 'y' },
      { observe: 'u2', layout: true },
      { observe: 'n', layout: true },
      { observe: 'e', layout: true },
      { observe: 'z', layout: true, sameStorage: 'y' },
      { observe: 'tc', layout: true, sameStorage: 'y' },
      { observe: 'tk', layout: true, sameStorage: 'y' },
      { observe: 'tt', layout: true },
    ] },
    { id: 'chunk-fewer', steps: [
      { let: 'm', tensor: [1, 2, 3], requiresGrad: true },
      { let: 'y', op: 'mul', args: ['m', 1] },
      { let: ['a', 'b', 'c'], op: 'chunk', args: ['y'], attrs: { chunks: 4 } },
      { observe: 'c' },
    ] },
    { id: 'mask-put', steps: [
      { let: 'm', tensor: [[1, 2], [3, 4]], requiresGrad: true },
      { let: 'k', tensor: [[true, false], [false, true]], dtype: 'bool' },
      { let: 'y', op: 'mul', args: ['m', 2] },
      { let: 'v', op: 'index', args: ['y'], attrs: { items: [{ ref: 'k' }] } },
      { inplace: 'indexPut_', target: 'y', args: [0], attrs: { items: [{ ref: 'k' }] } },
      { let: 's', op: 'sum', args: ['y'] },
      { let: 's2', op: 'sum', args: ['v'] },
      { let: 't', op: 'add', args: ['s', 's2'] },
      { backward: 't' },
      { observe: 'm.grad' },
      { observe: 'y' },
      { observe: 'v', layout: true },
    ] },
    { id: 'view-of-view', steps: [
      { let: 'm', tensor: [[1, 2], [3, 4]], requiresGrad: true },
      { let: 'y', op: 'mul', args: ['m', 2] },
      { let: 'v', op: 'select', args: ['y'], attrs: { dim: 0, index: 1 } },
      { let: 'w', op: 'index', args: ['v'], attrs: { items: [0] } },
      { inplace: 'mul_', target: 'w', args: [3] },
      { observe: 'y' },
      { observe: 'v' },
      { observe: 'w', layout: true, sameStorage: 'y' },
      { let: 's', op: 'sum', args: ['v'] },
      { backward: 's' },
      { observe: 'm.grad' },
    ] },
    { id: 'saved-through-view', steps: [
      { let: 'm', tensor: [1, 2, 3], requiresGrad: true },
      { let: 'y', op: 'exp', args: ['m'] },
      { let: 'v', op: 'narrow', args: ['y'], attrs: { dim: 0, start: 0, length: 2 } },
      { inplace: 'mul_', target: 'v', args: [2] },
      { let: 's', op: 'sum', args: ['y'] },
      { backward: 's' },
    ] },
    { id: 'copy-broadcast', steps: [
      { let: 'm', tensor: [[1, 2], [3, 4]], requiresGrad: true },
      { let: 'y', op: 'mul', args: ['m', 2] },
      { let: 'src', tensor: [10, 20] },
      { let: 'v', op: 'index', args: ['y'], attrs: { items: [{}, 0] } },
      { inplace: 'copy_', target: 'v', args: ['src'] },
      { inplace: 'copy_', target: 'y', args: ['src'] },
      { observe: 'y' },
      { observe: 'v' },
      { let: 's', op: 'sum', args: ['y'] },
      { backward: 's' },
      { observe: 'm.grad' },
    ] },
    { id: 'empty-index-list', steps: [
      { let: 'm', tensor: [[1, 2], [3, 4]], requiresGrad: true },
      { let: 'y', op: 'mul', args: ['m', 1] },
      { let: 'v', op: 'index', args: ['y'], attrs: { items: [[]] } },
      { observe: 'v', layout: true },
    ] },
    { id: 'accumulate-repeats', steps: [
      { let: 'm', tensor: [[1, 2], [3, 4]], requiresGrad: true },
      { let: 'y', op: 'mul', args: ['m', 1] },
      { let: 'i', tensor: [1, 0], dtype: 'int64' },
      { let: 'w', tensor: [1.5, 2.5], requiresGrad: true },
      { inplace: 'indexPut_', target: 'y', args: ['w'], attrs: { items: [{ ref: 'i' }, { ref: 'i' }], accumulate: true } },
      { let: 's', op: 'mul', args: ['y', 'y'] },
      { let: 't', op: 'sum', args: ['s'] },
      { backward: 't' },
      { observe: 'y' },
      { observe: 'm.grad' },
      { observe: 'w.grad' },
    ] },
  ];
  const results = hasTorch ? run([...programs, ...more]) : [];

  test('program.observations writes through a view into its base: x.grad [1, 2, 2], CopySlices on the base, AsStridedBackward0 on the view', () => {
    const [grad, y, v] = results[0]!.observations;
    expect(results[0]!.error).toBeNull();
    expect(grad).toMatchObject({ value: [1, 2, 2] });
    expect(y).toMatchObject({ value: [1, 4, 6], gradFn: 'CopySlices' });
    expect(v).toMatchObject({ value: [4, 6], gradFn: 'AsStridedBackward0', stride: [1], storageOffset: 1, isContiguous: true, isView: true, sharesStorage: true });
  });

  test('program.observations reports PyTorch\'s refusals of in-place through views and of view() on a transposed tensor, by category', () => {
    expect(results[1]!.error).toMatchObject({ step: '2', category: 'leaf-inplace', message: 'a view of a leaf Variable that requires grad is being used in an in-place operation.' });
    expect(results[2]!.error).toMatchObject({ step: '3', category: 'leaf-inplace' });
    expect(results[2]!.error!.message).toMatch(/^Output 0 of UnbindBackward0 is a view and is being modified inplace\. This view is the output of a function that returns multiple views\./);
    expect(results[3]!.error).toMatchObject({ step: '2', category: 'shape-mismatch' });
    expect(results[3]!.error!.message).toMatch(/^view size is not compatible with input tensor's size and stride/);
    expect(results[4]!.error).toMatchObject({ step: '1', category: 'invalid-argument', message: 'too many values to unpack (expected 2)' });
    expect(results[5]!.error).toMatchObject({ step: '2', category: 'invalid-argument', message: 'The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [2, 3] at index 0' });
  });

  test('program.observations records each view op\'s grad_fn and layout', () => {
    expect(results[6]!.error).toBeNull();
    const got = results[6]!.observations.map((o) => [o.label, o.gradFn, o.stride, o.storageOffset, o.isContiguous, o.isView]);
    expect(got).toEqual([
      ['s', 'SelectBackward0', [3], 2, false, true],
      ['n', 'SliceBackward0', [3, 1], 1, false, true],
      ['d', 'DiagonalBackward0', [4], 1, false, true],
      ['q', 'SplitWithSizesBackward0', [3, 1], 1, false, true],
      ['c1', 'SplitBackward0', [3, 1], 2, false, true],
      ['g', 'IndexBackward0', [1], 0, true, false],
      ['k', 'CloneBackward0', [2, 1], 0, true, false],
      ['y', 'IndexPutBackward0', [3, 1], 0, true, false],
    ]);
    expect(results[6]!.observations[7]!.value).toEqual([[11, 2, 3], [4, 5, 6]]);
  });

  test('program.observations the reference engine, through its program runner, observes what PyTorch does on these programs', () => {
    [...programs, ...more].forEach((p, i) => expect(compareObservations(results[i]!, runReference(p), FIELDS), p.id).toEqual([]));
  });
});
