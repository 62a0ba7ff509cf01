import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ERROR_CATEGORIES } from '../spec/program.ts';
import { autograd, EngineError, isGradEnabled, noGrad, setGradEnabled, Tensor, tensor } from './index.ts';
import { thrown } from './testing/thrown.ts';

/*
 * errors.class under bad input: random sequences of engine API calls on a small pool of tensors,
 * valid and invalid, each of which must return or throw an EngineError that names the call and
 * its operands' shapes, after which the engine must still work.
 */

/** The fixed seed by default; FUZZ_SEED and FUZZ_RUNS explore further (FUZZ_RUNS under 300 gives too few calls). */
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const MIN_CALLS = 10_000;

// ----- arguments -----

/** Values JavaScript callers pass by mistake. Built fresh for each call (some are mutable). */
const JUNK: Record<string, () => unknown> = {
  string: () => 'a',
  digit: () => '0',
  null: () => null,
  undefined: () => undefined,
  object: () => ({}),
  bareObject: () => Object.create(null),
  emptyArray: () => [],
  mixedArray: () => [1, 'x'],
  boolean: () => true,
  nan: () => NaN,
  infinity: () => Infinity,
  fraction: () => 1.5,
  big: () => 2 ** 31,
  symbol: () => Symbol('s'),
  bigint: () => 10n,
  function: () => () => 1,
  typedArray: () => new Float32Array(2),
};
type Junk = { junk: keyof typeof JUNK };
type Ref = { ref: number };
const junk = fc.constantFrom(...Object.keys(JUNK)).map((k): Junk => ({ junk: k }));
const ref = fc.nat(1000).map((n): Ref => ({ ref: n }));
/** Numbers, non-finite ones included: they are valid data and scalars. */
const number = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -3, max: 3 }) },
  { weight: 2, arbitrary: fc.double({ min: -4, max: 4, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity, -0, 1e38, 1e-40) },
);
/** Dims: mostly in range for the small tensors of the pool, sometimes out of range. */
const int = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: -2, max: 2 }) }, { weight: 1, arbitrary: fc.integer({ min: -5, max: 5 }) });
const bool = fc.boolean();
/** `a`, or now and then (junkWeight in 10) a value of the wrong type. */
const or = <T>(a: fc.Arbitrary<T>, junkWeight = 2) => fc.oneof({ weight: 10 - junkWeight, arbitrary: a }, { weight: junkWeight, arbitrary: junk });
const operand = fc.oneof({ weight: 6, arbitrary: ref }, { weight: 2, arbitrary: number }, { weight: 1, arbitrary: junk });
const dim = or(int);
const dims = or(fc.oneof(int, fc.array(int, { maxLength: 4 }), fc.array(or(int), { maxLength: 3 }), fc.constant(undefined)));
const shape = or(fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(-2, -1, 0, 1, 2, 3, 4, 6), { maxLength: 5 }) },
  { weight: 2, arbitrary: fc.array(or(int), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom([2 ** 20, 2 ** 20], [2 ** 14, 2 ** 14, 1], [...Array(70)].map(() => 1)) },
));
const dtype = or(fc.constantFrom('float32', 'float64'));
/** Options of backward and autograd.grad: mostly none or valid flags, sometimes a wrong type. */
const flags = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.record({ retainGraph: bool, createGraph: bool, allowUnused: bool }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: fc.record({ retainGraph: or(bool, 5), createGraph: or(bool, 5), allowUnused: or(bool, 5) }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: junk },
);

const SHAPES = [[], [1], [2], [3], [2, 3], [3, 2], [1, 3], [2, 1], [2, 2, 3], [0], [2, 0], [3, 1, 2]];
/** Data for tensor(): valid nested arrays, ragged ones, bad entries, and a few pathological values. */
const data = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('valid' as const), shape: fc.constantFrom(...SHAPES), values: fc.array(number, { minLength: 12, maxLength: 12 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('ragged' as const), shape: fc.constantFrom([2, 3], [3, 2], [2, 2, 3], [3, 1, 2]), at: fc.nat(5), grow: bool }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('bad-entry' as const), shape: fc.constantFrom([1], [3], [2, 3]), at: fc.nat(5), entry: junk }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('huge' as const, 'cyclic' as const, 'deep' as const, 'sparse' as const, 'scalar-junk' as const), entry: junk }) },
);
type DataSpec =
  | { kind: 'valid'; shape: number[]; values: number[] }
  | { kind: 'ragged'; shape: number[]; at: number; grow: boolean }
  | { kind: 'bad-entry'; shape: number[]; at: number; entry: Junk }
  | { kind: 'huge' | 'cyclic' | 'deep' | 'sparse' | 'scalar-junk'; entry: Junk };

function nest(values: readonly unknown[], shape: readonly number[]): unknown {
  if (shape.length === 0) return values[0];
  const step = shape.slice(1).reduce((n, d) => n * d, 1);
  return Array.from({ length: shape[0]! }, (_, i) => nest(values.slice(i * step, (i + 1) * step), shape.slice(1)));
}

function buildData(d: DataSpec): unknown {
  switch (d.kind) {
    case 'valid': return nest(d.values, d.shape);
    case 'ragged': {
      const rows = nest(Array(12).fill(1), d.shape) as unknown[][];
      const row = rows[d.at % rows.length]!;
      if (d.grow) row.push(row[0]);
      else row.pop();
      return rows;
    }
    case 'bad-entry': {
      const count = d.shape.reduce((n, k) => n * k, 1);
      const values: unknown[] = Array(count).fill(1);
      values[d.at % count] = JUNK[d.entry.junk]!();
      return nest(values, d.shape);
    }
    case 'huge': return Array(2 ** 27); // over 2^26 elements: refused before anything is allocated
    case 'cyclic': { const a: unknown[] = [1]; a[0] = a; return a; }
    case 'deep': { let a: unknown = 1; for (let i = 0; i < 70; i++) a = [a]; return a; }
    case 'sparse': return [1, , 3]; // a hole where a number should be
    case 'scalar-junk': return JUNK[d.entry.junk]!();
  }
}
const tensorOptions = fc.oneof(
  fc.constant(undefined),
  fc.record({ requiresGrad: or(bool, 1), dtype: or(fc.constantFrom('float32', 'float64'), 1) }, { requiredKeys: [] }),
  junk,
);

// ----- commands -----

const UNARY = ['neg', 'exp', 'log', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu', 'sqrt', 'abs', 'reciprocal', 'sgn', 'clone', 'detach', 't'] as const;
const BINARY = ['add', 'sub', 'mul', 'div', 'pow', 'add_', 'sub_', 'mul_', 'div_'] as const;
const PRODUCTS = ['matmul', 'mm', 'mv', 'bmm', 'thresholdBackward'] as const;

const command = fc.oneof(
  { weight: 3, arbitrary: fc.record({ c: fc.constant('tensor' as const), data, options: tensorOptions }) },
  { weight: 8, arbitrary: fc.record({ c: fc.constantFrom(...BINARY), x: ref, other: operand }) },
  { weight: 4, arbitrary: fc.record({ c: fc.constantFrom(...UNARY), x: ref }) },
  { weight: 4, arbitrary: fc.record({ c: fc.constantFrom(...PRODUCTS), x: ref, other: or(ref) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('where' as const), x: ref, mask: or(ref), fill: or(number) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constantFrom('zero_' as const, 'fill_' as const), x: ref, value: or(number) }) },
  { weight: 3, arbitrary: fc.record({ c: fc.constantFrom('sum' as const, 'mean' as const), x: ref, dim: dims, keepdim: fc.oneof(fc.constant(undefined), or(bool, 1)) }) },
  { weight: 4, arbitrary: fc.record({ c: fc.constantFrom('reshape' as const, 'view' as const, 'expand' as const), x: ref, shape }) },
  { weight: 3, arbitrary: fc.record({ c: fc.constantFrom('transpose' as const), x: ref, d0: dim, d1: dim }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constantFrom('unsqueeze' as const, 'squeeze' as const), x: ref, dim: fc.oneof(dim, fc.constant(undefined)) }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('permute' as const), x: ref, dims: fc.oneof(fc.constant('reversed'), or(fc.array(or(int), { maxLength: 4 }))) }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('to' as const), x: ref, dtype }) },
  // Backward from a sum (a scalar with a graph) or from the tensor itself, with a gradient that is
  // missing, right, of the wrong shape, or not a tensor; twice, so that graphs get freed.
  { weight: 6, arbitrary: fc.record({ c: fc.constant('backward' as const), x: ref, sum: fc.nat(3).map((n) => n > 0), twice: bool, gradient: fc.oneof({ weight: 3, arbitrary: fc.constant('none') }, { weight: 2, arbitrary: fc.constant('ones') }, { weight: 2, arbitrary: ref }, { weight: 1, arbitrary: junk }), options: flags }) },
  { weight: 4, arbitrary: fc.record({ c: fc.constant('grad' as const), outputs: fc.array(or(ref, 1), { minLength: 1, maxLength: 2 }), sum: fc.nat(3).map((n) => n > 0), inputs: or(fc.array(or(ref, 1), { minLength: 1, maxLength: 2 }), 1), gradOutputs: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.array(fc.oneof(ref, fc.constant(null)), { maxLength: 2 }) }), options: flags }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constant('autograd.backward' as const), tensors: fc.array(or(ref, 1), { maxLength: 2 }), sum: fc.nat(3).map((n) => n > 0), grads: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.array(fc.oneof(ref, fc.constant(null), junk), { maxLength: 2 }) }, { weight: 1, arbitrary: junk }), options: flags }) },
  { weight: 3, arbitrary: fc.record({ c: fc.constantFrom('requiresGrad_' as const), x: ref, flag: fc.oneof(fc.constant(undefined), or(bool, 1)) }) },
  { weight: 2, arbitrary: fc.record({ c: fc.constantFrom('detach_' as const, 'retainGrad' as const, 'item' as const, 'tolist' as const, 'toString' as const), x: ref }) },
  { weight: 1, arbitrary: fc.record({ c: fc.constant('grad=' as const), x: ref, value: fc.oneof(ref, fc.constant(null), junk) }) },
  // .grad joins the pool, so accumulated gradients (in place, or views after createGraph) get used.
  { weight: 2, arbitrary: fc.record({ c: fc.constant('.grad' as const), x: ref }) },
  // Grad mode with arguments of the wrong type: refused, and the mode is unchanged.
  { weight: 1, arbitrary: fc.record({ c: fc.constantFrom('setGradEnabled' as const, 'noGrad' as const), value: junk }) },
);
/** One command in six runs under noGrad (in-place ops on leaves that require grad are then allowed). */
const step = fc.record({ cmd: command, noGrad: fc.nat(5).map((n) => n === 0) });
type Cmd = { c: string } & Record<string, unknown>;

/** One API call: its op name as the engine reports it, its operands, and the call itself. */
interface Call {
  op: string;
  operands: unknown[];
  run: () => unknown;
  /** Errors of calls that are not about tensors (grad mode) need not name an op. */
  untensored?: boolean;
}

const isRef = (v: unknown): v is Ref => typeof v === 'object' && v !== null && 'ref' in v;
const isJunk = (v: unknown): v is Junk => typeof v === 'object' && v !== null && 'junk' in v;

/** Turns a generated command into calls on the pool (a backward twice is two calls). */
function calls(cmd: Cmd, pool: Tensor[]): Call[] {
  const val = (v: unknown): unknown => (isRef(v) ? pool[v.ref % pool.length] : isJunk(v) ? JUNK[v.junk]!() : v);
  const valDeep = (v: unknown): unknown => (Array.isArray(v) ? v.map(val) : val(v));
  const flagsOf = (v: unknown): unknown =>
    v === undefined || isJunk(v) ? val(v) : Object.fromEntries(Object.entries(v as object).map(([k, f]) => [k, val(f)]));
  const x = isRef(cmd.x) ? pool[cmd.x.ref % pool.length]! : undefined!;
  const c = cmd.c;
  switch (c) {
    case 'tensor': {
      const d = buildData(cmd.data as DataSpec);
      const options = val(cmd.options) ?? undefined;
      const opts = typeof options === 'object' && options !== null && !isJunk(cmd.options) ? flagsOf(options) : options;
      return [{ op: 'tensor', operands: [], run: () => tensor(d as number[], opts as never) }];
    }
    case 'add': case 'sub': case 'mul': case 'div': case 'pow':
    case 'add_': case 'sub_': case 'mul_': case 'div_': {
      const other = val(cmd.other);
      return [{ op: c, operands: [x, other], run: () => x[c](other as number) }];
    }
    case 'matmul': case 'mm': case 'mv': case 'bmm': case 'thresholdBackward': {
      const other = val(cmd.other);
      return [{ op: c, operands: [x, other], run: () => x[c](other as Tensor) }];
    }
    case 'where': {
      const mask = val(cmd.mask);
      const fill = val(cmd.fill);
      // A tensor mask becomes a bool condition (mask > 0), so where's own path runs, not only its refusal.
      return [{ op: c, operands: [x, mask], run: () => x.where(mask instanceof Tensor ? mask.gt(0) : mask as Tensor, fill as number) }];
    }
    case 'zero_': return [{ op: c, operands: [x], run: () => x.zero_() }];
    case 'fill_': { const v = val(cmd.value); return [{ op: c, operands: [x], run: () => x.fill_(v as number) }]; }
    case 'sum': case 'mean': {
      const d = valDeep(cmd.dim);
      const k = val(cmd.keepdim);
      return [{ op: c, operands: [x], run: () => x[c](d as number, k as boolean) }];
    }
    case 'reshape': case 'view': case 'expand': {
      const s = valDeep(cmd.shape);
      return [{ op: c, operands: [x], run: () => x[c](s as number[]) }];
    }
    case 'transpose': { const [a, b] = [val(cmd.d0), val(cmd.d1)]; return [{ op: c, operands: [x], run: () => x.transpose(a as number, b as number) }]; }
    case 'unsqueeze': case 'squeeze': { const d = val(cmd.dim); return [{ op: c, operands: [x], run: () => x[c](d as number) }]; }
    case 'permute': { const d = cmd.dims === 'reversed' ? x.shape.map((_, i) => x.ndim - 1 - i) : valDeep(cmd.dims); return [{ op: c, operands: [x], run: () => x.permute(d as number[]) }]; }
    case 'to': { const d = val(cmd.dtype); return [{ op: c, operands: [x], run: () => x.to(d as 'float32') }]; }
    case 'backward': {
      // Summing first makes a scalar root that usually has a graph; twice without retainGraph frees it.
      const root = cmd.sum ? safe(() => x.sum()) ?? x : x;
      const g = cmd.gradient === 'none' ? undefined
        : cmd.gradient === 'ones' ? safe(() => tensor(1, { dtype: root.dtype }).expand([...root.shape]).clone())
        : val(cmd.gradient);
      const options = flagsOf(cmd.options);
      const call: Call = { op: 'backward', operands: [root, g], run: () => root.backward(g as Tensor, options as never) };
      return cmd.twice ? [call, { ...call }] : [call];
    }
    case 'grad': {
      const outputs = (cmd.outputs as unknown[]).map(val).map((t) => (cmd.sum && t instanceof Tensor ? safe(() => t.sum()) ?? t : t));
      const inputs = valDeep(cmd.inputs);
      const gradOutputs = cmd.gradOutputs === undefined ? undefined : valDeep(cmd.gradOutputs);
      const options = { ...(flagsOf(cmd.options) as object), ...(gradOutputs ? { gradOutputs } : {}) };
      return [{ op: 'autograd.grad', operands: [outputs, inputs, gradOutputs], run: () => autograd.grad(outputs as Tensor[], inputs as Tensor[], options as never) }];
    }
    case 'autograd.backward': {
      const tensors = (cmd.tensors as unknown[]).map(val).map((t) => (cmd.sum && t instanceof Tensor ? safe(() => t.sum()) ?? t : t));
      const grads = valDeep(cmd.grads);
      const options = flagsOf(cmd.options);
      return [{ op: c, operands: [tensors, grads], run: () => autograd.backward(tensors as Tensor[], grads as Tensor[], options as never) }];
    }
    case 'requiresGrad_': { const f = val(cmd.flag); return [{ op: c, operands: [x], run: () => x.requiresGrad_(f as boolean) }]; }
    case 'detach_': case 'retainGrad': case 'item': case 'tolist': case 'toString':
      return [{ op: c, operands: [x], run: () => x[c]() }];
    case 'grad=': {
      const v = val(cmd.value);
      return [{ op: 'grad', operands: [x, v], run: () => { x.grad = v as Tensor; } }];
    }
    case '.grad': return [{ op: 'grad', operands: [x], run: () => x.grad }];
    case 'setGradEnabled': {
      const v = val(cmd.value);
      return [{ op: c, operands: [], untensored: true, run: () => setGradEnabled(v as boolean) }];
    }
    case 'noGrad': {
      const v = val(cmd.value);
      return [{ op: c, operands: [], untensored: true, run: () => noGrad(v as () => unknown) }];
    }
    default: {
      const name = c as (typeof UNARY)[number];
      return [{ op: name, operands: [x], run: () => x[name]() }];
    }
  }
}

/** Setup steps of a call (a sum to make a scalar root) may fail; the call then uses the tensor itself. */
function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    return undefined;
  }
}

// ----- checks -----

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;
const tensorsIn = (operands: readonly unknown[]): Tensor[] =>
  operands.flatMap((o) => (Array.isArray(o) ? o.slice(0, 64) : [o])).filter((t): t is Tensor => t instanceof Tensor);

/** The seed document's polynomial at 2: 63, with gradient 93. The engine must still do this. */
function stillWorks(): void {
  const x = tensor(2, { requiresGrad: true, dtype: 'float64' });
  const y = x.pow(4).mul(2).add(x.pow(3)).add(x.pow(2).mul(3)).add(x.mul(5)).add(1);
  y.backward();
  if (y.item() !== 63 || x.grad?.item() !== 93) throw new Error(`engine broken after an error: ${y.item()}, ${x.grad?.item()}`);
}

interface Tally {
  calls: number;
  setup: number;
  raised: number;
  byCategory: Record<string, number>;
  byOp: Record<string, number>;
  samples: Map<string, string>;
}

/** What a failed call must not change: its tensor operands' data, version and autograd state. */
const stateOf = (ts: readonly Tensor[]) =>
  ts.map((t) => ({ data: Array.from(t.data, (v) => (Object.is(v, -0) ? '-0' : String(v))).join(','), version: t.version, requiresGrad: t.requiresGrad, gradFn: t.ownGradFn }));

function check(call: Call, tally: Tally, inNoGrad: boolean): unknown {
  const before = isGradEnabled();
  const operands = tensorsIn(call.operands);
  const state = stateOf(operands);
  tally.calls++;
  let result: unknown;
  try {
    result = inNoGrad ? noGrad(call.run) : call.run();
  } catch (e) {
    if (!(e instanceof EngineError)) {
      throw new Error(`${call.op} threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}\n${e instanceof Error ? e.stack : ''}`);
    }
    tally.raised++;
    tally.byOp[`${call.op} ${e.category}`] = (tally.byOp[`${call.op} ${e.category}`] ?? 0) + 1;
    tally.samples.set(`${call.op} ${e.category}`, e.message);
    tally.byCategory[e.category] = (tally.byCategory[e.category] ?? 0) + 1;
    expect(ERROR_CATEGORIES).toContain(e.category);
    expect(e.text.length).toBeGreaterThan(0);
    expect(e.message.startsWith(e.text)).toBe(true); // PyTorch's text first, context after
    if (!call.untensored) expect(e.message).toContain(`(in ${call.op}`);
    for (const t of operands) expect(e.message).toContain(shapeText(t.shape));
    // A failed call leaves its operands as they were (a failed backward may have filled some .grad).
    expect(stateOf(operands)).toEqual(state);
    expect(isGradEnabled()).toBe(before);
    stillWorks();
    return undefined;
  }
  expect(isGradEnabled()).toBe(before);
  tally.byOp[`${call.op} ok`] = (tally.byOp[`${call.op} ok`] ?? 0) + 1;
  return result;
}

describe('fuzz', () => {
  test(`errors.class ${MIN_CALLS}+ random API calls, valid and invalid, raise only EngineErrors naming the op and shapes, and the engine stays usable`, () => {
    setGradEnabled(true);
    const tally: Tally = { calls: 0, setup: 0, raised: 0, byCategory: {}, byOp: {}, samples: new Map() };
    const pool = fc.array(fc.record({ shape: fc.constantFrom(...SHAPES), values: fc.array(number, { minLength: 12, maxLength: 12 }), requiresGrad: fc.nat(2).map((n) => n > 0), float64: bool }), { minLength: 3, maxLength: 6 });
    fc.assert(
      fc.property(pool, fc.array(step, { minLength: 1, maxLength: 80, size: "max" }), (specs, commands) => {
        const tensors = specs.map((s) => tensor(nest(s.values, s.shape) as number[], { requiresGrad: s.requiresGrad, dtype: s.float64 ? 'float64' : 'float32' }));
        tally.setup += tensors.length;
        for (const { cmd, noGrad: inNoGrad } of commands) {
          for (const call of calls(cmd as Cmd, tensors)) {
            const out = check(call, tally, inNoGrad);
            // Results join the pool, so later calls work on graphs, views and freed graphs.
            if (out instanceof Tensor && !tensors.includes(out)) {
              if (tensors.length < 10) tensors.push(out);
              else tensors[tally.calls % tensors.length] = out;
            }
          }
        }
        expect(isGradEnabled()).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    const summary = Object.entries(tally.byCategory).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
    // FUZZ_VERBOSE=1 shows, per op, how many calls returned and raised, and one message of each kind.
    if (process.env.FUZZ_VERBOSE) {
      console.log(Object.entries(tally.byOp).sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
      console.log([...tally.samples.values()].join('\n'));
    }
    console.log(`errors.class fuzz: ${tally.calls} random calls (+${tally.setup} setup tensors), ${tally.raised} raised: ${summary}`);
    expect(tally.calls).toBeGreaterThanOrEqual(MIN_CALLS);
    expect(tally.raised).toBeGreaterThan(tally.calls / 10);
    expect(tally.calls - tally.raised).toBeGreaterThan(tally.calls / 10);
  });
});

describe('errors found by the fuzz', () => {
  test('errors.class inputs that escaped as TypeError, RangeError or a V8 crash now raise EngineError', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const v = tensor([1, 2, 3]);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const cases: [string, () => unknown, string][] = [
      // [input, call, the start of the message]
      ['x.expand(3)', () => x.expand(3 as never), "expand(): argument 'size' must be a list of integers"],
      ["x.pow('a')", () => x.pow('a' as never), 'pow(): expected a Tensor or a number'],
      ['x.where(1, 0)', () => x.where(1 as never, 0), 'where(): expected a Tensor'],
      ['x.mm(v), once a [2, undefined] result', () => x.mm(v), 'mat2 must be a matrix'],
      ['v.bmm(x)', () => v.bmm(x), 'batch1 must be a 3D tensor'],
      ['tensor(a) where a = [a], once a fatal V8 error', () => tensor(cyclic as never), "tensors of 65 dimensions are over the reference engine's limit of 64"],
      ['x.grad = 1', () => { x.grad = 1 as never; }, 'assigned grad expected to be a Tensor or None'],
      ['autograd.grad(5, x)', () => autograd.grad(5 as never, x), 'autograd.grad(): outputs must be Tensors'],
      ['autograd.grad([1], [x])', () => autograd.grad([1 as never], [x]), 'autograd.grad(): outputs must be Tensors'],
      ['x.expand([2 ** 20, 2 ** 20, 2, 3]), once a RangeError', () => x.expand([2 ** 20, 2 ** 20, 2, 3]), 'a tensor of 6597069766656 elements is over'],
      ['[8192, 1] + [16384], once a 1 GB allocation', () => tensor([0]).expand([8192, 1]).add(tensor([0]).expand([16384])), 'a tensor of 134217728 elements is over'],
      ['tensor(Array(2 ** 27))', () => tensor(Array(2 ** 27)), 'a tensor of 134217728 elements is over'],
      ["x.to('float16'), once a float16-labelled float64 tensor", () => x.to('float16' as never), 'to(): unsupported dtype float16'],
      ["v.fill_('a'), once a tensor of NaN", () => v.clone().fill_('a' as never), "fill_(): argument 'value' must be a number"],
      ['noGrad(5)', () => noGrad(5 as never), 'expected a function to run'],
      ['a 10001-dim reshape, once a stack overflow in toString', () => v.reshape([...Array(10000).fill(1), 3]), "tensors of 10001 dimensions are over the reference engine's limit of 64"],
      ["x.sum('0'), once 'Dimension out of range'", () => x.sum('0' as never), "sum(): argument 'dim' must be an integer"],
      ["setGradEnabled('a'), once left grad mode at 'a'", () => setGradEnabled('a' as never), 'setGradEnabled(): expected a boolean'],
      ['x.backward(null, 5)', () => x.sum().backward(null, 5 as never), 'backward(): options must be an object'],
    ];
    for (const [input, fn, start] of cases) {
      const e = thrown(fn);
      expect(e.message.startsWith(start), `${input}: ${e.message}`).toBe(true);
      expect(e.category, input).toBe('invalid-argument');
    }
    expect(isGradEnabled()).toBe(true);
    // Calls that failed with a TypeError and are valid: null options mean none, as in PyTorch.
    expect(tensor([1], null as never).tolist()).toEqual([1]);
    x.sum().backward(null, null as never);
    autograd.backward(x.sum(), null);
    expect(x.grad?.tolist()).toEqual([[2, 2, 2], [2, 2, 2]]);
  });

  test('errors.class valid calls that raised an error, and an invalid one that did not, now behave as in PyTorch', () => {
    // [2, 1, 0] @ [0, 4] is zeros of shape [2, 1, 4] (matmul folded it with an ambiguous -1).
    const p = tensor([[[]], [[]]]).matmul(tensor([]).reshape([0, 4]));
    expect([p.shape, p.tolist()]).toEqual([[2, 1, 4], [[[0, 0, 0, 0]], [[0, 0, 0, 0]]]]);
    // PyTorch refuses an ambiguous -1 (the engine made [0, 0]).
    const ambiguous = thrown(() => tensor([]).reshape([-1, 0]));
    expect([ambiguous.category, ambiguous.text]).toEqual(['shape-mismatch', 'cannot reshape tensor of 0 elements into shape [-1, 0] because the unspecified dimension size -1 can be any value and is ambiguous']);
    // A .grad left as a view by a createGraph pass, then accumulated in place, stays readable.
    const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
    w.t().pow(2).sum().backward(null, { createGraph: true });
    w.t().pow(2).sum().backward();
    expect(w.grad?.tolist()).toEqual([[4, 8], [12, 16]]);
  });

  test('errors.class errors name the public call and its operands, errors in a backward pass the node', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], { requiresGrad: true });
    const y = x.mul(x).sum();
    y.backward();
    const freed = thrown(() => y.backward());
    expect(freed.category).toBe('freed-graph');
    expect(freed.message).toMatch(/^Trying to backward through the graph a second time .* \(in backward through MulBackward0 with shape \[\]\)$/);
    const inplace = thrown(() => x.add_(tensor([1, 2])));
    expect(inplace.message).toBe('a leaf Variable that requires grad is being used in an in-place operation. (in add_ with shapes [2, 3] and [2])');
    const grad = thrown(() => autograd.grad(y, tensor(1)));
    expect(grad.message).toBe('One of the differentiated Tensors does not require grad (in autograd.grad with shapes [] and [])');
    const wrong = thrown(() => x.mul(2).backward(tensor([1, 2])));
    expect(wrong.message).toBe('Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape of torch.Size([2, 3]). (in backward with shapes [2, 3] and [2])');
    // matmul reports the caller's shapes, not those of the products it is made of.
    expect(thrown(() => tensor([[[1, 2]]]).matmul(tensor([[1, 2, 3]]))).message).toBe(
      'mat1 and mat2 shapes cannot be multiplied (1x2 and 1x3) (in matmul with shapes [1, 1, 2] and [1, 3])',
    );
  });
});
