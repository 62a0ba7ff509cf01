import { guard } from './errors.ts';
import * as F from './functional.ts';
import type { Tensor } from './tensor.ts';

/** `torch.cat(tensors, dim)`: the tensors joined along an existing dim (op.cat). */
export function cat(tensors: Tensor[], dim = 0): Tensor {
  return guard('cat', Array.isArray(tensors) ? tensors : [tensors], () => F.cat(tensors, dim));
}

/** `torch.stack(tensors, dim)`: equal-shaped tensors joined along a new dim (op.stack). */
export function stack(tensors: Tensor[], dim = 0): Tensor {
  return guard('stack', Array.isArray(tensors) ? tensors : [tensors], () => F.stack(tensors, dim));
}
