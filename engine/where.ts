import { guard } from './errors.ts';
import * as F from './functional.ts';
import type { Tensor } from './tensor.ts';

/** `torch.where(condition, a, b)`: a where the bool condition is true, b elsewhere (op.where). */
export function where(condition: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  return guard('where', [condition, a, b], () => F.where(condition, a, b));
}
