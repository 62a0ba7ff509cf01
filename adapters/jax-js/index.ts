import './float16-shim.ts';
import { readFileSync } from 'node:fs';
import { defaultDevice, init } from '@jax-js/jax';
import type { Adapter } from '../types.ts';
import { runProgram } from './run-program.ts';

/** The installed version, from the package's own package.json (its exports do not list it). */
function version(): string {
  const main = new URL(import.meta.resolve('@jax-js/jax'));
  return (JSON.parse(readFileSync(new URL('../package.json', main), 'utf8')) as { version: string }).version;
}

/**
 * jax-js (npm @jax-js/jax): JAX's functional transforms in JavaScript. It runs on jax-js's default
 * device, "wasm", the one meant for real work in Node; GRADSPEC_JAX_DEVICE=cpu selects the
 * interpreted JavaScript device (jax-js calls it a debugging aid), which computes float64
 * transcendental functions with JavaScript's Math where wasm uses float32-accurate kernels.
 */
export async function jaxJsAdapter(device = process.env.GRADSPEC_JAX_DEVICE ?? 'wasm'): Promise<Adapter> {
  if (device !== 'wasm' && device !== 'cpu') throw new Error(`GRADSPEC_JAX_DEVICE must be wasm or cpu (got ${device})`);
  const started = await init(device);
  if (!started.includes(device)) throw new Error(`jax-js could not start its ${device} device`);
  defaultDevice(device);
  return {
    name: 'jax-js',
    version: device === 'wasm' ? version() : `${version()} (${device})`,
    capabilities: {
      // No int64 (jax-js's integers are int32 and uint32) and no bool leaves from the adapter; its
      // comparisons still give bool arrays, reported as booleans.
      dtypes: ['float32', 'float64'],
      // Arrays have values, shapes and dtypes. requires_grad, is_leaf, grad_fn, next_functions,
      // PyTorch's printed form and version counters do not exist in jax-js, so they are not reported;
      // nor do strides or storage: the view ops (views.ts) make new arrays, so the layout fields
      // and sharesStorage are not reported either.
      fields: ['value', 'shape', 'dtype'],
      // create-graph: transforms nest (grad of grad), so gradients can be differentiated again.
      // detach: lax.stopGradient, JAX's documented counterpart. errors: jax-js refuses bad
      // shapes, dims and non-scalar grad outputs, with its own messages (hence profile jax-js).
      // Not claimed: accumulate (gradients are returned, never stored), retain-graph (no saved
      // values to free), inplace (arrays are immutable, no version counters; nothing aliases, so
      // copy_, indexPut_ and writes through views have no counterpart), no-grad (nothing is
      // recorded, so there is no grad mode: making a block's results constants would be the
      // adapter wrapping them in stopGradient, i.e. its own bookkeeping over the detach feature).
      features: ['create-graph', 'detach', 'errors'],
      profile: 'jax-js',
      language: 'pytorch',
    },
    run: async (programs) => programs.map(runProgram),
  };
}

export default jaxJsAdapter;
