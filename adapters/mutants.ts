import { AccumulateGrad, OpNode } from '../engine/node.ts';
import { OPS } from '../engine/ops.ts';
import { Tensor } from '../engine/tensor.ts';
import { referenceAdapter } from './reference/index.ts';
import { runProgram } from './reference/run-program.ts';
import type { Adapter } from './types.ts';

/**
 * Deliberately broken copies of the reference engine, to prove that gradspec catches real bugs:
 * `gradspec check --engine mutant:sin-rule` must fail, on the clause the bug breaks. Each mutant
 * changes the engine only while one batch of programs runs, then restores it.
 */
interface Mutant {
  description: string;
  /** The clause the bug breaks; gradspec must report it failing. */
  breaks: string;
  apply(): () => void;
}

function swap<T extends object, K extends keyof T>(obj: T, key: K, value: T[K]): () => void {
  const old = obj[key];
  obj[key] = value;
  return () => {
    obj[key] = old;
  };
}

export const MUTANTS: Record<string, Mutant> = {
  'sin-rule': {
    description: "sin's derivative computed as sin instead of cos",
    breaks: 'op.sin',
    apply: () => swap(OPS.sin.grads[0]!, 'vjp', (g, s) => g.mul(s.self.sin())),
  },
  'pow-exponent-2': {
    description: "x.pow(n)'s derivative computed as if n were 2 (a bug found in a real JavaScript engine)",
    breaks: 'op.pow',
    apply: () => swap(OPS.powScalar.grads[0]!, 'vjp', (g, s) => g.mul(s.self.mul(2))),
  },
  'pow-tensor-exponent': {
    description: "x ** y's derivative with respect to x missing its factor y (y a tensor)",
    breaks: 'op.pow',
    apply: () => swap(OPS.pow.grads[0]!, 'vjp', (g, s) => g.mul(s.self.pow(s.other.sub(1)))),
  },
  'overwrite-grad': {
    description: '.grad overwritten by each backward pass instead of accumulated',
    breaks: 'backward.accumulate',
    apply: () => swap(AccumulateGrad.prototype, 'apply', function (this: AccumulateGrad, grad: Tensor) {
      this.variable.grad = grad.detach().clone();
      return [];
    }),
  },
  'ignore-no-grad': {
    description: 'noGrad ignored: ops record a graph whatever the grad mode',
    breaks: 'mode.no-grad',
    apply: () => swap(Tensor, 'recording', (inputs: readonly Tensor[]) => inputs.some((t) => t.requiresGrad)),
  },
  'old-mean-name': {
    description: "mean() recorded as MeanBackward1, the seed document's older PyTorch name",
    breaks: 'op.mean',
    apply: () => swap(OPS.mean, 'gradFn', 'MeanBackward1'),
  },
  'never-free': {
    description: 'saved values never freed, so a second backward without retainGraph succeeds',
    breaks: 'backward.freed-graph',
    apply: () => swap(OpNode.prototype, 'release', () => undefined),
  },
  'no-version-bump': {
    description: 'add_ writes the data but does not bump the version counter',
    breaks: 'inplace.saved-modified',
    apply: () => {
      const real = Tensor.prototype.add_;
      // The real add_ (values and history), with the counter put back: only the version is wrong.
      return swap(Tensor.prototype, 'add_', function (this: Tensor, other: number | Tensor) {
        const before = this.counter.value;
        real.call(this, other);
        this.counter.value = before;
        return this;
      });
    },
  },
};

export function mutantAdapter(name: string): Adapter | undefined {
  const mutant = MUTANTS[name];
  if (!mutant) return undefined;
  return {
    ...referenceAdapter,
    name: `mutant:${name}`,
    run: async (programs) => {
      const restore = mutant.apply();
      try {
        return programs.map(runProgram);
      } finally {
        restore();
      }
    },
  };
}
