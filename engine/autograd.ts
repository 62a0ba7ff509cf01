import { backwardFrom, gradOf, tensorList, type BackwardOptions, type GradOptions } from './backward.ts';
import { guard } from './errors.ts';
import type { Tensor } from './tensor.ts';

/** PyTorch's `torch.autograd`, with camelCase options. A single tensor stands for a list of one. */
export const autograd = {
  /** Gradients of `outputs` with respect to `inputs`; `.grad` is never touched (grad.returns). */
  grad(outputs: Tensor | readonly Tensor[], inputs: Tensor | readonly Tensor[], options?: GradOptions): (Tensor | null)[] {
    return guard('autograd.grad', [outputs, inputs, options?.gradOutputs], () => gradOf(outputs as Tensor[], inputs as Tensor[], options));
  },
  /** Backward from several tensors at once, accumulating into leaves (backward.multi-root). */
  backward(tensors: Tensor | readonly Tensor[], gradTensors?: readonly (Tensor | null)[] | Tensor | null, options?: BackwardOptions): void {
    guard('autograd.backward', [tensors, gradTensors], () => {
      const roots = tensorList(tensors, 'autograd.backward', 'tensors') as Tensor[];
      const grads = gradTensors === undefined || gradTensors === null ? roots.map(() => null) : tensorList(gradTensors, 'autograd.backward', 'gradTensors', true);
      // A shorter list is an error (run() says "got N tensors and M gradients"), as in PyTorch.
      backwardFrom(roots, grads, options, 'autograd.backward');
    });
  },
};
