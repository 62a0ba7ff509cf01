import type { Adapter } from '../types.ts';
import { loadTorch } from './engine.ts';
import { runProgram } from './run-program.ts';

/**
 * js-pytorch (npm, PyTorch-like and imperative) as an in-process adapter. Loaded on demand: the
 * package is an optional dependency, so a missing install surfaces as ERR_MODULE_NOT_FOUND here.
 *
 * Capabilities, from reading the engine's source (dist/index.mjs):
 * - dtypes: float64 only. Tensors hold plain JS numbers; there is no dtype and no float32
 *   rounding, so leaves asking for float32 are refused rather than silently run in float64.
 * - fields: value, shape, dtype (always float64) and requiresGrad (`requires_grad`, propagated by
 *   ops as in PyTorch). There is no is_leaf, grad_fn name, repr in PyTorch's form or version.
 * - features: `accumulate` (every backward adds into `.grad`; `zero_grad()` zeroes it) and
 *   `errors` (the engine throws for shape mismatches, bad dims and backward of a tensor that does
 *   not require grad). Not: no-grad (no grad modes), detach (no detach), inplace (no in-place ops,
 *   no version counter), retain-graph (graphs are never freed), create-graph (no higher order).
 */
export default async function jsPytorchAdapter(): Promise<Adapter> {
  const { torch, version } = await loadTorch();
  return {
    name: 'js-pytorch',
    version,
    capabilities: {
      dtypes: ['float64'],
      fields: ['value', 'shape', 'dtype', 'requiresGrad'],
      features: ['accumulate', 'errors'],
      profile: 'js-pytorch',
      language: 'pytorch',
    },
    run: async (programs) => programs.map((p) => runProgram(torch, p)),
  };
}
