import { backwardFrom, gradOf, type BackwardOptions, type GradOptions } from './backward.ts';
import { Tensor } from './tensor.ts';

const list = (t: Tensor | readonly Tensor[]): readonly Tensor[] => (t instanceof Tensor ? [t] : t);

/** PyTorch's `torch.autograd`, with camelCase options. */
export const autograd = {
  /** Gradients of `outputs` with respect to `inputs`; `.grad` is never touched (grad.returns). */
  grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], options: GradOptions = {}): (Tensor | null)[] {
    return gradOf(list(outputs), list(inputs), options);
  },
  /** Backward from several tensors at once, accumulating into leaves (backward.multi-root). */
  backward(tensors: Tensor | readonly Tensor[], gradTensors?: readonly (Tensor | null)[] | Tensor, options: BackwardOptions = {}): void {
    const roots = list(tensors);
    const grads = gradTensors === undefined ? roots.map(() => null) : gradTensors instanceof Tensor ? [gradTensors] : gradTensors;
    // A shorter list is an error (run() says "got N tensors and M gradients"), as in PyTorch.
    backwardFrom(roots, grads, options);
  },
};
