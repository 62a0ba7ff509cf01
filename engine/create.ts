import type { DType } from '../spec/program.ts';
import { fail } from './errors.ts';
import { alloc } from './kernels.ts';
import { Tensor } from './tensor.ts';

export interface TensorOptions {
  requiresGrad?: boolean;
  dtype?: DType;
}

/** Shape of nested arrays; ragged data is refused with PyTorch's message. */
function shapeOf(data: unknown): number[] {
  const shape: number[] = [];
  let level: unknown = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  const check = (node: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(node)) fail('invalid-argument', `expected a number at dim ${dim}, got a sequence`);
      if (typeof node !== 'number') fail('invalid-argument', `tensor(): expected numbers, got ${node === null ? 'null' : typeof node}`);
      return;
    }
    if (!Array.isArray(node)) fail('invalid-argument', `expected sequence of length ${shape[dim]} at dim ${dim} (got a number)`);
    if (node.length !== shape[dim]) {
      fail('invalid-argument', `expected sequence of length ${shape[dim]} at dim ${dim} (got ${node.length})`);
    }
    for (const child of node) check(child, dim + 1);
  };
  check(data, 0);
  return shape;
}

/** `torch.tensor(data, requires_grad=..., dtype=...)`: a new leaf; float32 unless told otherwise. */
export function tensor(data: number | readonly unknown[], options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') fail('invalid-argument', `unsupported dtype ${String(dtype)}`);
  const shape = shapeOf(data);
  const flat = Array.isArray(data) ? (data as unknown[]).flat(Infinity) as number[] : [data as number];
  const buffer = alloc(dtype, flat.length);
  buffer.set(flat);
  const t = new Tensor(buffer, shape, dtype);
  if (options.requiresGrad) t.requiresGrad_(true);
  return t;
}
