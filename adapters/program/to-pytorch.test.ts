import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import type { Program, Step } from '../../spec/program.ts';
import { toPytorch } from './to-pytorch.ts';
import { validateProgram } from './validate.ts';
import { ONE_STEP as onestep } from './one-step.example.ts';
import { hasTorch, PYTHON } from '../testing/has-torch.ts';

function runPython(code: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(PYTHON, ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Printed Python of the steps, without the header lines. */
function body(steps: Step[], dtype?: Program['dtype']): string {
  const program = validateProgram({ id: 'test.program', ...(dtype ? { dtype } : {}), steps });
  return toPytorch(program).split('\n').slice(3).join('\n').trimEnd();
}


describe('printed Python', () => {
  test('program.pytorch-code prints the selecting ops as PyTorch spells them: max(), amax with dims, torch.maximum, clamp with None bounds, clamp_min', () => {
    expect(body([
      { let: 'x', tensor: [1, 2], requiresGrad: true },
      { let: 'a', op: 'max', args: ['x'] },
      { let: 'b', op: 'amax', args: ['x'], attrs: { dim: [0], keepdim: true } },
      { let: 'c', op: 'minimum', args: ['x', 'b'] },
      { let: 'd', op: 'clamp', args: ['x'], attrs: { min: null, max: 1 } },
      { let: 'e', op: 'clampMin', args: ['x'], attrs: { min: -0.5 } },
    ])).toBe(`x = torch.tensor([1.0, 2.0], requires_grad=True)
a = x.max()
b = x.amax(dim=(0,), keepdim=True)
c = torch.minimum(x, b)
d = x.clamp(min=None, max=1)
e = x.clamp_min(-0.5)`);
  });

  test('program.pytorch-code prints the one-step example', () => {
    expect(toPytorch(onestep)).toBe(`import torch

# program document.one-step
x = torch.tensor(2.0, requires_grad=True)
x4 = x ** 4
a = 2 * x4
x3 = x ** 3
b = a + x3
x2 = x ** 2
c = 3 * x2
d = b + c
e = 5 * x
f = d + e
y = f + 1
y.backward()
print('y', y)
print('y', y.requires_grad, y.is_leaf, type(y.grad_fn).__name__ if y.grad_fn else None)
print('x.grad', x.grad)
`);
  });

  test('program.pytorch-code prints leaves with float data, non-finite values and dtypes other than the default', () => {
    expect(body([
      { let: 'x', tensor: [[1, 2.5], ['nan', '-inf']], requiresGrad: true },
      { let: 'w', tensor: ['inf', 1e21, -0, 1e-7], dtype: 'float32' },
      { let: 'k', tensor: [], requiresGrad: false },
    ], 'float64')).toBe([
      "x = torch.tensor([[1.0, 2.5], [float('nan'), float('-inf')]], requires_grad=True, dtype=torch.float64)",
      "w = torch.tensor([float('inf'), 1e+21, -0.0, 1e-7])",
      'k = torch.tensor([], dtype=torch.float64)',
    ].join('\n'));
  });

  test('program.pytorch-code prints binary ops as Python operators, numbers on either side', () => {
    expect(body([
      { let: 't', tensor: [1, 2], requiresGrad: true },
      { let: 'm', tensor: [[1, 2], [3, 4]] },
      { let: 'a', op: 'add', args: ['t', 't'] },
      { let: 'b', op: 'sub', args: [3, 't'] },
      { let: 'c', op: 'mul', args: [2, 't'] },
      { let: 'd', op: 'div', args: ['t', 0.5] },
      { let: 'e', op: 'pow', args: ['t', -1] },
      { let: 'f', op: 'pow', args: [-2, 't'] },
      { let: 'g', op: 'matmul', args: ['m', 't'] },
      { let: 'h', op: 'mul', args: ['t.grad', 2] },
    ])).toBe([
      't = torch.tensor([1.0, 2.0], requires_grad=True)',
      'm = torch.tensor([[1.0, 2.0], [3.0, 4.0]])',
      'a = t + t',
      'b = 3 - t',
      'c = 2 * t',
      'd = t / 0.5',
      'e = t ** -1',
      'f = (-2) ** t',
      'g = m @ t',
      'h = t.grad * 2',
    ].join('\n'));
  });

  test('program.pytorch-code prints unary, reduction and shape ops as methods', () => {
    expect(body([
      { let: 'x', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true },
      { let: 'a', op: 'exp', args: ['x'] },
      { let: 'b', op: 'neg', args: ['x'] },
      { let: 'c', op: 'sum', args: ['x'] },
      { let: 'd', op: 'sum', args: ['x'], attrs: { dim: 0 } },
      { let: 'e', op: 'sum', args: ['x'], attrs: { dim: [0, 1], keepdim: true } },
      { let: 'f', op: 'mean', args: ['x'], attrs: { dim: [1] } },
      { let: 'g', op: 'reshape', args: ['x'], attrs: { shape: [3, 2] } },
      { let: 'h', op: 'view', args: ['x'], attrs: { shape: [-1] } },
      { let: 'i', op: 'transpose', args: ['x'], attrs: { dim0: 0, dim1: 1 } },
      { let: 'j', op: 't', args: ['x'] },
      { let: 'k', op: 'permute', args: ['x'], attrs: { dims: [1, 0] } },
      { let: 'l', op: 'unsqueeze', args: ['x'], attrs: { dim: 0 } },
      { let: 'm', op: 'squeeze', args: ['l'] },
      { let: 'n', op: 'squeeze', args: ['l'], attrs: { dim: 0 } },
      { let: 'o', op: 'expand', args: ['l'], attrs: { shape: [4, 2, 3] } },
      { let: 'p', op: 'clone', args: ['x'] },
      { let: 'q', op: 'detach', args: ['x'] },
      { let: 'r', op: 'reshape', args: ['c'], attrs: { shape: [] } },
    ])).toBe([
      'x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)',
      'a = x.exp()',
      'b = -x',
      'c = x.sum()',
      'd = x.sum(dim=0)',
      'e = x.sum(dim=(0, 1), keepdim=True)',
      'f = x.mean(dim=(1,))',
      'g = x.reshape(3, 2)',
      'h = x.view(-1)',
      'i = x.transpose(0, 1)',
      'j = x.t()',
      'k = x.permute(1, 0)',
      'l = x.unsqueeze(0)',
      'm = l.squeeze()',
      'n = l.squeeze(0)',
      'o = l.expand(4, 2, 3)',
      'p = x.clone()',
      'q = x.detach()',
      'r = c.reshape(())',
    ].join('\n'));
  });

  test('program.pytorch-code prints the softmax family as methods and the activations as torch.nn.functional calls with keywords', () => {
    expect(body([
      { let: 'x', tensor: [[1, 2], [3, 4]], requiresGrad: true },
      { let: 'a', op: 'softmax', args: ['x'], attrs: { dim: 1 } },
      { let: 'b', op: 'logSoftmax', args: ['x'], attrs: { dim: -1 } },
      { let: 'c', op: 'logsumexp', args: ['x'], attrs: { dim: 0 } },
      { let: 'd', op: 'logsumexp', args: ['x'], attrs: { dim: [0, 1], keepdim: true } },
      { let: 'e', op: 'softplus', args: ['x'] },
      { let: 'f', op: 'softplus', args: ['x'], attrs: { beta: 2, threshold: 10 } },
      { let: 'g', op: 'leakyRelu', args: ['x'], attrs: { negativeSlope: 0.2 } },
      { let: 'h', op: 'elu', args: ['x'], attrs: { alpha: 0.5 } },
      { let: 'i', op: 'gelu', args: ['x'], attrs: { approximate: 'tanh' } },
      { let: 'j', op: 'gelu', args: ['x'] },
      { let: 'k', op: 'silu', args: ['x'] },
    ])).toBe([
      'x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)',
      'a = x.softmax(1)',
      'b = x.log_softmax(-1)',
      'c = x.logsumexp(0)',
      'd = x.logsumexp((0, 1), keepdim=True)',
      'e = torch.nn.functional.softplus(x)',
      'f = torch.nn.functional.softplus(x, beta=2.0, threshold=10.0)',
      'g = torch.nn.functional.leaky_relu(x, negative_slope=0.2)',
      'h = torch.nn.functional.elu(x, alpha=0.5)',
      "i = torch.nn.functional.gelu(x, approximate='tanh')",
      'j = torch.nn.functional.gelu(x)',
      'k = torch.nn.functional.silu(x)',
    ].join('\n'));
  });

  test('program.pytorch-code prints backward, autograd.backward and autograd.grad with only the flags that are set', () => {
    expect(body([
      { let: 'x', tensor: [1, 2], requiresGrad: true, dtype: 'float64' },
      { let: 'w', tensor: 3, requiresGrad: true },
      { let: 'y', op: 'mul', args: ['x', 'w'] },
      { let: 'v', tensor: [1, 1] },
      { backward: 'y', gradient: [1, 0.5], retainGraph: true },
      { backward: 'y', gradient: { ref: 'v' }, createGraph: true },
      { backward: 'y', createGraph: true, retainGraph: false },
      { autogradBackward: ['y', 'w'], gradTensors: ['v', null], retainGraph: true },
      { let: ['gx'], grad: { outputs: ['y'], inputs: ['x'], gradOutputs: ['v'], retainGraph: true } },
      { let: ['gx2', 'gw'], grad: { outputs: ['y'], inputs: ['x', 'w'], gradOutputs: ['v'], createGraph: true, allowUnused: true } },
    ])).toBe([
      'x = torch.tensor([1.0, 2.0], requires_grad=True, dtype=torch.float64)',
      'w = torch.tensor(3.0, requires_grad=True)',
      'y = x * w',
      'v = torch.tensor([1.0, 1.0])',
      'y.backward(gradient=torch.tensor([1.0, 0.5], dtype=torch.float64), retain_graph=True)',
      'y.backward(gradient=v, create_graph=True)',
      'y.backward(retain_graph=False, create_graph=True)',
      'torch.autograd.backward([y, w], grad_tensors=[v, None], retain_graph=True)',
      'gx, = torch.autograd.grad([y], [x], grad_outputs=[v], retain_graph=True)',
      'gx2, gw = torch.autograd.grad([y], [x, w], grad_outputs=[v], create_graph=True, allow_unused=True)',
    ].join('\n'));
  });

  test('program.pytorch-code prints grad-mode blocks, in-place steps and observations', () => {
    expect(body([
      { let: 'x', tensor: [1, 2], requiresGrad: true },
      { let: 'z', tensor: [0, 0] },
      { noGrad: [{ inplace: 'add_', target: 'x', args: [1] }, { enableGrad: [{ observe: 'x' }] }, { noGrad: [] }] },
      { setGradEnabled: false },
      { inplace: 'fill_', target: 'z', args: [3] },
      { inplace: 'zero_', target: 'x.grad' },
      { inplace: 'mul_', target: 'z', args: ['x'] },
      { requiresGrad_: 'z' },
      { requiresGrad_: 'z', flag: false },
      { retainGrad: 'z' },
      { detach_: 'z' },
      { clearGrad: 'x' },
      { observe: 'x.grad', label: "x's grad" },
    ])).toBe([
      'x = torch.tensor([1.0, 2.0], requires_grad=True)',
      'z = torch.tensor([0.0, 0.0])',
      'with torch.no_grad():',
      '    x.add_(1)',
      '    with torch.enable_grad():',
      "        print('x', x)",
      "        print('x', x.requires_grad, x.is_leaf, type(x.grad_fn).__name__ if x.grad_fn else None)",
      '    with torch.no_grad():',
      '        pass',
      'torch.set_grad_enabled(False)',
      'z.fill_(3.0)',
      'x.grad.zero_()',
      'z.mul_(x)',
      'z.requires_grad_()',
      'z.requires_grad_(False)',
      'z.retain_grad()',
      'z.detach_()',
      'x.grad = None',
      "print('x\\'s grad', x.grad)",
    ].join('\n'));
  });
});

describe('printed Python of repeat steps and item()', () => {
  test('program.pytorch-code prints a repeat step as a for loop and an item observation as item()', () => {
    expect(body([
      { let: 'x', tensor: 0.5, requiresGrad: true },
      { let: 'y', op: 'mul', args: ['x', 1] },
      { repeat: 3, steps: [{ let: 'y', op: 'add', args: ['y', 'x'] }, { noGrad: [{ observe: 'y', item: true, label: 'v' }] }] },
      { observe: 'x' },
    ])).toBe([
      'x = torch.tensor(0.5, requires_grad=True)',
      'y = x * 1',
      'for _ in range(3):',
      '    y = y + x',
      '    with torch.no_grad():',
      "        print('v', y.item())",
      "print('x', x)",
      "print('x', x.requires_grad, x.is_leaf, type(x.grad_fn).__name__ if x.grad_fn else None)",
    ].join('\n'));
  });

  test.skipIf(!hasTorch)('program.pytorch-code of a repeat chain and item() runs under torch 1.13', () => {
    const r = runPython(toPytorch(validateProgram({
      id: 'test.repeat',
      steps: [
        { let: 'x', tensor: 0.5, requiresGrad: true },
        { let: 'y', op: 'mul', args: ['x', 1] },
        { repeat: 1000, steps: [{ let: 'y', op: 'add', args: ['y', 'x'] }] },
        { backward: 'y' },
        { observe: 'y', item: true, label: 'y.item()' },
        { observe: 'x.grad' },
      ],
    })));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe("y.item() 500.5\nx.grad tensor(1001.)\n");
  }, 90_000);
});

describe('running the printed Python', () => {
  test.skipIf(!hasTorch)('program.pytorch-code of the one-step example runs under torch 1.13 and prints y and x.grad', () => {
    const r = runPython(toPytorch(onestep));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('tensor(63., grad_fn=<AddBackward0>)');
    expect(r.stdout).toContain('tensor(93.)');
    expect(r.stdout).toContain('y True False AddBackward0');
  }, 90_000);

  test.skipIf(!hasTorch)('program.pytorch-code of every step kind is valid Python that torch 1.13 runs', () => {
    const program = validateProgram({
      id: 'test.every-step',
      dtype: 'float64',
      steps: [
        { let: 'x', tensor: [[1, 2], [3, 4]], requiresGrad: true },
        { let: 'w', tensor: 2, requiresGrad: true },
        { let: 'p', op: 'mul', args: ['x', 'w'] },
        { let: 's', op: 'sum', args: ['p'], attrs: { dim: 0 } },
        { let: 'm', op: 'mean', args: ['s'] },
        { let: 'r', op: 'sub', args: [3, 'm'] },
        { retainGrad: 'p' },
        { backward: 'r', retainGraph: true },
        { observe: 's' },
        { observe: 'm' },
        { observe: 'r' },
        { observe: 'x.grad' },
        { observe: 'p.grad' },
        { let: ['gx', 'gw'], grad: { outputs: ['r'], inputs: ['x', 'w'], createGraph: true } },
        { observe: 'gw', label: 'gw' },
        { autogradBackward: ['m'], gradTensors: [null], retainGraph: true },
        { clearGrad: 'x' },
        { backward: 's', gradient: [1, 0.5] },
        { observe: 'x.grad', label: 'x.grad again' },
        { noGrad: [{ let: 'q', op: 'exp', args: ['x'] }, { inplace: 'zero_', target: 'x.grad' }, { inplace: 'add_', target: 'q', args: [1] }] },
        { observe: 'q' },
        { let: 'd', op: 'detach', args: ['p'] },
        { requiresGrad_: 'd' },
        { observe: 'd' },
        { setGradEnabled: false },
        { let: 'off', op: 'mul', args: ['x', 2] },
        { observe: 'off' },
        { enableGrad: [{ let: 'on', op: 'mul', args: ['x', 2] }, { observe: 'on' }] },
      ],
    });
    const r = runPython(toPytorch(program));
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toContain('s True False SumBackward1');
    expect(out).toContain('m True False MeanBackward0');
    expect(out).toContain('r True False RsubBackward1');
    expect(out).toContain('x.grad tensor([[-1., -1.],\n        [-1., -1.]], dtype=torch.float64)');
    expect(out).toContain('gw tensor(-5., dtype=torch.float64, grad_fn=');
    expect(out).toContain('x.grad again tensor([[2., 1.],\n        [2., 1.]], dtype=torch.float64)');
    expect(out).toContain('q False True None');
    expect(out).toContain('d True True None');
    expect(out).toContain('off False True None');
    expect(out).toContain('on True False MulBackward0');
  }, 90_000);
});

describe('printed Python of views, indexing and in-place through views', () => {
  const VIEWS: Step[] = [
    { let: 'x', tensor: [[1, 2, 3], [4, 5, 6]], requiresGrad: true },
    { let: 'i', tensor: [1, 0], dtype: 'int64' },
    { let: 'y', op: 'mul', args: ['x', 1] },
    { let: 'v', op: 'index', args: ['y'], attrs: { items: [{ start: 1 }, null, '...', { start: 0, stop: 3, step: 2 }] } },
    { let: 'w', op: 'index', args: ['y'], attrs: { items: [{ ref: 'i' }, [0, 0]] } },
    { let: 'e', op: 'index', args: ['y'], attrs: { items: [] } },
    { let: 's', op: 'select', args: ['y'], attrs: { dim: 1, index: -1 } },
    { let: 'n', op: 'narrow', args: ['y'], attrs: { dim: 1, start: 1, length: 2 } },
    { let: 'd', op: 'diagonal', args: ['y'], attrs: { offset: 1 } },
    { let: ['a', 'b'], op: 'unbind', args: ['y'] },
    { let: ['p'], op: 'split', args: ['y'], attrs: { splitSize: 3, dim: 1 } },
    { let: ['q', 'r'], op: 'split', args: ['y'], attrs: { splitSize: [1, 2], dim: 1 } },
    { let: ['c0', 'c1'], op: 'chunk', args: ['y'], attrs: { chunks: 2 } },
    { let: 'k', op: 'contiguous', args: ['n'] },
    { inplace: 'mul_', target: 'v', args: [2] },
    { inplace: 'copy_', target: 'n', args: ['k'] },
    { inplace: 'indexPut_', target: 'y', args: [0], attrs: { items: [0, { stop: 1 }] } },
    { inplace: 'indexPut_', target: 'y', args: ['w'], attrs: { items: [{ ref: 'i' }, [2, 2]], accumulate: true } },
    { let: 't', op: 'sum', args: ['y'] },
    { backward: 't' },
    { observe: 'x.grad' },
    { observe: 'v', layout: true, sameStorage: 'y' },
    { observe: 'k', layout: true, sameStorage: 'n' },
    { observe: 'y' },
  ];

  test('program.pytorch-code prints indexing as Python subscripts, views as methods, tuple lets as unpacking, indexPut_ as assignment or index_put_', () => {
    expect(body(VIEWS).split('\n').slice(2, 20)).toEqual([
      'y = x * 1',
      'v = y[1:, None, ..., 0:3:2]',
      'w = y[i, torch.tensor([0, 0])]',
      'e = y[()]',
      's = y.select(1, -1)',
      'n = y.narrow(1, 1, 2)',
      'd = y.diagonal(offset=1)',
      'a, b = y.unbind()',
      'p, = y.split(3, dim=1)',
      'q, r = y.split([1, 2], dim=1)',
      'c0, c1 = y.chunk(2)',
      'k = n.contiguous()',
      'v.mul_(2)',
      'n.copy_(k)',
      'y[0, :1] = 0',
      'y.index_put_((i, torch.tensor([2, 2])), w, accumulate=True)',
      't = y.sum()',
      't.backward()',
    ]);
    expect(body(VIEWS)).toContain("print('v', v.stride(), v.storage_offset(), v.is_contiguous(), v._is_view())\nprint('v', v.storage().data_ptr() == y.storage().data_ptr())");
  });

  test.skipIf(!hasTorch)('program.pytorch-code of views, indexing and in-place through views runs under torch 1.13', () => {
    const r = runPython(toPytorch(validateProgram({ id: 'test.views', steps: VIEWS })));
    expect(r.status, r.stderr).toBe(0);
    // PyTorch 1.13's own output: v after mul_ is rebased on its base (AsStridedBackward0).
    expect(r.stdout).toContain('x.grad tensor([[1., 1., 1.],\n        [3., 1., 1.]])');
    expect(r.stdout).toContain('v True False AsStridedBackward0\nv (3, 3, 2) 3 False True\nv True');
    expect(r.stdout).toContain('k (2, 1) 0 True False\nk False');
    expect(r.stdout).toContain('y True False IndexPutBackward0');
  }, 90_000);
});
