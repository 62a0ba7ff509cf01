import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The part of js-pytorch 0.7.2's API the adapter uses, typed here because the package is an
 * optional dependency: the adapter must typecheck on machines where it is not installed, so it is
 * loaded with a dynamic import and never imported as a type.
 */

export interface JsTensor {
  requires_grad: boolean;
  /** Nested arrays of JS numbers; a 0-d tensor does not exist, a number is stored as `[x]`. */
  readonly data: unknown[];
  /** The sizes; `[1]` for a tensor built from a bare number. */
  readonly shape: number[];
  /** The accumulated gradient: a tensor of zeros from creation on when requires_grad is set. */
  _grad?: JsTensor;
  backward(grad?: JsTensor | null): void;
  zero_grad(): void;
  add(other: JsTensor | number): JsTensor;
  sub(other: JsTensor | number): JsTensor;
  mul(other: JsTensor | number): JsTensor;
  div(other: JsTensor | number): JsTensor;
  neg(): JsTensor;
  /** A number exponent only (repeated multiplication). */
  pow(n: number): JsTensor;
  matmul(other: JsTensor): JsTensor;
  exp(): JsTensor;
  log(): JsTensor;
  sqrt(): JsTensor;
  /** One dim per call; `keepdims` repeats the reduced value along the dim (not PyTorch's keepdim). */
  sum(dim?: number, keepdims?: boolean): JsTensor;
  mean(dim?: number, keepdims?: boolean): JsTensor;
  /** Documented as swapping two consecutive dimensions. */
  transpose(dim1: number, dim2: number): JsTensor;
  reshape(shape: number[]): JsTensor;
}

export interface JsTorch {
  tensor(data: unknown, requiresGrad?: boolean): JsTensor;
  /** `div(a, b)` also takes a number as `a`, which `a.div(b)` cannot. */
  div(a: JsTensor | number, b: JsTensor | number): JsTensor;
  nn: { ReLU: new () => { forward(z: JsTensor): JsTensor } };
}

/** Loads js-pytorch; rejects with ERR_MODULE_NOT_FOUND when the optional package is missing. */
export async function loadTorch(): Promise<{ torch: JsTorch; version: string }> {
  const name = 'js-pytorch'; // a variable, so tsc does not look for the package's types
  const mod = (await import(name)) as { torch: JsTorch };
  // The package exports no ./package.json; its version is read next to the resolved entry point.
  const entry = createRequire(import.meta.url).resolve(name);
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return { torch: mod.torch, version: pkg.version };
}
