import type { Program } from '../../spec/program.ts';

/** The seed document's one-step example: y = 2x^4 + x^3 + 3x^2 + 5x + 1 at x = 2. */
export const ONE_STEP: Program = {
  id: 'document.one-step',
  steps: [
    { let: 'x', tensor: 2.0, requiresGrad: true },
    { let: 'x4', op: 'pow', args: ['x', 4] },
    { let: 'a', op: 'mul', args: [2, 'x4'] },
    { let: 'x3', op: 'pow', args: ['x', 3] },
    { let: 'b', op: 'add', args: ['a', 'x3'] },
    { let: 'x2', op: 'pow', args: ['x', 2] },
    { let: 'c', op: 'mul', args: [3, 'x2'] },
    { let: 'd', op: 'add', args: ['b', 'c'] },
    { let: 'e', op: 'mul', args: [5, 'x'] },
    { let: 'f', op: 'add', args: ['d', 'e'] },
    { let: 'y', op: 'add', args: ['f', 1] },
    { backward: 'y' },
    { observe: 'y' },
    { observe: 'x.grad' },
  ],
};
