import { createInterface } from 'node:readline';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERROR_CATEGORIES, type Arg, type Attrs, type DType, type ErrorCategory, type IndexItem, type IndexSlice, type InplaceName, type Observation, type Observations, type OpName, type Program, type Ref } from '../../spec/program.ts';
import { decode, encode } from '../program/data.ts';
import { isRef, runSteps, type Exec } from '../program/run-steps.ts';
import type { Adapter, Capabilities, Feature, Field } from '../types.ts';

/**
 * gradspec's adapter kit for TypeScript and JavaScript engines (published as `gradspec/adapter`;
 * spec/adapters.md). Describe the engine with `defineEngine` (one function per op and feature,
 * each optional: what is missing answers "not supported"); the kit does the walk over steps,
 * error paths, grad modes, the spelling of nan/inf/-0, and the protocol:
 *
 *   const engine = defineEngine({ name: 'my-engine', version: '0.1.0',
 *     capabilities: { dtypes: ['float64'], profile: 'my-engine' },
 *     tensor: (data, dtype, requiresGrad) => ..., value: (t) => ..., ops: { add: ([a, b]) => ... } });
 *   export default toAdapter(engine);                  // gradspec check --engine ./my-adapter.ts
 *   if (isMain(import.meta.url)) await serve(engine);  // gradspec check --engine "node my-adapter.js"
 */

export type { Adapter, Capabilities, Feature, Field } from '../types.ts';
export type { Arg, Attrs, Data, DType, ErrorCategory, IndexSlice, InplaceName, Observation, Observations, ObservedError, OpName, Program, Step } from '../../spec/program.ts';
export { ERROR_CATEGORIES, INPLACE_OPS, OP_NAMES } from '../../spec/program.ts';
export { FEATURES, FIELDS } from '../types.ts';

/** A number (0-d) or nested arrays of numbers: NaN, infinities and -0 are plain numbers here. */
export type Nested = number | Nested[];

/** What the engine cannot express at all: reported as "not supported by <engine>: <what>", counted n/a. */
export class NotSupported extends Error {
  override readonly name = 'NotSupported';
}

/** An error the engine reports for a step, with its category (spec/program.md, "Errors"). */
export class EngineError extends Error {
  override readonly name = 'EngineError';
  constructor(readonly category: ErrorCategory, message: string) {
    super(message);
    if (!(ERROR_CATEGORIES as readonly string[]).includes(category)) throw new Error(`unknown error category '${category}'; known: ${ERROR_CATEGORIES.join(', ')}`);
  }
}

/** The capabilities an engine declares; gradspec fills in the defaults (spec/adapters.md). */
export interface DeclaredCapabilities {
  dtypes: DType[];
  fields?: Field[];
  features?: Feature[];
  profile: string;
  language?: 'pytorch' | 'json';
}

export interface GraphFlags { retainGraph: boolean; createGraph: boolean }

/**
 * An index item as the engine gets it: the program's item (spec/program.md, "Indexing"), with a
 * `{ ref }` replaced by the engine's tensor (an int64 index or a bool mask). A list of numbers is
 * an int64 index written in place.
 */
export type EngineIndexItem<T> = Exclude<IndexItem, { ref: Ref }> | T;
/** An op: args are tensors or numbers (at least one a tensor); unbind, split and chunk return a list. */
export type EngineOp<T> = (args: (T | number)[], attrs: Attrs) => T | T[];

/** An engine's adapter: every function is optional; a missing one answers "not supported". `T` is the engine's tensor type. */
export interface Engine<T> {
  name: string;
  version: string;
  capabilities: DeclaredCapabilities;
  /** Your engine's error messages to categories, first match wins; the rest are 'invalid-argument'. */
  errorCategories?: readonly (readonly [RegExp, ErrorCategory])[];

  /** torch.tensor(data, dtype, requires_grad). */
  tensor?(data: Nested, dtype: DType, requiresGrad: boolean): T;
  /** The elements as a number (0-d) or nested arrays. */
  value?(t: T): Nested;
  /** t.grad, or null. */
  grad?(t: T): T | null;
  /** Observation fields other than value; shape defaults to the shape of value(t). */
  shape?(t: T): number[];
  dtype?(t: T): DType;
  requiresGrad?(t: T): boolean;
  isLeaf?(t: T): boolean;
  gradFn?(t: T): string | null;
  nextFunctions?(t: T): (string | null)[];
  repr?(t: T): string;
  /** The storage's version counter (field `version`). */
  versionCounter?(t: T): number;
  /** Read for an observe step with `layout`: PyTorch's t.stride(), t.storage_offset(), t.is_contiguous(), t._is_view(). */
  stride?(t: T): number[];
  storageOffset?(t: T): number;
  isContiguous?(t: T): boolean;
  isView?(t: T): boolean;
  /** Read for an observe step with `sameStorage`: whether both tensors use one storage. */
  sharesStorage?(t: T, other: T): boolean;

  backward?(t: T, gradient: T | null, flags: GraphFlags): void;
  autogradBackward?(tensors: T[], gradTensors: (T | null)[] | null, flags: GraphFlags): void;
  autogradGrad?(outputs: T[], inputs: T[], options: GraphFlags & { gradOutputs: (T | null)[] | null; allowUnused: boolean }): (T | null)[];
  /**
   * One function per op: args are tensors or numbers (at least one a tensor), attrs as in
   * spec/program.md; `index` gets its items with `{ ref }` resolved to tensors.
   */
  ops?: Partial<Record<Exclude<OpName, 'index'>, EngineOp<T>>> & {
    index?: (args: [T], attrs: { items: EngineIndexItem<T>[] }) => T;
  };
  /**
   * In-place ops, on any tensor, views included (a write goes through the view into its base);
   * zero_ on a .grad is feature 'accumulate', the others 'inplace'. indexPut_ is
   * `t[items] = values` (with accumulate, values are added, repeated indices adding up).
   */
  inplace?: Partial<Record<Exclude<InplaceName, 'indexPut_'>, (t: T, arg: T | number | undefined) => void>> & {
    indexPut_?: (t: T, values: T | number, items: EngineIndexItem<T>[], accumulate: boolean) => void;
  };
  /** torch.set_grad_enabled: the kit keeps `gradEnabled()` current and restores it after blocks. */
  setGradEnabled?(enabled: boolean): void;
  requiresGrad_?(t: T, flag: boolean): void;
  retainGrad?(t: T): void;
  detach_?(t: T): void;
  /** x.grad = None. */
  clearGrad?(t: T): void;
}

/** Types an engine definition (a no-op at run time). */
export const defineEngine = <T>(engine: Engine<T>): Engine<T> => engine;

/** A stub for what is not written yet. */
export function notSupported(what: string): never {
  throw new NotSupported(what);
}

/**
 * The float32 nearest to a number (round half to even; overflow gives an infinity), for a
 * float64-only engine that declares float32: round every leaf, op result and gradient element.
 */
export const roundFloat32 = (x: number): number => Math.fround(x);
export const roundNestedFloat32 = (data: Nested): Nested => (Array.isArray(data) ? data.map(roundNestedFloat32) : Math.fround(data));

let gradMode = true;
/** The grad mode the running program is in; an engine without its own mode reads it in its ops. */
export const gradEnabled = (): boolean => gradMode;

const shapeOf = (v: Nested): number[] => (Array.isArray(v) ? [v.length, ...(v.length > 0 ? shapeOf(v[0]!) : [])] : []);
const flat = (v: Nested): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);

const FIELD_READERS = ['value', 'shape', 'dtype', 'requiresGrad', 'isLeaf', 'gradFn', 'nextFunctions', 'repr', 'version'] as const;
const READER = { version: 'versionCounter' } as const;
/** Read only where an observe step asks for the layout. */
const LAYOUT_READERS = ['stride', 'storageOffset', 'isContiguous', 'isView'] as const;

/** `a, b = result`: a list of the wrong length fails with Python's message. */
export function unpack<V>(names: readonly string[], values: readonly V[]): V[] {
  if (values.length > names.length) throw new EngineError('invalid-argument', `too many values to unpack (expected ${names.length})`);
  if (values.length < names.length) throw new EngineError('invalid-argument', `not enough values to unpack (expected ${names.length}, got ${values.length})`);
  return [...values];
}

/** Runs one program on the engine. */
export function runProgram<T>(engine: Engine<T>, program: Program): Observations {
  const env = new Map<string, T | null>();
  const observations: Observation[] = [];
  const dtype = program.dtype ?? 'float32';
  const need = <K extends keyof Engine<T>>(key: K, what: string): NonNullable<Engine<T>[K]> => {
    const f = engine[key];
    if (typeof f !== 'function') throw new NotSupported(what);
    return (f as (...a: unknown[]) => unknown).bind(engine) as NonNullable<Engine<T>[K]>;
  };
  /** A tensor's dtype, or the program's default when the engine cannot say. */
  const dtypeOf = (t: T): DType => {
    try {
      return engine.dtype?.(t) ?? dtype;
    } catch (e) {
      if (e instanceof NotSupported) return dtype;
      throw e;
    }
  };
  const setMode = (enabled: boolean) => {
    need('setGradEnabled', 'grad modes')(enabled);
    gradMode = enabled;
  };
  const resolveRef = (r: string): T | null => {
    const isGrad = r.endsWith('.grad');
    const name = isGrad ? r.slice(0, -5) : r;
    if (!env.has(name)) throw new Error(`malformed program ${program.id}: reference to unbound name '${name}'`);
    const t = env.get(name) ?? null;
    if (!isGrad) return t;
    if (t === null) throw new EngineError('invalid-argument', `'${name}' is None`);
    return need('grad', '.grad')(t);
  };
  const ref = (r: string): T => {
    const t = resolveRef(r);
    if (t === null) throw new EngineError('invalid-argument', `'${r}' is None`);
    return t;
  };
  const refs = (list: readonly (string | null)[] | undefined) => (list === undefined ? null : list.map((r) => (r === null ? null : ref(r))));
  const arg = (a: Arg): T | number => (typeof a === 'number' ? a : ref(a));
  const flags = (s: { retainGraph?: boolean; createGraph?: boolean }): GraphFlags => ({ createGraph: s.createGraph ?? false, retainGraph: s.retainGraph ?? s.createGraph ?? false });
  const block = (enabled: boolean, steps: Parameters<Exec>[0][], at: string, run: Parameters<Exec>[2]) => {
    const previous = gradMode;
    setMode(enabled);
    try {
      run(steps, at);
    } finally {
      if (gradMode !== previous) setMode(previous);
    }
  };
  const observe = (t: T | null, label: string, asked: { layout?: boolean; sameStorage?: string } = {}): Observation => {
    if (t === null) return { label, none: true };
    const o: Record<string, unknown> = { label };
    const declared = engine.capabilities.fields ?? ['value'];
    const fields = [...FIELD_READERS, ...(asked.layout ? LAYOUT_READERS : []), ...(asked.sameStorage !== undefined ? ['sharesStorage' as const] : [])];
    for (const field of fields) {
      if (field === 'nextFunctions' && o.gradFn === null) continue;
      const read = field === 'shape' && !engine.shape ? (x: T) => shapeOf(need('value', 'reading values')(x))
        : field === 'sharesStorage' ? engine.sharesStorage && ((x: T) => engine.sharesStorage!(x, ref(asked.sameStorage!)))
          : engine[field === 'version' ? READER.version : field];
      try {
        if (typeof read !== 'function') throw new NotSupported(`field ${field}`);
        const v = (read as (x: T) => unknown).call(engine, t);
        o[field] = field === 'value' ? encode(v) : v;
      } catch (e) {
        // Declared fields must be readable; the others are reported when they can be (never compared).
        if (field === 'value' || (declared as string[]).includes(field)) throw e;
      }
    }
    return o as unknown as Observation;
  };
  const items = (list: readonly IndexItem[]): EngineIndexItem<T>[] =>
    list.map((item) => (item !== null && typeof item === 'object' && !Array.isArray(item) && 'ref' in item ? ref(item.ref) : item as EngineIndexItem<T>));

  const exec: Exec = (step, at, run) => {
    if ('tensor' in step) {
      env.set(step.let, need('tensor', 'tensors')(decode(step.tensor) as Nested, step.dtype ?? dtype, step.requiresGrad ?? false));
    } else if ('op' in step) {
      const f = engine.ops?.[step.op] as EngineOp<T> | undefined;
      if (!f) throw new NotSupported(step.op);
      const attrs = step.attrs?.items ? { ...step.attrs, items: items(step.attrs.items) } : step.attrs ?? {};
      const result = f.call(engine.ops, step.args.map(arg), attrs as Attrs);
      // A tuple result (max and min with a dim: values, indices; unbind, split, chunk) binds one name per element.
      if (Array.isArray(step.let)) unpack(step.let, result as T[]).forEach((t, k) => env.set(step.let[k]!, t));
      else env.set(step.let, result as T);
    } else if ('backward' in step) {
      const root = ref(step.backward);
      const g = step.gradient;
      const gradient = g === undefined ? null : isRef(g) ? ref(g.ref) : need('tensor', 'tensors')(decode(g) as Nested, dtypeOf(root), false);
      need('backward', 'backward')(root, gradient, flags(step));
    } else if ('autogradBackward' in step) {
      need('autogradBackward', 'autograd.backward')(refs(step.autogradBackward)! as T[], refs(step.gradTensors), flags(step));
    } else if ('grad' in step) {
      const g = step.grad;
      const results = need('autogradGrad', 'autograd.grad')(refs(g.outputs)! as T[], refs(g.inputs)! as T[], { ...flags(g), gradOutputs: refs(g.gradOutputs), allowUnused: g.allowUnused ?? false });
      if (results.length !== step.let.length) throw new Error(`autogradGrad returned ${results.length} results for ${step.let.length} inputs`);
      step.let.forEach((name, k) => env.set(name, results[k] ?? null));
    } else if ('noGrad' in step) {
      block(false, step.noGrad, at, run);
    } else if ('enableGrad' in step) {
      block(true, step.enableGrad, at, run);
    } else if ('setGradEnabled' in step) {
      setMode(step.setGradEnabled);
    } else if ('inplace' in step) {
      const target = ref(step.target);
      const value = step.args?.[0] === undefined ? undefined : arg(step.args[0]);
      if (step.inplace === 'indexPut_') {
        const f = engine.inplace?.indexPut_;
        if (!f) throw new NotSupported(step.inplace);
        f.call(engine.inplace, target, value!, items(step.attrs?.items ?? []), step.attrs?.accumulate ?? false);
      } else {
        const f = engine.inplace?.[step.inplace];
        if (!f) throw new NotSupported(step.inplace);
        f.call(engine.inplace, target, value);
      }
    } else if ('requiresGrad_' in step) {
      need('requiresGrad_', 'requires_grad_')(ref(step.requiresGrad_), step.flag ?? true);
    } else if ('retainGrad' in step) {
      need('retainGrad', 'retain_grad')(ref(step.retainGrad));
    } else if ('detach_' in step) {
      need('detach_', 'detach_')(ref(step.detach_));
    } else if ('clearGrad' in step) {
      need('clearGrad', 'clearing .grad')(ref(step.clearGrad));
    } else if ('observe' in step) {
      const label = step.label ?? step.observe;
      if (step.item) {
        const elements = flat(need('value', 'reading values')(ref(step.observe)));
        if (elements.length !== 1) throw new EngineError('invalid-argument', `a Tensor with ${elements.length} elements cannot be converted to Scalar`);
        observations.push({ label, value: encode(elements[0]) });
      } else {
        observations.push(observe(resolveRef(step.observe), label, step));
      }
    }
  };

  const classify = (e: unknown): { category: ErrorCategory; message: string } | null => {
    if (e instanceof EngineError) return { category: e.category, message: e.message };
    if (e instanceof NotSupported) return { category: 'invalid-argument', message: `not supported by ${engine.name}: ${e.message}` };
    if (e instanceof Error && e.message.startsWith('malformed program')) return null;
    const message = e instanceof Error ? e.message : String(e);
    const category = engine.errorCategories?.find(([re]) => re.test(message))?.[1] ?? 'invalid-argument';
    return { category, message };
  };
  const reset = () => {
    if (!gradMode) {
      gradMode = true;
      need('setGradEnabled', 'grad modes')(true);
    }
  };
  reset();
  try {
    return { observations, error: runSteps(program.steps, exec, classify) };
  } finally {
    reset();
  }
}

/** The engine as an in-process adapter: `export default toAdapter(engine)` for `--engine ./file.ts`. */
export function toAdapter<T>(engine: Engine<T>): Adapter {
  return {
    name: engine.name,
    version: engine.version,
    capabilities: engine.capabilities as Capabilities,
    run: async (programs) => programs.map((p) => runProgram(engine, p)),
  };
}

/**
 * Serves an engine (or any in-process adapter) over the protocol on stdin/stdout until shutdown.
 * While it runs, writes to process.stdout (console.log) go to stderr, so they cannot corrupt it.
 */
export async function serve<T>(engineOrAdapter: Engine<T> | Adapter): Promise<never> {
  const adapter = 'run' in engineOrAdapter ? engineOrAdapter : toAdapter(engineOrAdapter);
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  const send = (message: object) => write(`${JSON.stringify(message)}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    let message: { type?: string; id?: number; programs?: Program[] };
    try {
      message = JSON.parse(line) as typeof message;
    } catch (e) {
      send({ type: 'error', id: null, message: `not JSON: ${(e as Error).message}` });
      continue;
    }
    if (message.type === 'hello') {
      send({ type: 'hello', protocol: 1, name: adapter.name, version: adapter.version, capabilities: adapter.capabilities });
    } else if (message.type === 'run') {
      try {
        send({ type: 'observations', id: message.id, results: await adapter.run(message.programs ?? []) });
      } catch (e) {
        send({ type: 'error', id: message.id, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
      }
    } else if (message.type === 'shutdown') {
      break;
    } else {
      send({ type: 'error', id: message.id, message: `unknown message type '${String(message.type)}'` });
    }
  }
  // Exit at once on shutdown: stdin may stay open.
  process.exit(0);
}

/** Whether the module at `url` (pass import.meta.url) is the script node was started with. */
export function isMain(url: string): boolean {
  const script = process.argv[1];
  if (!script) return false;
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return real(resolve(script)) === real(fileURLToPath(url));
}
