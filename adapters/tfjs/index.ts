import type { Adapter } from '../types.ts';
import { loadTfjs } from './load-tfjs.ts';
import { runProgram } from './run-program.ts';

/**
 * TensorFlow.js (tfjs-core + the pure-JavaScript CPU backend) as an in-process adapter.
 *
 * Capabilities, and why:
 * - dtypes: float32 only; tfjs has no float64 ("Unknown data type float64"). The harness reports
 *   float64 fixtures as not applicable and runs properties in float32; a float64 leaf that still
 *   arrives is refused with invalid-argument "not supported by tfjs: float64". Nor int64: tfjs
 *   has int32, which would report another dtype and wrap at 2^31, so int64 checks are n/a too.
 *   Comparisons give tfjs bool tensors, read as 0/1 and reported as booleans.
 * - fields: value, shape, dtype. tfjs tensors have no requires_grad, is_leaf, grad_fn, printed
 *   form in PyTorch's format, or version counter.
 * - create-graph: tfjs differentiates gradients again (tf.grads nested in a gradient function),
 *   though not through every op (tensorflow/tfjs#3252: exp, sigmoid, tanh reuse their output).
 * - detach: through tfjs's documented workaround for its missing stop_gradient, tf.customGrad
 *   with a zero gradient; it is an engine mechanism, but unlike PyTorch's detach the result stays
 *   connected to its input (a zero gradient where PyTorch has none).
 * - errors: tfjs refuses bad shapes, dims and gradients with its own messages, which the adapter
 *   maps to the spec's categories (errors.ts); the messages are tfjs's, not PyTorch's.
 * - views: select, narrow, unbind, split, chunk, contiguous and indexing map to tfjs's slice,
 *   unstack, split, stridedSlice and gather (views.ts), which copy: tfjs tensors have no storage.
 *   So the fields stride, storageOffset, isContiguous, isView and sharesStorage are not
 *   reported, and writes through a view are not claimed (inplace, below).
 * Not claimed: accumulate (tfjs returns gradients and never stores or adds them into `.grad`),
 * retain-graph (no graph is kept between calls: each gradient call re-runs its function), no-grad
 * (no grad mode: only what runs inside a gradient function is recorded), inplace (tfjs tensors
 * are immutable; no version counter; nothing aliases, so copy_, indexPut_ and any write through a
 * view have no counterpart).
 */
const tf = await loadTfjs();

export const adapter: Adapter = {
  name: 'tfjs',
  version: tf.version_core,
  capabilities: {
    dtypes: ['float32'],
    fields: ['value', 'shape', 'dtype'],
    features: ['create-graph', 'detach', 'errors'],
    profile: `tfjs-${tf.version_core}`,
    language: 'pytorch',
  },
  run: async (programs) => programs.map(runProgram),
};
export default adapter;
