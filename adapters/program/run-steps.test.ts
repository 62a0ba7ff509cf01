import { describe, expect, test } from 'vitest';
import type { Step } from '../../spec/program.ts';
import { runSteps, type Exec } from './run-steps.ts';

/** Records the path of every step the walk hands to the engine. */
function trace(steps: Step[], fail?: (step: Step, path: string) => void) {
  const seen: string[] = [];
  const exec: Exec = (step, path, run) => {
    seen.push(path);
    fail?.(step, path);
    if ('noGrad' in step) run(step.noGrad, path);
  };
  const error = runSteps(steps, exec, (e) => (e instanceof TypeError ? { category: 'shape-mismatch', message: e.message } : null));
  return { seen, error };
}

const chain: Step[] = [
  { let: 'x', tensor: 1, requiresGrad: true },
  { repeat: 2, steps: [{ let: 'x', op: 'neg', args: ['x'] }, { noGrad: [{ observe: 'x' }] }] },
  { backward: 'x' },
];

describe('the shared step walk', () => {
  test('backward.iterative a repeat body runs once per iteration, its paths carrying the iteration', () => {
    expect(trace(chain).seen).toEqual(['0', '1.0.0', '1.0.1', '1.0.1.0', '1.1.0', '1.1.1', '1.1.1.0', '2']);
  });

  test('backward.iterative an error inside a repeat body stops the walk with its path', () => {
    const { seen, error } = trace(chain, (_, path) => { if (path === '1.1.1.0') throw new TypeError('bad'); });
    expect(error).toEqual({ step: '1.1.1.0', category: 'shape-mismatch', message: 'bad' });
    expect(seen.at(-1)).toBe('1.1.1.0');
  });

  test('backward.iterative an engine that exhausts the call stack fails the step; other errors it cannot classify are rethrown', () => {
    const deep = (n: number): number => (n === 0 ? 0 : 1 + deep(n - 1));
    const { error } = trace(chain, (step) => { if ('backward' in step) deep(1e9); });
    expect(error).toEqual({ step: '2', category: 'invalid-argument', message: 'Maximum call stack size exceeded' });
    expect(() => trace(chain, (step) => { if ('backward' in step) throw new RangeError('Invalid array length'); })).toThrow('Invalid array length');
  });
});
