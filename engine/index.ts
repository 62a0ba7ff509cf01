/**
 * gradspec's reference engine: PyTorch 1.13's autograd semantics in plain TypeScript.
 * Names mirror PyTorch in camelCase, so `y.backward(); x.grad` reads as it does in Python.
 */
export { autograd } from './autograd.ts';
export { EngineError } from './errors.ts';
export { enableGrad, isGradEnabled, noGrad, setGradEnabled } from './grad-mode.ts';
export { GradNode } from './node.ts';
export { tensor, type TensorOptions } from './create.ts';
export { Tensor } from './tensor.ts';
export { where } from './where.ts';
export { cat, stack } from './join.ts';
export { F } from './nn/index.ts';
