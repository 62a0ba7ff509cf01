import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, test } from 'vitest';
import type { Observations, Program } from '../../spec/program.ts';
import { ONE_STEP } from '../program/one-step.example.ts';
import { hasTorch, PYTHON } from '../testing/has-torch.ts';

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
