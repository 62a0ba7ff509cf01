import { broadcastShapes, expandShape, matmulPlan, permuteIndex, reducePlan, reshapeShape, squeezeShape, transposePerm, unsqueezeShape } from '../oracles/shape.ts';
import { joinMap } from '../oracles/join.ts';
import { CLAUSE_SUBJECTS, type Subject } from '../spec/clause-subjects.ts';
import { isClauseId } from '../spec/clauses.ts';
import type { Data, Observations, Program, Step } from '../spec/program.ts';
import { scalarValue } from '../spec/program.ts';

/**
 * What a check exercised, as the atoms of spec/clause-subjects.ts: read off the part of each
 * program that runs (up to and including the step that is expected to fail) and off the
 * observation fields that were compared. A clause counts a check only when the check exercised
 * the clause's subject; a check that merely cites a clause does not.
 */

const BINARY = new Set(['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum']);
/** Ops that broadcast their two operands as op.broadcast says: the arithmetic ones and the comparisons. */
const BROADCASTING = new Set([...BINARY, 'gt', 'ge', 'lt', 'le', 'eq', 'ne']);
const VIEWS = new Set(['view', 'reshape', 'transpose', 't', 'permute', 'unsqueeze', 'squeeze', 'expand', 'select', 'narrow', 'diagonal', 'unbind', 'split', 'chunk']);
/** An advanced index item (an index tensor or a list of integers); the others are basic. */
const isAdvanced = (i: unknown): boolean => Array.isArray(i) || (typeof i === 'object' && i !== null && 'ref' in i);
/** Basic indexing (numbers, slices, None, "...") is a view; an index tensor or list makes a copy. */
const isView = (s: Extract<Step, { op: string }>): boolean =>
  VIEWS.has(s.op) || (s.op === 'index' && !(s.attrs?.items ?? []).some(isAdvanced));

const pathLess = (a: readonly number[], b: readonly number[]): boolean => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
};

function shapeOf(data: Data): number[] {
  const shape: number[] = [];
  let d: Data = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = d[0] as Data;
  }
  return shape;
}

const hasZero = (data: Data): boolean => (Array.isArray(data) ? data.some(hasZero) : scalarValue(data) === 0);

/** The shape an op step gives, or null when it cannot be told (or the op fails). */
function resultShape(step: Extract<Step, { op: string }>, shapes: ReadonlyMap<string, number[] | null>): number[] | null {
  const args = step.args.map((a) => (typeof a === 'number' ? [] : shapes.get(a) ?? null));
  const x = args[0];
  if (!x) return null;
  const at = step.attrs ?? {};
  try {
    if (BROADCASTING.has(step.op)) return args[1] ? broadcastShapes(x, args[1]) : null;
    switch (step.op) {
      case 'where': return args[1] && args[2] ? broadcastShapes(broadcastShapes(x, args[1]), args[2]) : null;
      case 'matmul': return args[1] ? matmulPlan(x, args[1]).shape : null;
      case 'sum': case 'mean': case 'amax': case 'amin': return reducePlan(x, at.dim, at.keepdim ?? false).shape;
      case 'max': case 'min': return at.dim === undefined ? [] : reducePlan(x, at.dim, at.keepdim ?? false).shape;
      case 'argmax': case 'argmin': return at.dim === undefined ? (at.keepdim ? x.map(() => 1) : []) : reducePlan(x, at.dim, at.keepdim ?? false).shape;
      case 'reshape': case 'view': return at.shape ? reshapeShape(x, at.shape) : null;
      case 'expand': return at.shape ? expandShape(x, at.shape) : null;
      case 'permute': return at.dims ? permuteIndex(x, at.dims).shape : null;
      case 'transpose': return permuteIndex(x, transposePerm(x.length, at.dim0 ?? 0, at.dim1 ?? 0)).shape;
      case 't': return x.length < 2 ? x : [x[1]!, x[0]!];
      case 'unsqueeze': return unsqueezeShape(x, at.dim as number);
      case 'squeeze': return squeezeShape(x, at.dim as number | undefined);
      case 'cat': case 'stack': case 'flip': case 'roll': case 'repeat': return args.some((a) => a === null) ? null : joinMap(step.op, args as number[][], at).shape;
      case 'select': case 'narrow': case 'diagonal': case 'unbind': case 'split': case 'chunk': case 'index': return null; // not traced
      default: return x; // elementwise ops, clone, detach, contiguous
    }
  } catch {
    return null;
  }
}

/**
 * The atoms one program exercises when it runs to `error` (or to its end when no error is
 * expected there). The expected error's category is an atom when `judgesErrors`.
 */
export function traceProgram(program: Program, error: Observations['error'], judgesErrors = true): Set<string> {
  const atoms = new Set<string>();
  const shapes = new Map<string, number[] | null>();
  const boundByOp = new Set<string>();
  const viewResults = new Set<string>();
  const viewOutputs = new Set<string>(); // results of view ops only (not their inputs)
  const uses = new Map<string, number>();
  const dtypes = new Set<string>();
  let passes = 0;
  let opSteps = 0;
  const use = (ref: string) => uses.set(ref, (uses.get(ref) ?? 0) + 1);
  const visit = (steps: readonly Step[], prefix: number[], gradOn: boolean, times: number, stop: number[] | null): void => {
    let blockEnded = false;
    steps.forEach((s, i) => {
      const path = [...prefix, i];
      if (stop && pathLess(stop, path)) return; // after the failing step: never runs
      if ('noGrad' in s) { atoms.add('no-grad'); visit(s.noGrad, path, false, times, stop); blockEnded = true; return; }
      if ('enableGrad' in s) { atoms.add('enable-grad'); visit(s.enableGrad, path, true, times, stop); blockEnded = true; return; }
      if ('repeat' in s) {
        // An error inside reads "<step>.<iteration>.<body step>": the body ran up to that iteration.
        const inside = stop !== null && stop.length > path.length + 1 && path.every((p, k) => stop[k] === p);
        visit(s.steps, path, gradOn, inside ? stop[path.length]! + 1 : times * s.repeat, inside ? [...path, ...stop.slice(path.length + 1)] : stop);
        return;
      }
      if ('setGradEnabled' in s) { atoms.add('set-grad-enabled'); gradOn = s.setGradEnabled; return; }
      if ('tensor' in s) {
        shapes.set(s.let, shapeOf(s.tensor));
        dtypes.add(s.dtype ?? program.dtype ?? 'float32');
        if (s.dtype === 'int64' || s.dtype === 'bool') atoms.add(`dtype:${s.dtype}`);
        if (hasZero(s.tensor)) atoms.add('zero-data');
        boundByOp.delete(s.let);
        return;
      }
      if ('op' in s) {
        opSteps += times;
        atoms.add(`op:${s.op}`);
        if (blockEnded) atoms.add('after-block');
        if (BINARY.has(s.op) && s.args.some((a) => typeof a === 'number')) atoms.add('scalar-operand');
        if (BROADCASTING.has(s.op)) {
          const [a, b] = s.args.map((x) => (typeof x === 'number' ? null : shapes.get(x) ?? null));
          if (a && b && a.join() !== b.join()) atoms.add('broadcast');
        }
        if (s.attrs && ('dim' in s.attrs || 'dims' in s.attrs || 'dim0' in s.attrs)) atoms.add('dim-arg');
        if (s.op === 'detach') atoms.add('detach');
        if (s.op === 'index') {
          const items = s.attrs?.items ?? [];
          if (items.some((i) => !isAdvanced(i))) atoms.add('index-basic');
          if (items.some(isAdvanced)) atoms.add('index-advanced');
        }
        if (Array.isArray(s.let)) atoms.add('tuple-result');
        for (const a of s.args) if (typeof a === 'string') use(a);
        for (const item of s.attrs?.items ?? []) if (item !== null && typeof item === 'object' && 'ref' in item) use(item.ref);
        // A tuple result (max and min with a dim) binds values and indices, of the same shape.
        for (const name of Array.isArray(s.let) ? s.let : [s.let]) {
          shapes.set(name, resultShape(s, shapes));
          if (s.op === 'detach') boundByOp.delete(name);
          else boundByOp.add(name);
          if (isView(s)) {
            viewResults.add(name);
            viewOutputs.add(name);
            if (typeof s.args[0] === 'string') viewResults.add(s.args[0]); // the input shares the view's storage
          } else {
            viewResults.delete(name);
            viewOutputs.delete(name);
          }
        }
        return;
      }
      if ('backward' in s || 'autogradBackward' in s) {
        passes += times;
        atoms.add('backward');
        if ('backward' in s && s.gradient !== undefined) atoms.add('explicit-gradient');
        if ('autogradBackward' in s) {
          if (s.autogradBackward.length > 1) atoms.add('multi-root');
          if (s.gradTensors?.some((g) => g !== null)) atoms.add('explicit-gradient');
        }
        if (s.retainGraph) atoms.add('retain-graph');
        if (s.createGraph) atoms.add('create-graph');
        return;
      }
      if ('grad' in s) {
        atoms.add('grad');
        if (s.grad.gradOutputs?.some((g) => g !== null)) { atoms.add('grad-outputs'); atoms.add('explicit-gradient'); }
        if (s.grad.allowUnused) atoms.add('allow-unused');
        if (s.grad.retainGraph) atoms.add('retain-graph');
        if (s.grad.createGraph) atoms.add('create-graph');
        return;
      }
      if ('inplace' in s) {
        if (s.target.endsWith('.grad')) atoms.add(s.inplace === 'zero_' ? 'zero-grad' : 'grad-inplace');
        else {
          atoms.add('inplace');
          if (!gradOn) atoms.add('inplace-no-grad');
          atoms.add(`inplace:${s.inplace}`);
          if (s.inplace === 'indexPut_') atoms.add('index-put');
          if (viewResults.has(s.target)) atoms.add('view-inplace');
          if (viewOutputs.has(s.target)) atoms.add('inplace-on-view');
        }
        return;
      }
      if ('clearGrad' in s) { atoms.add('zero-grad'); return; }
      if ('requiresGrad_' in s) { atoms.add('requires-grad-toggle'); return; }
      if ('retainGrad' in s) { atoms.add('retain-grad'); return; }
      if ('detach_' in s) { atoms.add('detach-inplace'); boundByOp.delete(s.detach_); return; }
      if ('observe' in s) {
        if (s.item) atoms.add('item');
        if (s.observe.endsWith('.grad')) {
          atoms.add('observe-grad');
          if (boundByOp.has(s.observe.slice(0, -'.grad'.length))) atoms.add('observe-non-leaf-grad');
        }
        return;
      }
    });
  };
  visit(program.steps, [], true, 1, error ? error.step.split('.').map(Number) : null);
  if (passes > 1) atoms.add('repeated-backward');
  if (opSteps >= 1000) atoms.add('deep');
  if (dtypes.size > 1) atoms.add('mixed-dtype');
  if ([...uses.values()].some((n) => n > 1)) atoms.add('fan-in');
  if (error && judgesErrors) atoms.add(`error:${error.category}`);
  return atoms;
}

/** The fields compared for a fixture: those its expectations state that the engine reports. */
export function comparedFields(expected: Observations, fields: readonly string[]): string[] {
  const out = new Set<string>();
  for (const o of expected.observations) for (const f of Object.keys(o)) if (fields.includes(f)) out.add(f);
  return [...out].map((f) => `field:${f}`);
}

const subjectOf = (clause: string): Subject | null => (isClauseId(clause) ? CLAUSE_SUBJECTS[clause] : null);

/** Whether the atoms exercise the clause (some alternative of its subject is fully there). */
export const exercises = (atoms: ReadonlySet<string>, clause: string): boolean =>
  subjectOf(clause)?.some((alt) => alt.every((a) => atoms.has(a))) ?? false;

/** Whether a clause is about an engine at all (harness clauses are not). */
export const isEngineClause = (clause: string): boolean => subjectOf(clause) !== null;

/** What is missing for the closest alternative of a clause's subject, e.g. `op matmul`. */
export function missingFor(clause: string, atoms: ReadonlySet<string>): string {
  const subject = subjectOf(clause) ?? [];
  let best: string[] = [];
  for (const alt of subject) {
    const missing = alt.filter((a) => !atoms.has(a));
    if (best.length === 0 || missing.length < best.length) best = missing;
  }
  return best.map(describeAtom).join(' and ');
}

const WORDS: Readonly<Record<string, string>> = {
  'scalar-operand': 'a Python number as an operand', 'tuple-result': 'a tuple result (max or min with a dim)', broadcast: 'operands of different shapes', 'dim-arg': 'a dim argument',
  'zero-data': 'a zero input', 'mixed-dtype': 'leaves of two dtypes', 'dtype:int64': 'an int64 leaf', 'dtype:bool': 'a bool leaf', backward: 'a backward pass',
  'repeated-backward': 'a second backward pass', 'explicit-gradient': 'an explicit gradient', 'multi-root': 'backward of several outputs',
  grad: 'an autograd.grad step', 'grad-outputs': 'autograd.grad with gradOutputs', 'allow-unused': 'autograd.grad with allowUnused',
  'retain-graph': 'retainGraph', 'create-graph': 'createGraph', 'no-grad': 'a noGrad block', 'enable-grad': 'an enableGrad block',
  'set-grad-enabled': 'setGradEnabled', 'after-block': 'an op after a grad-mode block', inplace: 'an in-place op',
  'inplace-no-grad': 'an in-place op with grad mode off', 'zero-grad': 'zeroing or clearing .grad', 'requires-grad-toggle': 'requiresGrad_',
  'retain-grad': 'retainGrad', 'detach-inplace': 'detach_', detach: 'detach', 'observe-grad': 'an observed .grad',
  'observe-non-leaf-grad': "an observed non-leaf's .grad", 'fan-in': 'a tensor used twice', deep: 'a graph of at least 1,000 ops',
  item: 'item()', 'view-inplace': 'an in-place op on a view or its input',
};

/** An atom in words: `op:matmul` → `op matmul`, `field:gradFn` → `field gradFn`, `grad` → `an autograd.grad step`. */
const describeAtom = (atom: string): string =>
  atom.startsWith('error:') ? `an expected ${atom.slice('error:'.length)} error` : WORDS[atom] ?? atom.replace(':', ' ');

/** The labels under which a program observes gradients: `.grad` references and autograd.grad results. */
export function gradientLabels(program: Program): Set<string> {
  const grads = new Set<string>();
  const labels = new Set<string>();
  const visit = (steps: readonly Step[]): void => {
    for (const s of steps) {
      if ('noGrad' in s) visit(s.noGrad);
      else if ('enableGrad' in s) visit(s.enableGrad);
      else if ('repeat' in s) visit(s.steps);
      else if ('grad' in s) s.let.forEach((name) => grads.add(name));
      else if ('observe' in s && (s.observe.endsWith('.grad') || grads.has(s.observe))) labels.add(s.label ?? s.observe);
    }
  };
  visit(program.steps);
  return labels;
}
