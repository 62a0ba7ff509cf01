import type { Data, Observations, OpName, Program, Scalar, Step } from '../../spec/program.ts';
import { scalarValue } from '../../spec/program.ts';
import { referenceAdapter } from '../reference/index.ts';
import type { Adapter } from '../types.ts';

/*
 * Deliberately broken engines for properties/non-finite.test.ts: the reference engine, except that
 * on programs using one op the gradients at some leaf elements come out as a plausible engine bug
 * at nan, inf or -inf would make them. Each fault is only visible at non-finite leaves, so the
 * generators as they were (finite values and edges) pass them.
 */

/** What a fault makes of the gradient g of a leaf element x (null: unchanged). */
export type Fault = (x: number, g: number) => number | null;

const usesOp = (steps: readonly Step[], op: OpName): boolean => steps.some((s) => ('op' in s && s.op === op)
  || ('noGrad' in s && usesOp(s.noGrad, op)) || ('enableGrad' in s && usesOp(s.enableGrad, op)));

const spell = (x: number): Scalar => (Number.isNaN(x) ? 'nan' : x === Infinity ? 'inf' : x === -Infinity ? '-inf' : Object.is(x, -0) ? '-0' : x);

const flatten = (d: Data): number[] => (Array.isArray(d) ? d.flatMap(flatten) : [scalarValue(d)]);

/** `d` with its elements, in row-major order, replaced by `f` of each element and its index. */
function mapData(d: Data, f: (x: number, i: number) => Scalar): Data {
  let i = 0;
  const walk = (e: Data): Data => (Array.isArray(e) ? e.map(walk) : f(scalarValue(e), i++));
  return walk(d);
}

function rewrite(program: Program, o: Observations, fault: Fault): Observations {
  const leaves = new Map(program.steps.flatMap((s) => ('tensor' in s ? [[s.let, flatten(s.tensor)] as const] : [])));
  return {
    ...o,
    observations: o.observations.map((obs) => {
      const leaf = obs.label?.endsWith('.grad') ? leaves.get(obs.label.slice(0, -'.grad'.length)) : undefined;
      if (!leaf || obs.value === undefined || obs.none) return obs;
      const value = mapData(obs.value, (g, i) => {
        const changed = leaf.length === 1 ? fault(leaf[0]!, g) : fault(leaf[i]!, g);
        return spell(changed ?? g);
      });
      // A printed form would no longer match the value: leave it out rather than contradict it.
      const { repr: _repr, ...rest } = obs;
      return { ...rest, value };
    }),
  };
}

/** The reference engine with `fault` applied to the leaf gradients of programs that use `op`. */
export function brokenAtNonFinite(name: string, op: OpName, fault: Fault): Adapter {
  return {
    ...referenceAdapter,
    name,
    run: async (programs) => {
      const results = await referenceAdapter.run(programs);
      return results.map((o, i) => (usesOp(programs[i]!.steps, op) ? rewrite(programs[i]!, o, fault) : o));
    },
  };
}

/** abs's gradient as g·Math.sign(x): nan at nan, where PyTorch's sgn(nan) is 0 and the gradient 0. */
export const absSignNaN = brokenAtNonFinite('abs-sign-nan', 'abs', (x) => (Number.isNaN(x) ? NaN : null));

/** log's gradient masked by its value: nan wherever log(x) is nan (x < 0), where g / x is finite (-0 at -inf). */
export const logNaNGradient = brokenAtNonFinite('log-nan-gradient', 'log', (x) => (x < 0 || Number.isNaN(x) ? NaN : null));

/** Gradients accumulated as `(a + b) || 0`: every nan gradient becomes 0 (shown on exp programs). */
export const nanGradientToZero = brokenAtNonFinite('nan-gradient-to-zero', 'exp', (_x, g) => (Number.isNaN(g) ? 0 : null));

