import type { Observations, OpName, Program, Step } from '../../spec/program.ts';
import { referenceAdapter } from '../reference/index.ts';
import type { Adapter, Capabilities } from '../types.ts';

/**
 * Honest engines that can do less than the reference: they answer only what they have, as the
 * adapter contract asks. Checked with them, a clause must be n/a with the reason, never a pass.
 */

type Field = Capabilities['fields'][number];

/** The reference engine, reporting only the fields it keeps. */
export function withoutFields(name: string, dropped: readonly Field[]): Adapter {
  const keep = referenceAdapter.capabilities.fields.filter((f) => !dropped.includes(f));
  return {
    ...referenceAdapter,
    name,
    capabilities: { ...referenceAdapter.capabilities, fields: keep },
    run: async (programs) => (await referenceAdapter.run(programs)).map((o) => ({
      ...o,
      observations: o.observations.map((x) => Object.fromEntries(Object.entries(x).filter(([k]) => !dropped.includes(k as Field))) as typeof x),
    })),
  };
}

/** The path of the first op step using one of `ops`, blocks and repeat bodies included. */
function firstUse(steps: readonly Step[], ops: readonly OpName[], prefix = ''): string | null {
  for (const [i, s] of steps.entries()) {
    const at = prefix ? `${prefix}.${i}` : `${i}`;
    if ('op' in s && ops.includes(s.op)) return at;
    const inner = 'noGrad' in s ? s.noGrad : 'enableGrad' in s ? s.enableGrad : 'repeat' in s ? s.steps : null;
    const found = inner && firstUse(inner, ops, 'repeat' in s ? `${at}.0` : at);
    if (found) return found;
  }
  return null;
}

/** The reference engine without some ops: a program using one is answered "not supported". */
export function withoutOps(name: string, ops: readonly OpName[]): Adapter {
  const refuse = (program: Program): Observations | null => {
    const step = firstUse(program.steps, ops);
    return step === null ? null : { observations: [], error: { step, category: 'invalid-argument', message: `not supported by ${name}: ${ops.join(', ')}` } };
  };
  return {
    ...referenceAdapter,
    name,
    run: async (programs) => Promise.all(programs.map(async (p) => refuse(p) ?? (await referenceAdapter.run([p]))[0]!)),
  };
}

/** An engine that supports nothing: every program is answered "not supported" at its first step. */
export const supportsNothing: Adapter = {
  ...referenceAdapter,
  name: 'supports-nothing',
  run: async (programs) => programs.map(() => ({ observations: [], error: { step: '0', category: 'invalid-argument', message: 'not supported by supports-nothing: anything' } })),
};

/** The reference engine declaring every field but leaving some out of its observations: a broken adapter. */
export function dropsDeclared(name: string, dropped: readonly Field[]): Adapter {
  const quiet = withoutFields(name, dropped);
  return { ...quiet, capabilities: referenceAdapter.capabilities };
}

/** The reference engine, except that any program using `op` makes the whole batch throw (an engine fault). */
export function crashesOn(name: string, op: OpName): Adapter {
  return {
    ...referenceAdapter,
    name,
    run: async (programs) => {
      if (programs.some((p) => firstUse(p.steps, [op]) !== null)) throw new Error(`${name} crashed on ${op}`);
      return referenceAdapter.run(programs);
    },
  };
}
