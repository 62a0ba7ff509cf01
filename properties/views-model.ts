import fc from 'fast-check';
import type { Adapter } from '../adapters/types.ts';
import type { IndexItem, Observations, Program, Step } from '../spec/program.ts';
import { errorOf, flat } from './observed.ts';
import type { Property } from './property.ts';

/*
 * A stateful model of storages, views and version counters (views.alias, views.rebase). Random
 * commands make views of two bases, write through them (in grad mode or not), copy, gather and
 * observe; a small model predicts every value, version and storage sharing exactly, and in the
 * end the gradients of one tensor's sum with respect to the two leaves.
 *
 * The model keeps each storage as slots. A tensor is a list of slots (row-major), so a view is
 * only an index map, written here without strides: the engine's layout arithmetic is not reused.
 * Every slot holds its value and a linear form over the leaves' elements: the derivative the
 * recorded graph gives it. Writes in grad mode multiply, shift, fill or copy the form as they do
 * the value; writes in no-grad mode change the value only (they record nothing), which is how
 * PyTorch's gradients and values part ways. Values are small integers in float64: exact.
 */

/** Both bases are x_i * 1 of a [2, 3] leaf that requires grad. */
const LEAVES: number[][][] = [[[1, 2, 3], [4, 5, 6]], [[-1, 0, 2], [3, -2, 1]]];

/** d slot / d leaf element, keyed `<leaf>:<flat index>`. */
type Form = Map<string, number>;
interface Slot { value: number; form: Form }
interface Storage { slots: Slot[]; version: number }
export interface View { name: string; storage: number; shape: number[]; slots: number[] }

export type ViewOp =
  | { op: 'transpose'; dim0: number; dim1: number }
  | { op: 'select'; dim: number; index: number }
  | { op: 'slice'; dim: number; start: number; stop: number; step: number }
  | { op: 'narrow'; dim: number; start: number; length: number }
  | { op: 'unsqueeze'; dim: number }
  | { op: 'squeeze'; dim: number }
  | { op: 'diagonal'; offset: number }
  | { op: 'permute'; seed: number };

export type Command =
  | { kind: 'view'; of: number; view: ViewOp }
  | { kind: 'write'; target: number; op: 'mul_' | 'add_' | 'fill_' | 'zero_'; k: number; noGrad: boolean }
  | { kind: 'copy'; target: number; src: number }
  | { kind: 'put'; target: number; at: number; value: number; advanced: boolean }
  | { kind: 'clone'; of: number; gather: boolean }
  /** view (fails where the layout does not allow it) or reshape (a view where it can be, else a copy) to another shape. */
  | { kind: 'reshape'; of: number; pick: number; asView: boolean }
  | { kind: 'observe'; of: number; other: number };

const numel = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** Calls `f` with every multi-index of `shape`, in row-major order. */
function eachIndex(shape: readonly number[], f: (index: number[], flat: number) => void): void {
  const index = shape.map(() => 0);
  for (let n = 0; n < numel(shape); n++) {
    f(index, n);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

/** The slots of a view whose element `o` is the parent's element `source(o)`. */
function mapView(parent: View, shape: number[], source: (o: number[]) => number[]): number[] {
  const rowMajor = (i: number[]) => i.reduce((n, x, d) => n * parent.shape[d]! + x, 0);
  const out: number[] = [];
  eachIndex(shape, (o) => out.push(parent.slots[rowMajor(source(o))]!));
  return out;
}

const wrap = (d: number, rank: number) => ((d % rank) + rank) % rank;

/** The view op as the model applies it (null when it does not apply to this shape) and as a program step. */
export function applyView(p: View, v: ViewOp, name: string): { view: View; step: Step } | null {
  const r = p.shape.length;
  const at = (shape: number[], source: (o: number[]) => number[]): View => ({ name, storage: p.storage, shape, slots: mapView(p, shape, source) });
  const step = (op: string, attrs: Record<string, unknown>): Step => ({ let: name, op, args: [p.name], attrs } as Step);
  switch (v.op) {
    case 'transpose': {
      if (r === 0) return null;
      const [a, b] = [wrap(v.dim0, r), wrap(v.dim1, r)];
      const perm = p.shape.map((_, i) => (i === a ? b : i === b ? a : i));
      return { view: at(perm.map((d) => p.shape[d]!), (o) => { const i = [...o]; [i[a], i[b]] = [o[b]!, o[a]!]; return i; }), step: step('transpose', { dim0: a, dim1: b }) };
    }
    case 'permute': {
      if (r < 2) return null;
      const perm = p.shape.map((_, i) => i).sort((x, y) => ((x * 7 + v.seed) % 5) - ((y * 7 + v.seed) % 5) || x - y);
      return { view: at(perm.map((d) => p.shape[d]!), (o) => { const i = new Array<number>(r); perm.forEach((d, k) => (i[d] = o[k]!)); return i; }), step: step('permute', { dims: perm }) };
    }
    case 'select': {
      if (r === 0) return null;
      const d = wrap(v.dim, r);
      const size = p.shape[d]!;
      if (size === 0) return null;
      const index = v.index % size;
      return { view: at(p.shape.filter((_, i) => i !== d), (o) => [...o.slice(0, d), index, ...o.slice(d)]), step: step('select', { dim: d, index }) };
    }
    case 'slice':
    case 'narrow': {
      if (r === 0) return null;
      const d = wrap(v.dim, r);
      const size = p.shape[d]!;
      // narrow's start must lie inside the dim (op.narrow); a slice's is clamped into it.
      if (v.op === 'narrow' && size === 0) return null;
      const start = v.op === 'narrow' ? v.start % size : Math.min(v.start, size);
      const [stop, stepBy] = v.op === 'slice' ? [Math.max(start, Math.min(v.stop, size)), v.step] : [Math.min(start + v.length, size), 1];
      const count = Math.ceil((stop - start) / stepBy);
      const shape = p.shape.map((s, i) => (i === d ? count : s));
      const view = at(shape, (o) => o.map((x, i) => (i === d ? start + x * stepBy : x)));
      if (v.op === 'narrow') return { view, step: step('narrow', { dim: d, start, length: stop - start }) };
      const items: IndexItem[] = [...Array.from({ length: d }, () => ({})), { start, stop, step: stepBy }];
      return { view, step: step('index', { items }) };
    }
    case 'unsqueeze': {
      const d = wrap(v.dim, r + 1);
      return { view: at([...p.shape.slice(0, d), 1, ...p.shape.slice(d)], (o) => [...o.slice(0, d), ...o.slice(d + 1)]), step: step('unsqueeze', { dim: d }) };
    }
    case 'squeeze': {
      if (r === 0) return null;
      const d = wrap(v.dim, r);
      if (p.shape[d] !== 1) return { view: at([...p.shape], (o) => o), step: step('squeeze', { dim: d }) };
      return { view: at(p.shape.filter((_, i) => i !== d), (o) => [...o.slice(0, d), 0, ...o.slice(d)]), step: step('squeeze', { dim: d }) };
    }
    case 'diagonal': {
      if (r < 2) return null;
      const [s1, s2] = [p.shape[0]!, p.shape[1]!];
      const size = Math.max(0, v.offset >= 0 ? Math.min(s1, s2 - v.offset) : Math.min(s1 + v.offset, s2));
      const shape = [...p.shape.slice(2), size];
      const source = (o: number[]) => { const i = o[o.length - 1]!; return [v.offset >= 0 ? i : i - v.offset, v.offset >= 0 ? i + v.offset : i, ...o.slice(0, -1)]; };
      return { view: at(shape, source), step: step('diagonal', { offset: v.offset, dim1: 0, dim2: 1 }) };
    }
  }
}

/** The shapes of 1 to 3 dims holding n elements (dims of 1 included). */
function shapesOf(n: number): number[][] {
  const out: number[][] = [[n]];
  for (let a = 1; a <= n; a++) {
    if (n % a !== 0) continue;
    out.push([a, n / a]);
    for (let b = 1; b <= n / a; b++) if ((n / a) % b === 0) out.push([a, b, n / a / b]);
  }
  return out;
}

/**
 * Whether elements at these storage slots, read in row-major order of `shape`, can be one
 * tensor's geometry: slot = offset + sum of index × stride, for some strides. This is the
 * definition of a view, checked directly from the slots, not with PyTorch's algorithm.
 */
function viewable(slots: readonly number[], shape: readonly number[]): boolean {
  if (slots.length === 0) return true;
  const strides = shape.map((size, d) => {
    if (size < 2) return 0;
    const step = numel(shape.slice(d + 1));
    return slots[step]! - slots[0]!;
  });
  let ok = true;
  eachIndex(shape, (index, flat) => {
    if (slots[flat] !== slots[0]! + index.reduce((sum, i, d) => sum + i * strides[d]!, 0)) ok = false;
  });
  return ok;
}

const addForm = (a: Form, b: Form, k = 1): Form => {
  const out = new Map(a);
  for (const [key, c] of b) out.set(key, (out.get(key) ?? 0) + k * c);
  return out;
};
const scaled = (f: Form, k: number): Form => new Map([...f].map(([key, c]) => [key, c * k]));

/** What the program must report, in observe order, and the leaves' gradients at the end. */
export interface Simulation {
  program: Program;
  commands: string[];
  /** For each observation: its label, the command that made it, and what it must show. */
  expect: { label: string; command: number; value: number[]; version: number; sharesStorage: boolean }[];
  /** The leaves' gradients at the end; null when the program must stop at `error`. */
  grads: number[][] | null;
  /** A view the layout cannot give: the step must fail with shape-mismatch. */
  error: { step: string; command: number } | null;
}

export function simulate(commands: readonly Command[]): Simulation {
  const storages: Storage[] = LEAVES.map((leaf, l) => ({
    version: 0,
    slots: leaf.flat().map((value, i) => ({ value, form: new Map([[`${l}:${i}`, 1]]) })),
  }));
  const steps: Step[] = [];
  const views: View[] = LEAVES.map((leaf, l) => {
    steps.push({ let: `x${l}`, tensor: leaf, requiresGrad: true }, { let: `b${l}`, op: 'mul', args: [`x${l}`, 1] });
    return { name: `b${l}`, storage: l, shape: [2, 3], slots: [0, 1, 2, 3, 4, 5] };
  });
  const ran: string[] = [];
  const expect: Simulation['expect'] = [];
  let names = 0;
  const pick = (i: number) => views[i % views.length]!;
  const write = (t: View, recorded: boolean, f: (s: Slot, k: number) => Slot) => {
    const store = storages[t.storage]!;
    t.slots.forEach((slot, k) => { const next = f(store.slots[slot]!, k); store.slots[slot] = recorded ? next : { value: next.value, form: store.slots[slot]!.form }; });
    store.version++;
  };
  for (const c of commands) {
    if (c.kind === 'view') {
      const parent = pick(c.of);
      const made = applyView(parent, c.view, `v${names}`);
      if (!made) continue;
      names++;
      views.push(made.view);
      steps.push(made.step);
      ran.push(`${made.view.name} = ${parent.name}.${(made.step as { op: string }).op}(${JSON.stringify((made.step as { attrs?: unknown }).attrs ?? {})})`);
    } else if (c.kind === 'write') {
      const t = pick(c.target);
      const args = c.op === 'zero_' ? [] : [c.k];
      const step: Step = { inplace: c.op, target: t.name, ...(args.length ? { args } : {}) };
      steps.push(c.noGrad ? { noGrad: [step] } : step);
      write(t, !c.noGrad, (s) => (c.op === 'mul_' ? { value: s.value * c.k, form: scaled(s.form, c.k) }
        : c.op === 'add_' ? { value: s.value + c.k, form: s.form }
        : { value: c.op === 'fill_' ? c.k : 0, form: new Map() }));
      ran.push(`${c.noGrad ? 'no_grad: ' : ''}${t.name}.${c.op}(${args.join()})`);
    } else if (c.kind === 'copy') {
      const t = pick(c.target);
      // From the other base's storage only: PyTorch refuses copies between overlapping parts of one storage.
      const src = views.find((v, i) => i >= c.src % views.length && v.storage !== t.storage && v.shape.join() === t.shape.join());
      if (!src) continue;
      const from = storages[src.storage]!;
      const values = src.slots.map((s) => from.slots[s]!);
      steps.push({ inplace: 'copy_', target: t.name, args: [src.name] });
      write(t, true, (_s, k) => ({ value: values[k]!.value, form: values[k]!.form }));
      ran.push(`${t.name}.copy_(${src.name})`);
    } else if (c.kind === 'put') {
      const t = pick(c.target);
      if (t.shape.length === 0 || t.shape[0] === 0) continue;
      const size = t.shape[0]!;
      // x[i] = v (a select and fill_), or x[[i, j]] = v with distinct i, j (index_put_).
      const rows = c.advanced ? [...new Set([c.at % size, (c.at + 1) % size])] : [c.at % size];
      const rowSize = numel(t.shape.slice(1));
      const hit = new Set(rows.flatMap((r) => Array.from({ length: rowSize }, (_, k) => r * rowSize + k)));
      steps.push({ inplace: 'indexPut_', target: t.name, args: [c.value], attrs: { items: [c.advanced ? rows : rows[0]!] } });
      write({ ...t, slots: t.slots.filter((_, k) => hit.has(k)) }, true, () => ({ value: c.value, form: new Map() }));
      ran.push(`${t.name}[${c.advanced ? JSON.stringify(rows) : rows[0]}] = ${c.value}`);
    } else if (c.kind === 'reshape') {
      // The newest views most often: they are the ones whose layout a chain has bent.
      const p = views[views.length - 1 - (c.of % views.length)]!;
      // Views of the bases only: copies of non-contiguous tensors keep their layout in PyTorch (views.layout).
      const shapes = shapesOf(numel(p.shape)).filter((sh) => sh.join() !== p.shape.join());
      if (p.storage >= LEAVES.length || shapes.length === 0 || numel(p.shape) === 0) continue;
      const shape = shapes[c.pick % shapes.length]!;
      const name = `v${names++}`;
      steps.push({ let: name, op: c.asView ? 'view' : 'reshape', args: [p.name], attrs: { shape } });
      ran.push(`${name} = ${p.name}.${c.asView ? 'view' : 'reshape'}(${JSON.stringify(shape)})`);
      if (viewable(p.slots, shape)) {
        views.push({ name, storage: p.storage, shape, slots: [...p.slots] });
      } else if (c.asView) {
        // view refuses; the program ends here (op.view).
        return { program: { id: 'views.model', dtype: 'float64', steps }, commands: ran, expect, grads: null, error: { step: String(steps.length - 1), command: ran.length - 1 } };
      } else {
        const from = storages[p.storage]!;
        storages.push({ version: 0, slots: p.slots.map((slot) => ({ ...from.slots[slot]! })) });
        views.push({ name, storage: storages.length - 1, shape, slots: p.slots.map((_, i) => i) });
      }
    } else if (c.kind === 'clone') {
      // A copy has its own storage: later writes to either do not reach the other.
      const p = pick(c.of);
      if (c.gather && (p.shape.length === 0 || p.shape[0] === 0)) continue;
      const name = `v${names++}`;
      const rows = c.gather ? [p.shape[0]! - 1, 0] : [];
      const copy: View = c.gather
        ? { name, storage: storages.length, shape: [2, ...p.shape.slice(1)], slots: mapView(p, [2, ...p.shape.slice(1)], (o) => [rows[o[0]!]!, ...o.slice(1)]) }
        : { name, storage: storages.length, shape: [...p.shape], slots: [...p.slots] };
      const from = storages[p.storage]!;
      storages.push({ version: 0, slots: copy.slots.map((s) => ({ ...from.slots[s]! })) });
      copy.slots = copy.slots.map((_, i) => i);
      views.push(copy);
      steps.push(c.gather ? { let: name, op: 'index', args: [p.name], attrs: { items: [rows] } } : { let: name, op: 'clone', args: [p.name] });
      ran.push(`${name} = ${p.name}${c.gather ? `[${JSON.stringify(rows)}]` : '.clone()'}`);
    } else {
      const t = pick(c.of);
      const other = pick(c.other);
      const label = `o${expect.length}`;
      // The layout of views of the two bases is PyTorch's; that of copies of non-contiguous tensors is not specified (views.layout).
      steps.push({ observe: t.name, label, sameStorage: other.name, ...(t.storage < LEAVES.length ? { layout: true } : {}) });
      const store = storages[t.storage]!;
      expect.push({ label, command: ran.length, value: t.slots.map((s) => store.slots[s]!.value), version: store.version, sharesStorage: t.storage === other.storage });
      ran.push(`observe ${t.name} (storage shared with ${other.name}?)`);
    }
  }
  // The end: the sum of the last tensor made, backward, and both leaves' gradients.
  const last = views[views.length - 1]!;
  const store = storages[last.storage]!;
  const total = last.slots.reduce<Form>((f, s) => addForm(f, store.slots[s]!.form), new Map());
  steps.push({ let: 's', op: 'sum', args: [last.name] }, { backward: 's' }, { observe: 'x0.grad', label: 'x0.grad' }, { observe: 'x1.grad', label: 'x1.grad' });
  ran.push(`${last.name}.sum().backward()`);
  const grads = LEAVES.map((_, l) => Array.from({ length: 6 }, (_, i) => total.get(`${l}:${i}`) ?? 0));
  return { program: { id: 'views.model', dtype: 'float64', steps }, commands: ran, expect, grads, error: null };
}

// ----- commands -----

const small = fc.integer({ min: -2, max: 3 });
export const viewOp: fc.Arbitrary<ViewOp> = fc.oneof(
  fc.record({ op: fc.constant('transpose' as const), dim0: fc.nat(3), dim1: fc.nat(3) }),
  fc.record({ op: fc.constant('select' as const), dim: fc.nat(3), index: fc.nat(3) }),
  // Slices with a step that still leave two or more elements come often: writes through strided
  // views are where an engine's index arithmetic breaks (a step-2 write-back to the wrong slots).
  fc.oneof(
    fc.record({ op: fc.constant('slice' as const), dim: fc.nat(3), start: fc.nat(2), stop: fc.integer({ min: 1, max: 4 }), step: fc.integer({ min: 1, max: 2 }) }),
    fc.record({ op: fc.constant('slice' as const), dim: fc.nat(3), start: fc.constantFrom(0, 1), stop: fc.constant(4), step: fc.constant(2) }),
  ),
  fc.record({ op: fc.constant('narrow' as const), dim: fc.nat(3), start: fc.nat(2), length: fc.nat(2) }),
  fc.record({ op: fc.constant('unsqueeze' as const), dim: fc.nat(3) }),
  fc.record({ op: fc.constant('squeeze' as const), dim: fc.nat(3) }),
  fc.record({ op: fc.constant('diagonal' as const), offset: fc.integer({ min: -1, max: 2 }) }),
  fc.record({ op: fc.constant('permute' as const), seed: fc.nat(4) }),
);
const index = fc.nat(12);
const command: fc.Arbitrary<Command> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('view' as const), of: index, view: viewOp }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('write' as const), target: index, op: fc.constantFrom('mul_' as const, 'add_' as const, 'fill_' as const, 'zero_' as const), k: small, noGrad: fc.boolean() }), weight: 3 },
  fc.record({ kind: fc.constant('copy' as const), target: index, src: index }),
  fc.record({ kind: fc.constant('put' as const), target: index, at: fc.nat(3), value: small, advanced: fc.boolean() }),
  fc.record({ kind: fc.constant('clone' as const), of: index, gather: fc.boolean() }),
  { arbitrary: fc.record({ kind: fc.constant('observe' as const), of: index, other: index }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('reshape' as const), of: fc.nat(3), pick: fc.nat(8), asView: fc.boolean() }), weight: 2 },
);

const simulations = new WeakMap<readonly Command[], Simulation>();
const simulated = (sample: readonly Command[]) => {
  let s = simulations.get(sample);
  if (!s) simulations.set(sample, (s = simulate(sample)));
  return s;
};

const show = (v: readonly number[]) => `[${v.join(', ')}]`;

export function judgeViewsModel(sample: readonly Command[], [o]: Observations[], _engine: Adapter): string | null {
  const sim = simulated(sample);
  const listing = (at: number) => sim.commands.map((c, i) => `${i === at ? '>' : ' '} ${i}: ${c}`).join('\n').replace(/^/gm, '    ');
  if (sim.error) {
    const got = o!.error;
    if (!got || got.step !== sim.error.step || got.category !== 'shape-mismatch') {
      return `command ${sim.error.command} (${sim.commands[sim.error.command]}): the layout allows no such view, so it must fail with shape-mismatch at step ${sim.error.step}; got ${errorOf(o!)}\n  commands:\n${listing(sim.error.command)}`;
    }
  } else if (o!.error) return `expected no error, got ${errorOf(o!)}\n  commands:\n${listing(-1)}`;
  for (const e of sim.expect) {
    const got = o!.observations.find((x) => x.label === e.label);
    if (!got) return `observation ${e.label} is missing`;
    const problems: string[] = [];
    const value = flat(got.value);
    if (value.join() !== e.value.join()) problems.push(`value: expected ${show(e.value)}, got ${show(value)}`);
    if (got.version !== undefined && got.version !== e.version) problems.push(`version: expected ${e.version}, got ${got.version}`);
    if (got.sharesStorage !== undefined && got.sharesStorage !== e.sharesStorage) problems.push(`sharesStorage: expected ${e.sharesStorage}, got ${got.sharesStorage}`);
    if (problems.length > 0) return `command ${e.command} (${sim.commands[e.command]}): ${problems.join('; ')}\n  commands:\n${listing(e.command)}`;
  }
  for (const [l, want] of (sim.grads ?? []).entries()) {
    const got = o!.observations.find((x) => x.label === `x${l}.grad`);
    const value = got?.none ? [0, 0, 0, 0, 0, 0] : flat(got?.value);
    if (value.join() !== want.join()) return `x${l}.grad after the final backward: expected ${show(want)}, got ${show(value)}\n  commands:\n${listing(sim.commands.length - 1)}`;
  }
  return null;
}

export const viewsModel: Property<readonly Command[]> = {
  id: 'model.views',
  clauses: ['views.alias', 'views.rebase', 'inplace.version-counter', 'index.basic', 'index.advanced', 'index.put', 'op.copy', 'op.select', 'op.narrow', 'op.diagonal', 'op.view', 'op.reshape'],
  title: 'random views of two bases, writes through them (grad mode on and off), copies, gathers, index writes, and view and reshape to other shapes keep values, versions, storage sharing, view\'s refusals and the leaves\' gradients as a model of storages predicts',
  needs: ['errors'],
  fields: ['version', 'sharesStorage'],
  arbitrary: fc.array(command, { minLength: 1, maxLength: 14, size: 'max' }),
  programs: (sample) => [simulated(sample).program],
  judge: judgeViewsModel,
};
