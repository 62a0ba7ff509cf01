import fc from 'fast-check';
import { compareGradient } from '../oracles/compare.ts';
import { expandProgram } from '../oracles/expand.ts';
import { programScope, secondPartialAt } from '../oracles/symbolic.ts';
import { LOSS_OPS, REDUCTIONS, type Attrs, type FloatDType, type Program } from '../spec/program.ts';
import { asLeafValue } from './arbitraries/edges.ts';
import { ordinary } from './arbitraries/numbers.ts';
import { nest, ProgramBuilder } from './build.ts';
import { judgeable, type GradientCase } from './gradient.ts';
import { errorOf, find, flat } from './observed.ts';
import { LOSS_SLUGS } from './ops.ts';
import type { Property } from './property.ts';

/*
 * Second derivatives of the losses through createGraph: g = grad(out, x, createGraph), then
 * grad(sum(g · u), [x, y]) is the Hessian of out times u, judged element by element against
 * mathjs's second partials of out. Few elements (up to 3), since each pair of leaves is one
 * second partial. Smooth L1's second derivative jumps at |x - y| = beta and at x = y its mathjs
 * form (abs as d·sign(d)) says 0 where PyTorch says 1/beta: the precondition keeps samples 1e-3
 * away from both (judgeable), and fixtures/spec/op.smooth-l1-loss.second-order.json pins them.
 */

interface LossCase extends GradientCase { n: number; u: number[] }

/** The differentiable inputs: crossEntropy's target is an int64 class index, the others' a tensor like the input. */
const inputsOf = (op: (typeof LOSS_OPS)[number]): string[] => (op === 'crossEntropy' ? ['x'] : ['x', 'y']);

const dtypes = fc.constantFrom<FloatDType>('float64', 'float32');
const nonzero = () => fc.integer({ min: -192, max: 191 }).map((i) => (i >= 0 ? i + 1 : i) / 64);

function lossCases(op: (typeof LOSS_OPS)[number]): fc.Arbitrary<LossCase> {
  // binary_cross_entropy: probabilities inside (0, 1), targets in [0, 1].
  const xs = op === 'binaryCrossEntropy' ? fc.integer({ min: 1, max: 63 }).map((i) => i / 64) : ordinary();
  const ys = op === 'binaryCrossEntropy' || op === 'binaryCrossEntropyWithLogits' ? fc.integer({ min: 0, max: 64 }).map((i) => i / 64) : ordinary();
  const betas = op === 'smoothL1Loss' ? fc.constantFrom<number | undefined>(undefined, 0.5, 2) : fc.constant(undefined);
  // crossEntropy: n logits of one sample (at least 2 classes) and a class index among them.
  const classes = op === 'crossEntropy' ? fc.integer({ min: 2, max: 3 }) : fc.integer({ min: 1, max: 3 });
  return classes.chain((n) => fc.tuple(
    fc.array(xs, { minLength: n, maxLength: n }), fc.array(ys, { minLength: n, maxLength: n }),
    fc.array(nonzero(), { minLength: n, maxLength: n }), fc.array(nonzero(), { minLength: n, maxLength: n }),
    fc.constantFrom(...REDUCTIONS, undefined), betas, dtypes,
  ).map(([xv, yv, ws, us, reduction, beta, dtype]): LossCase => {
    const b = new ProgramBuilder(`property.op.${LOSS_SLUGS[op]}.second-order`, dtype);
    const leaf = (v: number[]) => nest(v.map((e) => asLeafValue(e, dtype)) as number[], [n]);
    b.leaf(leaf(xv), true, 'x');
    if (op === 'crossEntropy') b.push({ let: 'y', tensor: Math.abs(Math.round(yv[0]! * 64)) % n, dtype: 'int64' });
    else b.leaf(leaf(yv), true, 'y');
    const attrs: Attrs = { ...(reduction ? { reduction } : {}), ...(beta !== undefined ? { beta } : {}) };
    let out = b.op(op, ['x', 'y'], Object.keys(attrs).length ? attrs : undefined);
    // crossEntropy of one sample is 0-d under every reduction.
    if (reduction === 'none' && op !== 'crossEntropy') out = b.op('sum', [b.op('mul', [out, b.leaf(leaf(ws), false, 'w')])]);
    b.leaf(leaf(us), false, 'u');
    return { program: b.program(), out, inputs: inputsOf(op), n, u: us.map((v) => Number(asLeafValue(v, dtype))) };
  }));
}

export function lossSecondOrder(op: (typeof LOSS_OPS)[number]): Property<LossCase> {
  const id = LOSS_SLUGS[op];
  return {
    id: `gradient.op.${id}.second-order`,
    clauses: [`op.${id}`, 'backward.create-graph'],
    title: `${op}: second derivatives through createGraph, for ${op === 'crossEntropy' ? 'the logits' : 'input and target'}, match mathjs`,
    arbitrary: lossCases(op),
    precondition: judgeable,
    // Half the default runs: each sample differentiates twice per pair of elements.
    runsFactor: 0.5,
    programs: (c) => {
      const program: Program = {
        ...c.program,
        steps: [
          ...c.program.steps,
          { let: ['g'], grad: { outputs: [c.out], inputs: ['x'], createGraph: true } },
          { let: 'gu', op: 'mul', args: ['g', 'u'] },
          { let: 's', op: 'sum', args: ['gu'] },
          { let: c.inputs.map((v) => `h_${v}`), grad: { outputs: ['s'], inputs: c.inputs, allowUnused: true } },
          ...c.inputs.map((v) => ({ observe: `h_${v}` })),
        ],
      };
      return [program];
    },
    judge: (c, [o], engine, { dtype }) => {
      // A first derivative that depends on no input does not require grad: PyTorch refuses to
      // differentiate it (no-grad-fn), and every second partial is then 0.
      if (o!.error && o!.error.category !== 'no-grad-fn') return `unexpected error: ${errorOf(o!)}`;
      const expr = expandProgram(c.program).get(c.out)!.exprs[0]!;
      const scope = programScope(c.program);
      for (const v of c.inputs) {
        const expected = Array.from({ length: c.n }, (_, j) =>
          c.u.reduce((acc, ui, i) => acc + ui * secondPartialAt(expr, `x_${i}`, `${v}_${j}`, scope), 0));
        const obs = find(o!, `h_${v}`);
        const actual = o!.error || !obs || obs.none ? new Array<number>(c.n).fill(0) : flat(obs.value);
        const problem = compareGradient({
          actual, expected, dtype, oracle: 'symbolic', engine: engine.name, what: `(d2 ${c.out} / d x d ${v}) · u`, shape: [c.n],
        });
        if (problem) return problem;
      }
      return null;
    },
  };
}

// nllLoss's gradient is a constant times g: its zero second derivative is pinned by a fixture.
export const LOSS_SECOND_ORDER = LOSS_OPS.filter((op) => op !== 'nllLoss').map((op) => lossSecondOrder(op));
