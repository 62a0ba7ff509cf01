import fc from 'fast-check';
import type { InplaceName, Program, Step } from '../spec/program.ts';
import { nest, numel } from './build.ts';
import { gradientProperty, type GradientCase } from './gradient.ts';
import type { AnyProperty } from './property.ts';
import { applyView, viewOp, type View, type ViewOp } from './views-model.ts';

/*
 * Writes through views judged by the oracles (views.rebase). The engine runs a program that
 * makes chains of views of b = x * 1 and writes through them in place with leaves that require
 * grad (mul_, div_, add_, sub_, copy_); the oracles judge the same program restated without
 * in-place ops: before each write the view is made again from the current base, the op is
 * applied out of place, and the new base is where(mask, the result put back in place, base).
 * Views are made just before their write, or all at the start (so that later ones are read after
 * other writes changed their storage, with a rebuilt grad_fn).
 */

/** 3 x 4: a step of 2 leaves two elements along either dim, where strided write-backs go wrong. */
const SHAPE = [3, 4];
const SIZE = 12;
const OPS = ['mul_', 'div_', 'add_', 'sub_', 'copy_'] as const;
type Write = { chain: ViewOp[]; op: (typeof OPS)[number]; ws: number[] };

export interface Sample { xs: number[]; writes: Write[]; upfront: boolean; cs: number[] }

/** Values on a 1/8 grid away from 0 (divisors), exact in both dtypes. */
const value = fc.integer({ min: 1, max: 24 }).chain((i) => fc.constantFrom(i / 8, -i / 8));
const all = fc.array(value, { minLength: SIZE, maxLength: SIZE });
const write = fc.record({ chain: fc.array(viewOp, { minLength: 1, maxLength: 3 }), op: fc.constantFrom(...OPS), ws: all });
const sample: fc.Arbitrary<Sample> = fc.record({ xs: all, writes: fc.array(write, { minLength: 1, maxLength: 3 }), upfront: fc.boolean(), cs: all });

/** The view a chain makes of `base` (ops that do not apply to the shape reached are skipped), and its steps. */
function chainOf(base: View, chain: readonly ViewOp[], fresh: () => string): { view: View; steps: Step[] } {
  let view = base;
  const steps: Step[] = [];
  for (const op of chain) {
    const made = applyView(view, op, fresh());
    if (!made) continue;
    view = made.view;
    steps.push(made.step);
  }
  return { view, steps };
}

export function restate(s: Sample): GradientCase {
  const leaves: Step[] = [{ let: 'x', tensor: nest(s.xs, SHAPE), requiresGrad: true }];
  const c: Step = { let: 'c', tensor: nest(s.cs, SHAPE) };
  const base: View = { name: 'b', storage: 0, shape: SHAPE, slots: Array.from({ length: SIZE }, (_, i) => i) };
  let n = 0;
  const fresh = () => `v${n++}`;
  // The program with writes (run by the engine).
  const run: Step[] = [...leaves, c, { let: 'b', op: 'mul', args: ['x', 1] }];
  const made = s.writes.map((w) => chainOf(base, w.chain, fresh));
  const inputs = ['x'];
  s.writes.forEach((w, k) => {
    const { view, steps } = made[k]!;
    if (s.upfront && k === 0) run.push(...made.flatMap((m) => m.steps));
    else if (!s.upfront) run.push(...steps);
    // An empty view writes nothing (and nested lists cannot carry shapes such as [1, 0, 3]).
    if (numel(view.shape) === 0) return;
    const leaf: Step = { let: `w${k}`, tensor: nest(w.ws.slice(0, numel(view.shape)), view.shape), requiresGrad: true };
    inputs.push(`w${k}`);
    run.push(leaf, { inplace: w.op as InplaceName, target: view.name, args: [`w${k}`] });
  });
  run.push({ let: 'bc', op: 'mul', args: ['b', 'c'] }, { let: 'out', op: 'sum', args: ['bc'] });

  // The same computation without in-place ops (judged by the oracles).
  const pure: Step[] = [...leaves, c, { let: 'b0', op: 'mul', args: ['x', 1] }];
  let current = 'b0';
  s.writes.forEach((w, k) => {
    const again = chainOf({ ...base, name: current }, w.chain, () => `r${k}_${n++}`);
    const { view } = again;
    pure.push(...again.steps);
    if (numel(view.shape) === 0) return;
    pure.push({ let: `w${k}`, tensor: nest(w.ws.slice(0, numel(view.shape)), view.shape), requiresGrad: true });
    const result = `n${k}`;
    pure.push(w.op === 'copy_'
      ? { let: result, op: 'mul', args: [`w${k}`, 1] }
      : { let: result, op: ({ mul_: 'mul', div_: 'div', add_: 'add', sub_: 'sub' } as const)[w.op], args: [view.name, `w${k}`] });
    // Put the result back: element j of the base takes the view's element inv[j] where the view covers it.
    const inv = new Array<number>(SIZE).fill(0);
    const covered = new Array<boolean>(SIZE).fill(false);
    view.slots.forEach((slot, i) => { inv[slot] = i; covered[slot] = true; });
    pure.push(
      { let: `f${k}`, op: 'reshape', args: [result], attrs: { shape: [-1] } },
      { let: `g${k}`, op: 'index', args: [`f${k}`], attrs: { items: [inv] } },
      { let: `m${k}`, tensor: covered, dtype: 'bool' },
      { let: `flat${k}`, op: 'reshape', args: [current], attrs: { shape: [-1] } },
      { let: `put${k}`, op: 'where', args: [`m${k}`, `g${k}`, `flat${k}`] },
      { let: `b${k + 1}`, op: 'reshape', args: [`put${k}`], attrs: { shape: SHAPE } },
    );
    current = `b${k + 1}`;
  });
  pure.push({ let: 'bc', op: 'mul', args: [current, 'c'] }, { let: 'out', op: 'sum', args: ['bc'] });
  const program = (steps: Step[]): Program => ({ id: 'property.views.inplace', dtype: 'float64', steps });
  return { program: program(pure), run: program(run), out: 'out', inputs };
}

export const VIEWS_INPLACE: AnyProperty = gradientProperty('gradient.views.inplace', ['views.rebase', 'views.alias', 'op.copy'],
  'chains of views (transpose, select, slices, narrow, unsqueeze, squeeze, diagonal, permute) written in place with mul_, div_, add_, sub_ and copy_ of leaves that require grad: the gradients equal the oracles\' of the same program restated without in-place ops',
  sample.map(restate));
