import type { DType } from '../spec/program.ts';
import { fail, guard, typeName } from './errors.ts';
import { alloc, settle } from './kernels.ts';
import { checkDims, checkElements } from './shape.ts';
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
    checkDims(shape.length); // also ends the walk down an array that contains itself
    level = level[0];
  }
  checkElements(shape.reduce((n, d) => n * d, 1));
  const check = (node: unknown, dim: number): void => {
    if (dim === shape.length) {
      if (Array.isArray(node)) fail('invalid-argument', `expected a number at dim ${dim}, got a sequence`);
      if (typeof node !== 'number' && typeof node !== 'boolean') fail('invalid-argument', `tensor(): expected numbers, got ${typeName(node)}`);
      return;
    }
    if (!Array.isArray(node)) fail('invalid-argument', `expected sequence of length ${shape[dim]} at dim ${dim} (got a number)`);
    if (node.length !== shape[dim]) {
      fail('invalid-argument', `expected sequence of length ${shape[dim]} at dim ${dim} (got ${node.length})`);
    }
    // Indexed, so that a hole in a sparse array is seen (as undefined) and refused.
    for (let i = 0; i < node.length; i++) check(node[i], dim + 1);
  };
  check(data, 0);
  return shape;
}

/**
 * `torch.tensor(data, requires_grad=..., dtype=...)`: a new leaf. JavaScript numbers do not say
 * int or float, so the dtype is float32 unless told otherwise, or bool when every element is a
 * boolean. Booleans read as 1 and 0; int64 data is truncated toward zero, bool data is nonzero.
 */
export function tensor(data: number | boolean | readonly unknown[], options?: TensorOptions): Tensor {
  return guard('tensor', [], () => {
    if (options !== undefined && options !== null && typeof options !== 'object') {
      fail('invalid-argument', `tensor(): options must be an object, not ${typeName(options)}`);
    }
    const shape = shapeOf(data);
    const flat = Array.isArray(data) ? (data as unknown[]).flat(Infinity) as (number | boolean)[] : [data as number | boolean];
    const allBool = flat.length > 0 && flat.every((v) => typeof v === 'boolean');
    const { dtype = allBool ? 'bool' : 'float32', requiresGrad = false } = options ?? {};
    if (!DTYPES.includes(dtype)) fail('invalid-argument', `unsupported dtype ${typeof dtype === 'string' ? dtype : typeName(dtype)}`);
    if (typeof requiresGrad !== 'boolean') {
      fail('invalid-argument', `tensor(): requiresGrad must be a boolean, not ${typeName(requiresGrad)}`);
    }
    if (requiresGrad && dtype !== 'float32' && dtype !== 'float64') {
      fail('invalid-argument', 'Only Tensors of floating point and complex dtype can require gradients');
    }
    const buffer = alloc(dtype, flat.length);
    buffer.set(flat.map(Number));
    settle(buffer, dtype);
    const t = new Tensor(buffer, shape, dtype);
    if (requiresGrad) t.requiresGrad_(true);
    return t;
  });
}

const DTYPES: readonly unknown[] = ['float32', 'float64', 'int64', 'bool'];
