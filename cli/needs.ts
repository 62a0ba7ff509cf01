import fc from 'fast-check';
import type { Feature } from '../adapters/types.ts';
import type { AnyProperty } from '../properties/property.ts';
import type { DType, Observations, Program, Step } from '../spec/program.ts';

/**
 * The engine features a check relies on, read from its programs, so that an engine without one
 * gets "not applicable" instead of a failure it cannot avoid (or a pass it did not earn).
 */
export function featuresOf(program: Program, expected?: Observations): Set<Feature | `dtype ${DType}`> {
  const needs = new Set<Feature | `dtype ${DType}`>([`dtype ${program.dtype ?? 'float32'}`]);
  let passes = 0;
  const walk = (steps: readonly Step[]) => {
    for (const s of steps) {
      if ('tensor' in s && s.dtype) needs.add(`dtype ${s.dtype}`);
      if ('repeat' in s) {
        const before = passes;
        walk(s.steps);
        if (s.repeat > 1 && passes > before) passes++; // a pass repeated is a second pass into .grad
      }
      else if ('noGrad' in s) { needs.add('no-grad'); walk(s.noGrad); }
      else if ('enableGrad' in s) { needs.add('no-grad'); walk(s.enableGrad); }
      else if ('setGradEnabled' in s) needs.add('no-grad');
      else if ('inplace' in s) needs.add(s.target.endsWith('.grad') ? 'accumulate' : 'inplace');
      else if ('detach_' in s || ('op' in s && s.op === 'detach')) needs.add('detach');
      else if ('clearGrad' in s || 'retainGrad' in s) needs.add('accumulate');
      else if ('backward' in s || 'autogradBackward' in s) {
        passes++;
        if (s.retainGraph) needs.add('retain-graph');
        if (s.createGraph) needs.add('create-graph');
      } else if ('grad' in s) {
        if (s.grad.retainGraph) needs.add('retain-graph');
        if (s.grad.createGraph) needs.add('create-graph');
      }
      if ('args' in s && s.args?.some((a) => typeof a === 'string' && a.endsWith('.grad'))) needs.add('accumulate');
      // An index tensor read from a .grad is such an argument too.
      if ('attrs' in s && s.attrs?.items?.some((i) => i !== null && typeof i === 'object' && 'ref' in i && i.ref.endsWith('.grad'))) needs.add('accumulate');
    }
  };
  walk(program.steps);
  // One backward pass and reading .grad is what any engine can do (a functional engine computes
  // the gradient); a second pass into the same .grad is accumulation, a stateful feature.
  if (passes > 1) needs.add('accumulate');
  if (expected?.error) {
    needs.add('errors');
    if (expected.error.category === 'freed-graph') needs.add('retain-graph');
    if (expected.error.category === 'saved-modified' || expected.error.category === 'leaf-inplace') needs.add('inplace');
  }
  return needs;
}

/**
 * A property's needs, from a fixed sample of the programs it generates. Dtypes are not among
 * them: a property's programs run in a dtype the engine has (properties/property.ts retype).
 */
export function propertyFeatures(p: AnyProperty): Set<Feature> {
  const needs = new Set<Feature>();
  for (const sample of fc.sample(p.arbitrary, { seed: 1, numRuns: 30 })) {
    for (const program of p.programs(sample)) {
      for (const f of featuresOf(program)) if (!f.startsWith('dtype ')) needs.add(f as Feature);
    }
  }
  return needs;
}

/**
 * The feature a clause is about: an engine without it cannot conform to the clause, whatever
 * its other checks show, so the clause is not applicable to it.
 */
export function clauseFeature(clause: string): Feature | null {
  if (/^backward\.(accumulate|zero-grad|retain-grad|leaf-only)$/.test(clause)) return 'accumulate';
  if (/^backward\.(freed-graph|retain-graph)$/.test(clause)) return 'retain-graph';
  if (clause === 'backward.create-graph') return 'create-graph';
  if (clause.startsWith('mode.')) return 'no-grad';
  if (clause.startsWith('graph.detach')) return 'detach';
  if (clause.startsWith('inplace.')) return 'inplace';
  return null;
}
