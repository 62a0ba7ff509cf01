import type { GradNode } from './node.ts';
import type { Tensor } from './tensor.ts';

/**
 * What a view's grad_fn needs from views.ts (a rebuilt AsStridedBackward0, and PyTorch's refusals),
 * set when views.ts loads. A module of its own, so that tensor.ts need not import views.ts.
 */
export const viewHooks: {
  regenerate: ((view: Tensor) => GradNode) | null;
  refuse: ((view: Tensor, indirect: boolean) => never) | null;
} = { regenerate: null, refuse: null };
