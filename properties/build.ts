import type { Arg, Attrs, Data, FloatDType, OpName, Program, Step } from '../spec/program.ts';

/** Builds a program step by step with fresh names, so generators read like the math they make. */
export class ProgramBuilder {
  readonly steps: Step[] = [];
  private count = 0;

  constructor(readonly id: string, readonly dtype: FloatDType = 'float64') {}

  private fresh(prefix: string): string {
    return `${prefix}${this.count++}`;
  }

  leaf(data: Data, requiresGrad = true, name?: string): string {
    const n = name ?? this.fresh('x');
    this.steps.push({ let: n, tensor: data, ...(requiresGrad ? { requiresGrad: true } : {}) });
    return n;
  }

  op(op: OpName, args: Arg[], attrs?: Attrs): string {
    const n = this.fresh('t');
    this.steps.push({ let: n, op, args, ...(attrs ? { attrs } : {}) });
    return n;
  }

  push(...steps: Step[]): this {
    this.steps.push(...steps);
    return this;
  }

  program(): Program {
    return { id: this.id, dtype: this.dtype, steps: [...this.steps] };
  }
}

/** Nested lists of `shape` from flat row-major values. */
export function nest(values: readonly number[], shape: readonly number[]): Data {
  if (shape.length === 0) return values[0]!;
  const step = values.length / shape[0]!;
  return Array.from({ length: shape[0]! }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}

export const numel = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);
