/**
 * jax-js 0.1.25 tests `data instanceof Float16Array` whenever it builds an array from a typed array
 * other than Float32Array, Int32Array or Uint32Array, so every float64 leaf with more than one
 * element fails on Node 20, which has no Float16Array global ("ReferenceError: Float16Array is not
 * defined"). An empty class makes that test false, which is the truth: the adapter never creates
 * float16 data. It changes nothing else and only runs where the global is missing.
 *
 * It only has to run before the first array is created.
 */
const globals = globalThis as { Float16Array?: unknown };
globals.Float16Array ??= class Float16ArrayUnavailable {};

export {};
