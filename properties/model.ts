import fc from 'fast-check';
import type { Adapter, Capabilities } from '../adapters/types.ts';
import type { Arg, ErrorCategory, Observation, Observations, Program, Step } from '../spec/program.ts';
import { errorOf, flat } from './observed.ts';
import type { Property } from './property.ts';

/*
 * A stateful model test (fast-check's model-based testing, fc.commands). Engines run whole
 * programs, so the commands are not run against a live engine: walking the generated commands
 * (skipping those whose `check` fails, as fc.modelRun does) builds ONE program while a small
 * model predicts what every observation of that program must report, and which step must fail.
 *
 * Everything the model predicts is exact. Leaves are vectors of N small integers; a loss is
 * sum(x_1 * c_1 + ... + x_k * c_k) over distinct leaves with integer coefficients (a number or a
 * constant vector), so d loss / d x_i is the integer vector c_i and the model accumulates it
 * exactly. Every loss contains a mul, which saves its coefficient (backward.freed-graph): once a
 * pass without retainGraph ran, the next pass through that loss must fail with freed-graph. Each
 * leaf appears at most once in a loss, so no gradients are summed before they reach a leaf and a
 * fresh `.grad` is at version 0 (with fan-in, PyTorch may store a buffer it already added into in
 * place, whose version is not 0); every later in-place accumulation or zero_ adds 1.
 *
 * Every program starts with the leaves x0 (requires grad) and x1 (does not) and the loss
 * L0 = sum(x0 * [2, -1] + x1 * 3) (SETUP), so that the random commands have something to act on.
 * When the model predicts an error, the program ends at that step and later commands do not run
 * (fast-check then drops them when shrinking, as it drops commands whose `check` failed).
 *
 * One case is left unpredicted: a pass through a graph recorded while a leaf required grad, run
 * after `requiresGrad_(false)` on that leaf. PyTorch 1.13's AccumulateGrad then skips the leaf;
 * the spec does not say, so the model forgets that leaf's `.grad` until it is cleared.
 */

/** Elements of every leaf. */
const N = 2;

type Vec = number[];

type GradState =
  | { kind: 'none' }
  | { kind: 'value'; value: Vec; version: number }
  /** Not predicted (see above); `clearGrad` makes it known again. */
  | { kind: 'unknown' };

interface Leaf {
  name: string;
  /** Index into Model.storages: a leaf and its detach() aliases share values and version counter. */
  storage: number;
  requiresGrad: boolean;
  grad: GradState;
}

interface Storage {
  value: Vec;
  version: number;
}

interface Term {
  leaf: number;
  /** The coefficient as a vector: d loss / d leaf. */
  coeff: Vec;
}

interface Loss {
  name: string;
  value: number;
  requiresGrad: boolean;
  /** The terms whose leaf required grad when the loss was built: the leaves its graph reaches. */
  graph: Term[];
  /** A pass without retainGraph ran: the saved coefficients are gone. */
  freed: boolean;
}

export interface Model {
  leaves: Leaf[];
  storages: Storage[];
  losses: Loss[];
}

/** What one observation must show; absent fields are not predicted. */
export interface Expected {
  none?: true;
  requiresGrad?: boolean;
  isLeaf?: boolean;
  /** Whether gradFn is non-null (the name is graph.grad-fn's business, not this model's). */
  hasGradFn?: boolean;
  value?: Vec;
  version?: number;
}

export interface Prediction {
  label: string;
  /** Index of the command (among those that ran) that added the observe step. */
  command: number;
  expect: Expected;
}

export interface PredictedError {
  step: string;
  category: ErrorCategory;
  command: number;
}

/** The program under construction: fc.commands' "real system". */
export class Real {
  readonly steps: Step[] = [];
  readonly predictions: Prediction[] = [];
  /** What each command that ran did, with names resolved. */
  readonly commands: string[] = [];
  /** For each top-level step, the command that added it. */
  readonly stepCommand: number[] = [];
  error: PredictedError | null = null;
  private counts = new Map<string, number>();
  private prefix = '';

  /** Starts a command; `prefix` marks the fixed setup commands in reports. */
  begin(description: string, prefix = ''): void {
    this.prefix = prefix;
    this.commands.push(prefix + description);
  }

  /** Replaces the current command's description once its names are resolved. */
  describe(description: string): void {
    this.commands[this.commands.length - 1] = this.prefix + description;
  }

  get command(): number {
    return this.commands.length - 1;
  }

  fresh(prefix: string): string {
    const n = this.counts.get(prefix) ?? 0;
    this.counts.set(prefix, n + 1);
    return `${prefix}${n}`;
  }

  /** Adds a top-level step (wrapped in a noGrad block when asked); returns the path of `step`. */
  push(step: Step, inNoGrad = false): string {
    const at = this.steps.length;
    this.steps.push(inNoGrad ? { noGrad: [step] } : step);
    this.stepCommand.push(this.command);
    return inNoGrad ? `${at}.0` : `${at}`;
  }

  observe(ref: string, expect: Expected): void {
    const label = `c${this.command} ${ref}`;
    this.push({ observe: ref, label });
    this.predictions.push({ label, command: this.command, expect });
  }

  /** The step at `step` must fail with `category`; the program ends there. */
  raise(step: string, category: ErrorCategory): void {
    this.error = { step, category, command: this.command };
  }

  program(): Program {
    return { id: 'property.model', dtype: 'float64', steps: [...this.steps] };
  }
}

type Cmd = fc.Command<Model, Real>;

// ----- helpers the commands share -----

const leafAt = (m: Readonly<Model>, i: number): Leaf | undefined => m.leaves[i % Math.max(1, m.leaves.length)];
const show = (v: Vec): string => `[${v.join(', ')}]`;
const withGrad = (m: Readonly<Model>): Leaf[] => m.leaves.filter((l) => l.grad.kind === 'value');
const coeffVec = (c: number | Vec): Vec => (typeof c === 'number' ? new Array<number>(N).fill(c) : c);

/** Everything the model knows about a leaf tensor. */
function expectLeaf(m: Model, leaf: Leaf): Expected {
  const s = m.storages[leaf.storage]!;
  return { requiresGrad: leaf.requiresGrad, isLeaf: true, hasGradFn: false, value: [...s.value], version: s.version };
}

/** What `x.grad` must be; null when the model does not know. */
function expectGrad(leaf: Leaf): Expected | null {
  const g = leaf.grad;
  if (g.kind === 'unknown') return null;
  if (g.kind === 'none') return { none: true };
  return { requiresGrad: false, isLeaf: true, hasGradFn: false, value: [...g.value], version: g.version };
}

function observeGrad(r: Real, leaf: Leaf): void {
  const e = expectGrad(leaf);
  if (e) r.observe(`${leaf.name}.grad`, e);
}

function newLeaf(m: Model, name: string, storage: number, requiresGrad: boolean): Leaf {
  const leaf: Leaf = { name, storage, requiresGrad, grad: { kind: 'none' } };
  m.leaves.push(leaf);
  return leaf;
}

// ----- commands -----

/** `x = torch.tensor(values, requires_grad=...)`. */
class CreateLeaf implements Cmd {
  constructor(readonly values: Vec, readonly requiresGrad: boolean) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const name = r.fresh('x');
    m.storages.push({ value: [...this.values], version: 0 });
    const leaf = newLeaf(m, name, m.storages.length - 1, this.requiresGrad);
    r.describe(`${name} = leaf(${show(this.values)}${this.requiresGrad ? ', requiresGrad' : ''})`);
    r.push({ let: name, tensor: [...this.values], ...(this.requiresGrad ? { requiresGrad: true } : {}) });
    r.observe(name, expectLeaf(m, leaf));
    observeGrad(r, leaf);
  }
  toString(): string {
    return `CreateLeaf(${show(this.values)}, ${this.requiresGrad})`;
  }
}

/** `L = (x_1 * c_1 + ... + x_k * c_k).sum()` over distinct leaves. */
class BuildLoss implements Cmd {
  constructor(readonly terms: readonly { leaf: number; coeff: number | Vec }[]) {}
  check(m: Readonly<Model>): boolean {
    return m.leaves.length > 0;
  }
  run(m: Model, r: Real): void {
    const terms: (Term & { arg: number | Vec })[] = [];
    for (const t of this.terms) {
      const leaf = t.leaf % m.leaves.length;
      if (!terms.some((u) => u.leaf === leaf)) terms.push({ leaf, coeff: coeffVec(t.coeff), arg: t.coeff });
    }
    const parts: string[] = [];
    let acc: string | null = null;
    for (const t of terms) {
      let c: Arg;
      if (typeof t.arg === 'number') c = t.arg;
      else {
        c = r.fresh('w');
        r.push({ let: c, tensor: [...t.arg] });
      }
      const product = r.fresh('t');
      r.push({ let: product, op: 'mul', args: [m.leaves[t.leaf]!.name, c] });
      if (acc === null) acc = product;
      else {
        const sum = r.fresh('t');
        r.push({ let: sum, op: 'add', args: [acc, product] });
        acc = sum;
      }
      parts.push(`${m.leaves[t.leaf]!.name} * ${typeof t.arg === 'number' ? t.arg : show(t.arg)}`);
    }
    const name = r.fresh('L');
    r.push({ let: name, op: 'sum', args: [acc!] });
    const graph = terms.filter((t) => m.leaves[t.leaf]!.requiresGrad).map(({ leaf, coeff }) => ({ leaf, coeff }));
    let value = 0;
    for (const t of terms) {
      const s = m.storages[m.leaves[t.leaf]!.storage]!.value;
      for (let i = 0; i < N; i++) value += t.coeff[i]! * s[i]!;
    }
    const loss: Loss = { name, value, requiresGrad: graph.length > 0, graph, freed: false };
    m.losses.push(loss);
    r.describe(`${name} = sum(${parts.join(' + ')})`);
    r.observe(name, { requiresGrad: loss.requiresGrad, isLeaf: !loss.requiresGrad, hasGradFn: loss.requiresGrad, value: [value], version: 0 });
  }
  toString(): string {
    return `BuildLoss(${this.terms.map((t) => `${t.leaf}*${typeof t.coeff === 'number' ? t.coeff : show(t.coeff)}`).join(' + ')})`;
  }
}

/** `L.backward(retain_graph=...)`, optionally inside noGrad (which does not stop gradients). */
class Backward implements Cmd {
  constructor(readonly loss: number, readonly retainGraph: boolean, readonly inNoGrad: boolean) {}
  check(m: Readonly<Model>): boolean {
    return m.losses.length > 0;
  }
  run(m: Model, r: Real): void {
    const loss = m.losses[this.loss % m.losses.length]!;
    r.describe(`${loss.name}.backward(${this.retainGraph ? 'retainGraph' : ''})${this.inNoGrad ? ' in noGrad' : ''}`);
    const at = r.push({ backward: loss.name, ...(this.retainGraph ? { retainGraph: true } : {}) }, this.inNoGrad);
    if (!loss.requiresGrad) return r.raise(at, 'no-grad-fn');
    if (loss.freed) return r.raise(at, 'freed-graph');
    for (const t of loss.graph) {
      const leaf = m.leaves[t.leaf]!;
      const g = leaf.grad;
      if (!leaf.requiresGrad || g.kind === 'unknown') leaf.grad = { kind: 'unknown' };
      else if (g.kind === 'none') leaf.grad = { kind: 'value', value: [...t.coeff], version: 0 };
      else leaf.grad = { kind: 'value', value: g.value.map((v, i) => v + t.coeff[i]!), version: g.version + 1 };
    }
    if (!this.retainGraph) loss.freed = true;
    for (const t of loss.graph) observeGrad(r, m.leaves[t.leaf]!);
  }
  toString(): string {
    return `Backward(${this.loss}, retainGraph=${this.retainGraph}, noGrad=${this.inNoGrad})`;
  }
}

/** `x.grad.zero_()` on one of the leaves whose `.grad` the model knows is a tensor. */
class ZeroGrad implements Cmd {
  constructor(readonly leaf: number) {}
  check(m: Readonly<Model>): boolean {
    return withGrad(m).length > 0;
  }
  run(m: Model, r: Real): void {
    const candidates = withGrad(m);
    const leaf = candidates[this.leaf % candidates.length]!;
    const g = leaf.grad as Extract<GradState, { kind: 'value' }>;
    r.describe(`${leaf.name}.grad.zero_()`);
    r.push({ inplace: 'zero_', target: `${leaf.name}.grad` });
    leaf.grad = { kind: 'value', value: new Array<number>(N).fill(0), version: g.version + 1 };
    observeGrad(r, leaf);
    r.observe(leaf.name, expectLeaf(m, leaf));
  }
  toString(): string {
    return `ZeroGrad(${this.leaf})`;
  }
}

/** `x.grad = None`, on a leaf that has a `.grad` when there is one. */
class ClearGrad implements Cmd {
  constructor(readonly leaf: number) {}
  check(m: Readonly<Model>): boolean {
    return m.leaves.length > 0;
  }
  run(m: Model, r: Real): void {
    const candidates = m.leaves.filter((l) => l.grad.kind !== 'none');
    const leaf = candidates.length > 0 ? candidates[this.leaf % candidates.length]! : leafAt(m, this.leaf)!;
    r.describe(`${leaf.name}.grad = None`);
    r.push({ clearGrad: leaf.name });
    leaf.grad = { kind: 'none' };
    observeGrad(r, leaf);
  }
  toString(): string {
    return `ClearGrad(${this.leaf})`;
  }
}

/** `x.requires_grad_(flag)` on a leaf, optionally inside noGrad. Losses built before keep their graph. */
class SetRequiresGrad implements Cmd {
  constructor(readonly leaf: number, readonly flag: boolean, readonly inNoGrad: boolean) {}
  check(m: Readonly<Model>): boolean {
    return m.leaves.length > 0;
  }
  run(m: Model, r: Real): void {
    const leaf = leafAt(m, this.leaf)!;
    r.describe(`${leaf.name}.requires_grad_(${this.flag})${this.inNoGrad ? ' in noGrad' : ''}`);
    r.push({ requiresGrad_: leaf.name, flag: this.flag }, this.inNoGrad);
    leaf.requiresGrad = this.flag;
    r.observe(leaf.name, expectLeaf(m, leaf));
  }
  toString(): string {
    return `SetRequiresGrad(${this.leaf}, ${this.flag}, noGrad=${this.inNoGrad})`;
  }
}

/** `d = x.detach()`: a new leaf that does not require grad and shares x's values and version. */
class Detach implements Cmd {
  constructor(readonly leaf: number) {}
  check(m: Readonly<Model>): boolean {
    return m.leaves.length > 0;
  }
  run(m: Model, r: Real): void {
    const source = leafAt(m, this.leaf)!;
    const name = r.fresh('d');
    r.describe(`${name} = ${source.name}.detach()`);
    r.push({ let: name, op: 'detach', args: [source.name] });
    const leaf = newLeaf(m, name, source.storage, false);
    r.observe(name, expectLeaf(m, leaf));
    observeGrad(r, leaf);
  }
  toString(): string {
    return `Detach(${this.leaf})`;
  }
}

/** `with torch.no_grad(): n = x * k` (or `x + k`): a new leaf that does not require grad. */
class NoGradCompute implements Cmd {
  constructor(readonly leaf: number, readonly op: 'mul' | 'add', readonly k: number) {}
  check(m: Readonly<Model>): boolean {
    return m.leaves.length > 0;
  }
  run(m: Model, r: Real): void {
    const source = leafAt(m, this.leaf)!;
    const name = r.fresh('n');
    r.describe(`with no_grad: ${name} = ${source.name} ${this.op === 'mul' ? '*' : '+'} ${this.k}`);
    r.push({ let: name, op: this.op, args: [source.name, this.k] }, true);
    const value = m.storages[source.storage]!.value.map((v) => (this.op === 'mul' ? v * this.k : v + this.k));
    m.storages.push({ value, version: 0 });
    const leaf = newLeaf(m, name, m.storages.length - 1, false);
    r.observe(name, expectLeaf(m, leaf));
  }
  toString(): string {
    return `NoGradCompute(${this.leaf}, ${this.op}, ${this.k})`;
  }
}

/** `x.add_(k)`: leaf-inplace on a leaf that requires grad in grad mode; inside noGrad it updates. */
class InplaceAdd implements Cmd {
  constructor(readonly leaf: number, readonly k: number, readonly inNoGrad: boolean) {}
  check(m: Readonly<Model>): boolean {
    return m.leaves.length > 0;
  }
  run(m: Model, r: Real): void {
    const leaf = leafAt(m, this.leaf)!;
    r.describe(`${leaf.name}.add_(${this.k})${this.inNoGrad ? ' in noGrad' : ''}`);
    const at = r.push({ inplace: 'add_', target: leaf.name, args: [this.k] }, this.inNoGrad);
    if (!this.inNoGrad && leaf.requiresGrad) return r.raise(at, 'leaf-inplace');
    const s = m.storages[leaf.storage]!;
    s.value = s.value.map((v) => v + this.k);
    s.version++;
    r.observe(leaf.name, expectLeaf(m, leaf));
  }
  toString(): string {
    return `InplaceAdd(${this.leaf}, ${this.k}, noGrad=${this.inNoGrad})`;
  }
}

/** Looks at a leaf and its `.grad`, or at a loss and its `.grad` (None: backward.leaf-only). */
class Observe implements Cmd {
  constructor(readonly kind: 'leaf' | 'loss', readonly index: number) {}
  check(m: Readonly<Model>): boolean {
    return (this.kind === 'leaf' ? m.leaves : m.losses).length > 0;
  }
  run(m: Model, r: Real): void {
    if (this.kind === 'leaf') {
      const leaf = leafAt(m, this.index)!;
      r.describe(`observe ${leaf.name}`);
      r.observe(leaf.name, expectLeaf(m, leaf));
      observeGrad(r, leaf);
      return;
    }
    const loss = m.losses[this.index % m.losses.length]!;
    r.describe(`observe ${loss.name}`);
    r.observe(loss.name, { requiresGrad: loss.requiresGrad, isLeaf: !loss.requiresGrad, hasGradFn: loss.requiresGrad, value: [loss.value], version: 0 });
    r.observe(`${loss.name}.grad`, { none: true });
  }
  toString(): string {
    return `Observe(${this.kind} ${this.index})`;
  }
}

// ----- arbitraries -----

const index = fc.nat({ max: 7 });
const small = fc.integer({ min: -3, max: 3 });
const values = fc.array(fc.integer({ min: -5, max: 5 }), { minLength: N, maxLength: N });

const createLeaf = fc.tuple(values, fc.boolean()).map(([v, g]) => new CreateLeaf(v, g));
const buildLoss = fc
  .array(fc.record({ leaf: index, coeff: fc.oneof(small, fc.array(small, { minLength: N, maxLength: N })) }, { noNullPrototype: true }), { minLength: 1, maxLength: 3 })
  .map((terms) => new BuildLoss(terms));
const mostly = (p: boolean) => fc.oneof({ arbitrary: fc.constant(p), weight: 2 }, { arbitrary: fc.constant(!p), weight: 1 });
const backward = fc.tuple(index, mostly(true), fc.boolean()).map(([l, retain, off]) => new Backward(l, retain, off));

/** Weighted by repetition: leaves, losses and passes are what the other commands need. */
export const commandArbitraries: fc.Arbitrary<Cmd>[] = [
  createLeaf,
  buildLoss,
  buildLoss,
  backward,
  backward,
  backward,
  backward,
  index.map((i) => new ZeroGrad(i)),
  index.map((i) => new ZeroGrad(i)),
  index.map((i) => new ClearGrad(i)),
  fc.tuple(index, fc.boolean(), fc.boolean()).map(([i, flag, off]) => new SetRequiresGrad(i, flag, off)),
  index.map((i) => new Detach(i)),
  fc.tuple(index, fc.constantFrom('mul' as const, 'add' as const), small).map(([i, op, k]) => new NoGradCompute(i, op, k)),
  fc.tuple(index, small, fc.boolean()).map(([i, k, off]) => new InplaceAdd(i, k, off)),
  fc.tuple(fc.constantFrom('leaf' as const, 'loss' as const), index).map(([kind, i]) => new Observe(kind, i)),
];

export type Sample = Iterable<Cmd>;

/** x0 requires grad, x1 does not; L0 = sum(x0 * [2, -1] + x1 * 3) reaches only x0. */
const SETUP: Cmd[] = [new CreateLeaf([1, 2], true), new CreateLeaf([3, -1], false), new BuildLoss([{ leaf: 0, coeff: [2, -1] }, { leaf: 1, coeff: 3 }])];

/**
 * Walks the commands as fc.modelRun would (check, then run), stopping at a predicted error.
 * Every program starts with the same three commands (SETUP), so that commands that need a leaf
 * or a loss are not skipped while waiting for one.
 */
export function simulate(sample: Sample): Real {
  const model: Model = { leaves: [], storages: [], losses: [] };
  const real = new Real();
  for (const setup of SETUP) {
    real.begin(setup.toString(), '(setup) ');
    setup.run(model, real);
  }
  for (const cmd of sample) {
    if (real.error) break;
    if (!cmd.check(model)) continue;
    real.begin(cmd.toString());
    cmd.run(model, real);
  }
  return real;
}

const built = new WeakMap<object, Real>();
const simulated = (sample: Sample): Real => {
  let real = built.get(sample);
  if (!real) {
    real = simulate(sample);
    built.set(sample, real);
  }
  return real;
};

/**
 * The command sequences. fast-check shrinks only the commands that ran, and learns which ran
 * from the run itself; a replay (GRADSPEC_PATH) walks the shrink path without running anything,
 * so it would find no command to shrink. Which commands run depends on the model alone, never on
 * what the engine reports, so each sequence is simulated as soon as it is generated or shrunk:
 * runs, shrinks and replays then see the same commands as having run.
 */
const commandSequences: fc.Arbitrary<Sample> = fc.commands(commandArbitraries, { maxCommands: 12, size: 'max' }).map((sample) => {
  simulated(sample);
  return sample;
});

// ----- judging -----

type Field = Capabilities['fields'][number];

/** The fields of `o` that differ from `e`, described; fields the engine cannot report are skipped. */
function differs(e: Expected, o: Observation, fields: ReadonlySet<Field>): string | null {
  if (e.none) return o.none ? null : `expected None, got a tensor (${JSON.stringify(o.value)})`;
  if (o.none) return 'expected a tensor, got None';
  const found: string[] = [];
  if (e.value && fields.has('value')) {
    const got = flat(o.value);
    if (got.length !== e.value.length || got.some((v, i) => v !== e.value![i])) found.push(`value: expected ${show(e.value)}, got ${show(got)}`);
  }
  const checks: [Field, unknown, unknown][] = [
    ['requiresGrad', e.requiresGrad, o.requiresGrad],
    ['isLeaf', e.isLeaf, o.isLeaf],
    ['gradFn', e.hasGradFn, o.gradFn === undefined ? undefined : o.gradFn !== null],
    ['version', e.version, o.version],
  ];
  for (const [field, want, got] of checks) {
    if (want === undefined || !fields.has(field) || want === got) continue;
    found.push(field === 'gradFn' ? `gradFn: expected ${want ? 'a grad_fn' : 'null'}, got ${o.gradFn}` : `${field}: expected ${want}, got ${got}`);
  }
  return found.length > 0 ? found.join('; ') : null;
}

/** The command that added the top-level step of an error path. */
function commandOfStep(real: Real, step: string): number {
  const top = Number(step.split('.')[0]);
  return real.stepCommand[top] ?? real.commands.length - 1;
}

function report(real: Real, command: number, problem: string): string {
  const listing = real.commands.map((c, i) => `${i === command ? '>' : ' '} ${i}: ${c}`).join('\n');
  return `command ${command} (${real.commands[command]}): ${problem}\n  commands that ran:\n${listing.replace(/^/gm, '    ')}`;
}

export function judgeModel(sample: Sample, [o]: Observations[], engine: Adapter): string | null {
  const real = simulated(sample);
  const fields = new Set(engine.capabilities.fields);
  const problems: { command: number; text: string }[] = [];

  const want = real.error;
  const got = o!.error;
  const sameError = (want === null && got === null) || (want !== null && got !== null && want.step === got.step && want.category === got.category);

  for (const [i, p] of real.predictions.entries()) {
    const obs = o!.observations[i];
    if (!obs) {
      // An engine that stopped at an unexpected error is reported below, at the failing command.
      if (sameError) problems.push({ command: p.command, text: `observation '${p.label}' is missing` });
      break;
    }
    if (obs.label !== p.label) {
      problems.push({ command: p.command, text: `expected observation '${p.label}', got '${obs.label}'` });
      break;
    }
    const d = differs(p.expect, obs, fields);
    if (d) {
      problems.push({ command: p.command, text: `${p.label}: ${d}` });
      break;
    }
  }

  if (!sameError) {
    const at = got ? commandOfStep(real, got.step) : Infinity;
    const command = Math.min(at, want ? want.command : Infinity);
    const expected = want ? `${want.category} at step ${want.step}` : 'no error';
    problems.push({ command, text: `expected ${expected}, got ${errorOf(o!)}` });
  } else if (o!.observations.length > real.predictions.length) {
    problems.push({ command: real.commands.length - 1, text: `${o!.observations.length - real.predictions.length} observations more than observe steps` });
  }

  if (problems.length === 0) return null;
  const first = problems.reduce((a, b) => (b.command < a.command ? b : a));
  return report(real, first.command, first.text);
}

export const model: Property<Sample> = {
  id: 'model.stateful',
  needs: ['errors'],
  fields: ['requiresGrad', 'isLeaf', 'gradFn', 'version'],
  clauses: [
    'backward.accumulate',
    'backward.zero-grad',
    'graph.requires-grad-toggle',
    'graph.detach',
    'mode.no-grad',
    'inplace.leaf-error',
    'backward.freed-graph',
    'graph.is-leaf',
  ],
  title: 'random command sequences (leaves, linear losses, backward, zero_/clearGrad, requiresGrad_, detach, noGrad, add_) keep .grad, flags, versions and errors as a model predicts',
  arbitrary: commandSequences,
  programs: (sample) => [simulated(sample).program()],
  judge: judgeModel,
};
