/**
 * Validation of programs (spec/program.ts) and fixture files.
 *
 * Two passes: the JSON Schema in spec/program.schema.json checks the shape, then one walk over the
 * steps checks what a schema cannot: names bound before use and only once, op arity and attributes,
 * rectangular data, grad-step name counts, and size limits. Every problem names its JSON path.
 */
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import schema from '../../spec/program.schema.json' with { type: 'json' };
import {
  BINARY_OPS, COMPARISON_OPS, LOSS_OPS, MULTI_OUTPUT_OPS, UNARY_OPS,
  type Arg, type Data, type IndexItem, type Observations, type OpStep, type Program, type Step,
} from '../../spec/program.ts';

/** Where the seed document printed something other than a given PyTorch version. */
export interface Difference {
  /** The observation label the difference is about. */
  label: string;
  field: 'gradFn' | 'repr' | 'value' | 'nextFunctions';
  /** What the document printed. */
  document: unknown;
  /** What each profile (e.g. `"pytorch-1.13"`) prints instead. */
  expected: { [profile: string]: unknown };
  reason: string;
}

export interface Fixture {
  /** Dotted slug, e.g. `document.one-step`. */
  id: string;
  title: string;
  source: {
    document?: string;
    section?: string;
    recorded?: { engine: string; version: string; seed: number; date: string };
  };
  /** Clause ids the fixture exercises; at least one. */
  clauses: string[];
  program: Program;
  expected: Observations;
  differences?: Difference[];
  /** sha256 of program, expected and differences, written by gradspec; a hand edit breaks it. */
  digest?: string;
}

export const MAX_STEPS = 10_000;
/** Steps a program may execute, repeat bodies counted once per iteration. */
export const MAX_EXECUTED = 1_000_000;
export const MAX_ELEMENTS = 1_000_000;
const MAX_LISTED = 50;

export interface ProgramProblem {
  /** JSON pointer into the validated value (`""` is the whole value). */
  path: string;
  message: string;
}

export class ProgramError extends Error {
  override readonly name = 'ProgramError';
  constructor(readonly problems: ProgramProblem[], readonly file?: string) {
    const prefix = file ? `${file}: ` : '';
    const lines = problems.slice(0, MAX_LISTED).map((p) => `${prefix}${p.path || '(root)'} ${p.message}`);
    if (problems.length > MAX_LISTED) lines.push(`${prefix}... and ${problems.length - MAX_LISTED} more problems`);
    super(lines.join('\n'));
  }
}

export function validateProgram(value: unknown, file?: string): Program {
  const problems = guard(file, () => {
    const found = check(value, 'Program', file);
    return found.length > 0 ? found : semantics(value as Program, '');
  });
  if (problems.length > 0) throw new ProgramError(problems, file);
  return value as Program;
}

export function validateFixture(value: unknown, file?: string): Fixture {
  const problems = guard(file, () => {
    const found = check(value, 'Fixture', file);
    if (found.length > 0) return found;
    const fixture = value as Fixture;
    return [...semantics(fixture.program, '/program'), ...fixtureProblems(fixture)];
  });
  if (problems.length > 0) throw new ProgramError(problems, file);
  return value as Fixture;
}

/**
 * What an engine returned for one program: refused (a message naming the JSON path) unless it
 * has the Observations format, so a faulty adapter is reported instead of misjudged.
 */
export function observationsProblem(value: unknown): string | null {
  if (accepts('Observations', value)) return null;
  const v = validator('Observations');
  if (v(value)) return null;
  const e = v.errors?.[0];
  return e ? `${e.instancePath || '/'} ${e.message ?? 'is invalid'}` : 'is not an Observations record';
}

/** Schema and walks recurse; a value nested deeper than the stack allows is refused, not crashed on. */
function guard(file: string | undefined, run: () => ProgramProblem[]): ProgramProblem[] {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new ProgramError([{ path: '', message: 'is nested too deeply to validate (data or noGrad/enableGrad blocks)' }], file);
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 1: the schema

const STEP_KINDS = [
  ['tensor', 'LeafStep'], ['op', 'OpStep'], ['grad', 'GradStep'], ['backward', 'BackwardStep'],
  ['autogradBackward', 'AutogradBackwardStep'], ['noGrad', 'NoGradStep'], ['enableGrad', 'EnableGradStep'],
  ['setGradEnabled', 'SetGradEnabledStep'], ['inplace', 'InplaceStep'], ['requiresGrad_', 'RequiresGradStep'],
  ['retainGrad', 'RetainGradStep'], ['detach_', 'DetachInplaceStep'], ['clearGrad', 'ClearGradStep'],
  ['observe', 'ObserveStep'], ['repeat', 'RepeatStep'],
] as const;
const STEP_KEYS: readonly string[] = STEP_KINDS.map(([key]) => key);
const BLOCK_KEYS = ['noGrad', 'enableGrad'];

/** The field holding a step's nested steps: a block's own key, or a repeat step's `steps`. */
function bodyKey(step: Record<string, unknown>): string | undefined {
  if (Object.hasOwn(step, 'repeat')) return 'steps';
  return BLOCK_KEYS.find((k) => Object.hasOwn(step, k));
}

let compiled: { ajv: Ajv; roots: Map<string, ValidateFunction> } | undefined;
let quick: { ajv: Ajv; roots: Map<string, ValidateFunction> } | undefined;

/**
 * Validators are compiled once, on first use. `validator` collects every error, with the data, for
 * the messages; `accepts` gives the same verdict without them. A valid value (nearly every one)
 * needs only the second: with allErrors each failing branch of the step `oneOf` goes on collecting
 * errors, and that made loading the fixtures cost several times as much.
 */
function validator(definition: string): ValidateFunction {
  compiled ??= { ajv: new Ajv({ allErrors: true, verbose: true }).addSchema(schema as AnySchemaObject, 'program'), roots: new Map() };
  return compile(compiled, definition);
}

function accepts(definition: string, value: unknown): boolean {
  quick ??= { ajv: new Ajv().addSchema(schema as AnySchemaObject, 'program'), roots: new Map() };
  return compile(quick, definition)(value);
}

function compile(into: { ajv: Ajv; roots: Map<string, ValidateFunction> }, definition: string): ValidateFunction {
  let v = into.roots.get(definition);
  if (!v) {
    const ref = definition === 'Program' ? 'program#' : `program#/definitions/${definition}`;
    v = into.ajv.compile({ $ref: ref });
    into.roots.set(definition, v);
  }
  return v;
}

function check(value: unknown, root: 'Program' | 'Fixture', file?: string): ProgramProblem[] {
  const stepsPath = root === 'Program' ? '/steps' : '/program/steps';
  const steps = root === 'Program' ? field(value, 'steps') : field(field(value, 'program'), 'steps');
  if (countSteps(steps) > MAX_STEPS) {
    throw new ProgramError([{
      path: stepsPath,
      message: `has more than ${MAX_STEPS.toLocaleString('en-US')} steps (nested ones included), the limit`,
    }], file);
  }
  if (countExecuted(steps) > MAX_EXECUTED) {
    throw new ProgramError([{
      path: stepsPath,
      message: `would execute more than ${MAX_EXECUTED.toLocaleString('en-US')} steps (repeat bodies counted once per iteration), the limit`,
    }], file);
  }
  if (accepts(root, value)) return [];
  const validate = validator(root);
  if (validate(value)) return [];
  // Errors inside steps come from every branch of the step `oneOf`; each step is re-checked
  // against the one branch its key selects, which gives one precise message per mistake.
  const inStep = new RegExp(`^${stepsPath}/\\d+(/|$)`);
  const problems = describeAll((validate.errors ?? []).filter((e) => !inStep.test(e.instancePath)), '');
  if (Array.isArray(steps)) steps.forEach((s, i) => checkStepShape(s, `${stepsPath}/${i}`, problems));
  if (problems.length === 0) problems.push({ path: '', message: compiled!.ajv.errorsText(validate.errors) });
  return problems;
}

function checkStepShape(step: unknown, path: string, out: ProgramProblem[]): void {
  if (!isObject(step)) {
    out.push({ path, message: `must be a step object (got ${show(step)})` });
    return;
  }
  const keys = Object.keys(step);
  const kinds = STEP_KINDS.filter(([key]) => Object.hasOwn(step, key));
  if (kinds.length === 0) {
    const hints = keys.map((k) => suggest(k, STEP_KEYS)).filter(Boolean).join('');
    out.push({
      path,
      message: `is not a step: it has ${keys.length ? `the keys ${keys.join(', ')}` : 'no keys'}, `
        + `but needs exactly one of ${STEP_KEYS.join(', ')}${hints}`,
    });
    return;
  }
  if (kinds.length > 1) {
    out.push({ path, message: `mixes step kinds: it has ${kinds.map(([k]) => k).join(' and ')}, but a step has exactly one of them` });
    return;
  }
  const [, definition] = kinds[0]!;
  const key = bodyKey(step);
  const children = key === undefined ? undefined : step[key];
  // The body is checked step by step below; the probe keeps one placeholder so minItems still applies.
  const probe = Array.isArray(children) ? { ...step, [key!]: children.length ? [{ observe: 'x' }] : [] } : step;
  const validate = validator(definition);
  if (!validate(probe)) out.push(...describeAll(validate.errors ?? [], path));
  if (Array.isArray(children)) children.forEach((c, i) => checkStepShape(c, `${path}/${key}/${i}`, out));
}

function describeAll(errors: ErrorObject[], prefix: string): ProgramProblem[] {
  const seen = new Set<string>();
  const out: ProgramProblem[] = [];
  for (const e of errors) {
    const p = describe(e, prefix);
    const k = p && `${p.path} ${p.message}`;
    if (p && !seen.has(k!)) { seen.add(k!); out.push(p); }
  }
  return out;
}

const PATTERN_WORDS: Record<string, string> = {
  [schema.definitions.Name.pattern]: 'a name: a letter or "_", then letters, digits or "_"',
  [schema.definitions.Ref.pattern]: 'a reference: a name, optionally followed by ".grad"',
  [schema.definitions.Slug.pattern]: 'a dotted slug such as "document.one-step" (lower case, digits, "-", "_")',
  [schema.definitions.ObservedError.properties.step.pattern]: 'a step path such as "4" or "4.1"',
  [schema.definitions.Fixture.properties.source.properties.recorded.properties.date.pattern]: 'a date, YYYY-MM-DD',
};

const TYPE_WORDS: Record<string, string> = {
  object: 'an object', array: 'a list', string: 'a string', number: 'a number', integer: 'an integer',
  boolean: 'true or false', null: 'null',
};

function describe(e: ErrorObject, prefix: string): ProgramProblem | null {
  const at = prefix + e.instancePath;
  const params = e.params as Record<string, unknown>;
  const ps = (e.parentSchema ?? {}) as AnySchemaObject;
  switch (e.keyword) {
    case 'if': case 'propertyNames': case 'oneOf':
      return null; // the errors of the branch that applied say what is wrong
    case 'required':
      return { path: `${at}/${String(params.missingProperty)}`, message: 'is required' };
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      const allowed = Object.keys(ps.properties ?? {});
      return { path: `${at}/${name}`, message: `is not a known field here (allowed: ${allowed.join(', ')})${suggest(name, allowed)}` };
    }
    case 'enum': {
      if (e.propertyName !== undefined) return { path: `${at}/${e.propertyName}`, message: 'must be left out when "none" is true' };
      const allowed = (params.allowedValues as unknown[]).map(String);
      return { path: at, message: `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (got ${show(e.data)})${suggest(String(e.data), allowed)}` };
    }
    case 'type': {
      // A branch of an if/then/else (the schema uses no union types) says in $comment what is accepted.
      const words = typeof ps.$comment === 'string' ? ps.$comment : TYPE_WORDS[String(params.type)] ?? String(params.type);
      return { path: at, message: `must be ${words} (got ${show(e.data)})` };
    }
    case 'pattern': {
      const words = PATTERN_WORDS[String(params.pattern)] ?? `a string matching ${String(params.pattern)}`;
      return { path: at, message: `must be ${words} (got ${show(e.data)})` };
    }
    case 'minItems': return { path: at, message: `must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}` };
    case 'minLength': return { path: at, message: 'must not be empty' };
    case 'minProperties': return { path: at, message: `must have at least ${String(params.limit)} entry` };
    case 'uniqueItems': return { path: at, message: `must not repeat an item (items ${String(params.j)} and ${String(params.i)} are equal)` };
    case 'minimum': return { path: at, message: `must be at least ${String(params.limit)} (got ${show(e.data)})` };
    case 'const': return { path: at, message: `must be ${JSON.stringify(params.allowedValue)} (got ${show(e.data)})` };
    default: return { path: at, message: e.message ?? `fails ${e.keyword}` };
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 2: semantics (the value has passed the schema)

/** `args: 'list'`: one or more tensors (cat, stack). */
type OpRule = { args: 1 | 2 | 3 | 'list'; attrs: string[]; required: string[] };
const NO_ATTRS: OpRule = { args: 1, attrs: [], required: [] };
const LOSS = new Set<string>(LOSS_OPS);
const OP_RULES: Record<string, OpRule> = {
  ...Object.fromEntries(UNARY_OPS.map((op) => [op, NO_ATTRS])),
  ...Object.fromEntries(BINARY_OPS.map((op) => [op, { ...NO_ATTRS, args: 2 }])),
  ...Object.fromEntries(COMPARISON_OPS.filter((op) => op !== 'where').map((op) => [op, { ...NO_ATTRS, args: 2 }])),
  where: { ...NO_ATTRS, args: 3 },
  sum: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  mean: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  reshape: { args: 1, attrs: ['shape'], required: ['shape'] },
  view: { args: 1, attrs: ['shape'], required: ['shape'] },
  expand: { args: 1, attrs: ['shape'], required: ['shape'] },
  transpose: { args: 1, attrs: ['dim0', 'dim1'], required: ['dim0', 'dim1'] },
  t: NO_ATTRS,
  permute: { args: 1, attrs: ['dims'], required: ['dims'] },
  unsqueeze: { args: 1, attrs: ['dim'], required: ['dim'] },
  squeeze: { args: 1, attrs: ['dim'], required: [] },
  clone: NO_ATTRS,
  detach: NO_ATTRS,
  softplus: { args: 1, attrs: ['beta', 'threshold'], required: [] },
  leakyRelu: { args: 1, attrs: ['negativeSlope'], required: [] },
  elu: { args: 1, attrs: ['alpha'], required: [] },
  gelu: { args: 1, attrs: ['approximate'], required: [] },
  silu: NO_ATTRS,
  softmax: { args: 1, attrs: ['dim'], required: ['dim'] },
  logSoftmax: { args: 1, attrs: ['dim'], required: ['dim'] },
  logsumexp: { args: 1, attrs: ['dim', 'keepdim'], required: ['dim'] },
  prod: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  cumsum: { args: 1, attrs: ['dim'], required: ['dim'] },
  cumprod: { args: 1, attrs: ['dim'], required: ['dim'] },
  var: { args: 1, attrs: ['dim', 'keepdim', 'unbiased'], required: [] },
  std: { args: 1, attrs: ['dim', 'keepdim', 'unbiased'], required: [] },
  norm: { args: 1, attrs: ['p', 'dim', 'keepdim'], required: [] },
  max: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  min: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  amax: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  amin: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  maximum: { ...NO_ATTRS, args: 2 },
  minimum: { ...NO_ATTRS, args: 2 },
  clamp: { args: 1, attrs: ['min', 'max'], required: [] },
  clampMin: { args: 1, attrs: ['min'], required: ['min'] },
  clampMax: { args: 1, attrs: ['max'], required: ['max'] },
  argmax: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  argmin: { args: 1, attrs: ['dim', 'keepdim'], required: [] },
  mseLoss: { args: 2, attrs: ['reduction'], required: [] },
  l1Loss: { args: 2, attrs: ['reduction'], required: [] },
  smoothL1Loss: { args: 2, attrs: ['reduction', 'beta'], required: [] },
  binaryCrossEntropy: { args: 2, attrs: ['reduction'], required: [] },
  binaryCrossEntropyWithLogits: { args: 2, attrs: ['reduction'], required: [] },
  nllLoss: { args: 2, attrs: ['reduction'], required: [] },
  crossEntropy: { args: 2, attrs: ['reduction'], required: [] },
  select: { args: 1, attrs: ['dim', 'index'], required: ['dim', 'index'] },
  narrow: { args: 1, attrs: ['dim', 'start', 'length'], required: ['dim', 'start', 'length'] },
  diagonal: { args: 1, attrs: ['offset', 'dim1', 'dim2'], required: [] },
  unbind: { args: 1, attrs: ['dim'], required: [] },
  split: { args: 1, attrs: ['splitSize', 'dim'], required: ['splitSize'] },
  chunk: { args: 1, attrs: ['chunks', 'dim'], required: ['chunks'] },
  index: { args: 1, attrs: ['items'], required: ['items'] },
  contiguous: NO_ATTRS,
  cat: { args: 'list', attrs: ['dim'], required: [] },
  stack: { args: 'list', attrs: ['dim'], required: [] },
  flip: { args: 1, attrs: ['dims'], required: ['dims'] },
  roll: { args: 1, attrs: ['shifts', 'dims'], required: ['shifts'] },
  repeat: { args: 1, attrs: ['sizes'], required: ['sizes'] },
  indexSelect: { args: 2, attrs: ['dim'], required: ['dim'] },
  gather: { args: 2, attrs: ['dim'], required: ['dim'] },
  scatter: { args: 3, attrs: ['dim'], required: ['dim'] },
  scatterAdd: { args: 3, attrs: ['dim'], required: ['dim'] },
  indexAdd: { args: 3, attrs: ['dim', 'alpha'], required: ['dim'] },
  maskedFill: { args: 3, attrs: [], required: [] },
};
const MULTI_OUTPUT = new Set<string>(MULTI_OUTPUT_OPS);

/** The gather family: how many leading arguments must be tensor references (the rest may be numbers). */
const INDEX_TENSORS: Record<string, number> = { indexSelect: 2, gather: 2, scatter: 2, scatterAdd: 3, indexAdd: 3, maskedFill: 2 };

/** Names the printed PyTorch code could not use: Python keywords and the names it calls. */
const RESERVED = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def',
  'del', 'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is',
  'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
  'torch', 'print', 'type', 'float', '_',
]);

function semantics(program: Program, base: string): ProgramProblem[] {
  const out: ProgramProblem[] = [];
  const problem = (path: string, message: string) => out.push({ path, message });
  const firstBinding = new Map<string, string>();
  walk(program.steps, `${base}/steps`, (step, path) => {
    for (const [name, at] of bindings(step, path)) if (!firstBinding.has(name)) firstBinding.set(name, at);
  });
  const bound = new Map<string, string>();

  const ref = (r: string, path: string) => {
    const name = r.endsWith('.grad') ? r.slice(0, -'.grad'.length) : r;
    if (bound.has(name)) return;
    const later = firstBinding.get(name);
    problem(path, later
      ? `refers to "${name}", which is bound only later (at ${later}); a step can use only names bound before it`
      : `refers to "${name}", which no step binds`);
  };
  const refs = (list: (string | null)[] | undefined, path: string) =>
    list?.forEach((r, i) => { if (r !== null) ref(r, `${path}/${i}`); });
  const bind = (name: string, path: string, inRepeat: boolean) => {
    if (RESERVED.has(name)) problem(path, `"${name}" is reserved: it is a Python keyword or a name the PyTorch reproduction uses`);
    const first = bound.get(name);
    // In a repeat body, binding a bound name rebinds it, as assignment in a Python loop does.
    if (first !== undefined && !inRepeat) problem(path, `binds "${name}" again; it is already bound at ${first} (each name is bound once, except in a repeat body)`);
    else if (first === undefined) bound.set(name, path);
  };
  const args = (list: Arg[] | undefined, path: string) =>
    list?.forEach((a, i) => { if (typeof a === 'string') ref(a, `${path}/${i}`); });
  const items = (list: IndexItem[], path: string) => {
    list.forEach((item, i) => { if (isIndexRef(item)) ref(item.ref, `${path}/${i}/ref`); });
    // Python refuses a second Ellipsis before any engine sees it: a mistake in the program.
    const dots = list.flatMap((item, i) => (item === '...' ? [i] : []));
    if (dots.length > 1) problem(`${path}/${dots[1]}`, 'is a second "...": an index can only have a single ellipsis');
  };
  const data = (d: Data, path: string) => {
    const shape = dataShape(d, path, out);
    const n = shape?.reduce((a, b) => a * b, 1) ?? 0;
    if (n > MAX_ELEMENTS) problem(path, `has ${n.toLocaleString('en-US')} elements; the limit is ${MAX_ELEMENTS.toLocaleString('en-US')}`);
  };

  walk(program.steps, `${base}/steps`, (step, p, _, inRepeat) => {
    if ('tensor' in step) {
      data(step.tensor, `${p}/tensor`);
      bind(step.let, `${p}/let`, inRepeat);
    } else if ('op' in step) {
      args(step.args, `${p}/args`);
      if (step.attrs?.items) items(step.attrs.items, `${p}/attrs/items`);
      opProblems(step, p, problem);
      if (Array.isArray(step.let)) step.let.forEach((name, i) => bind(name, `${p}/let/${i}`, inRepeat));
      else bind(step.let, `${p}/let`, inRepeat);
    } else if ('grad' in step) {
      const g = step.grad;
      refs(g.outputs, `${p}/grad/outputs`);
      refs(g.inputs, `${p}/grad/inputs`);
      refs(g.gradOutputs, `${p}/grad/gradOutputs`);
      if (step.let.length !== g.inputs.length) {
        problem(`${p}/let`, `has ${count(step.let.length, 'name')} but grad.inputs has ${count(g.inputs.length, 'tensor')}; give one name per input`);
      }
      if (g.gradOutputs && g.gradOutputs.length !== g.outputs.length) {
        problem(`${p}/grad/gradOutputs`, `has ${count(g.gradOutputs.length, 'entry', 'entries')} but grad.outputs has ${count(g.outputs.length, 'tensor')}; give one per output (null for none)`);
      }
      step.let.forEach((name, i) => bind(name, `${p}/let/${i}`, inRepeat));
    } else if ('backward' in step) {
      ref(step.backward, `${p}/backward`);
      const gradient = step.gradient;
      if (typeof gradient === 'object' && !Array.isArray(gradient)) ref(gradient.ref, `${p}/gradient/ref`);
      else if (gradient !== undefined) data(gradient, `${p}/gradient`);
    } else if ('autogradBackward' in step) {
      refs(step.autogradBackward, `${p}/autogradBackward`);
      refs(step.gradTensors, `${p}/gradTensors`);
      if (step.gradTensors && step.gradTensors.length !== step.autogradBackward.length) {
        problem(`${p}/gradTensors`, `has ${count(step.gradTensors.length, 'entry', 'entries')} but autogradBackward has ${count(step.autogradBackward.length, 'tensor')}; give one per tensor (null for none)`);
      }
    } else if ('inplace' in step) {
      ref(step.target, `${p}/target`);
      args(step.args, `${p}/args`);
      const want = step.inplace === 'zero_' ? 0 : 1;
      const got = step.args?.length ?? 0;
      if (got !== want) problem(`${p}/args`, `${step.inplace} takes ${count(want, 'argument')}, got ${got}`);
      if (step.inplace !== 'indexPut_' && step.attrs !== undefined) problem(`${p}/attrs`, `is not used by ${step.inplace}: only indexPut_ takes attrs (items, accumulate)`);
      if (step.inplace === 'indexPut_' && step.attrs === undefined) problem(`${p}/attrs`, 'is required by indexPut_: attrs.items says where to write');
      if (step.attrs) {
        items(step.attrs.items, `${p}/attrs/items`);
        // index_put_ takes a tuple of index tensors and a tensor of values: no ints, slices, None or "...".
        if (step.attrs.accumulate) {
          step.attrs.items.forEach((item, i) => {
            if (!isIndexRef(item) && !Array.isArray(item)) problem(`${p}/attrs/items/${i}`, `must be an index tensor ({ "ref": name }) or a list of integers with accumulate: index_put_ takes index tensors only (got ${show(item)})`);
          });
          if (typeof step.args?.[0] === 'number') problem(`${p}/args/0`, `must be a tensor reference with accumulate: index_put_ takes a tensor of values, not the number ${step.args[0]}`);
        }
      }
    } else if ('requiresGrad_' in step) ref(step.requiresGrad_, `${p}/requiresGrad_`);
    else if ('retainGrad' in step) ref(step.retainGrad, `${p}/retainGrad`);
    else if ('detach_' in step) ref(step.detach_, `${p}/detach_`);
    else if ('clearGrad' in step) ref(step.clearGrad, `${p}/clearGrad`);
    else if ('observe' in step) {
      ref(step.observe, `${p}/observe`);
      if (step.sameStorage !== undefined) ref(step.sameStorage, `${p}/sameStorage`);
      if (step.item) {
        for (const key of ['layout', 'sameStorage'] as const) {
          if (step[key] !== undefined) problem(`${p}/${key}`, 'cannot be given with item: item records a number, not a tensor');
        }
      }
    }
  });
  return out;
}

function opProblems(step: OpStep, p: string, problem: (path: string, message: string) => void): void {
  const rule = OP_RULES[step.op]!;
  const { args } = step;
  if (rule.args === 'list') {
    if (args.length === 0) problem(`${p}/args`, `${step.op} takes at least one tensor argument, got 0`);
    args.forEach((a, i) => {
      if (typeof a === 'number') problem(`${p}/args/${i}`, `must be a tensor reference: ${step.op} joins tensors, not the number ${a}`);
    });
  } else if (args.length !== rule.args) {
    problem(`${p}/args`, `${step.op} takes ${count(rule.args, rule.args === 1 ? 'tensor argument' : 'argument')}, got ${args.length}`);
  } else if (rule.args === 1 && typeof args[0] === 'number') {
    problem(`${p}/args/0`, `must be a tensor reference: ${step.op} applies to a tensor, not the number ${args[0]}`);
  } else if (step.op === 'matmul' || step.op === 'maximum' || step.op === 'minimum' || LOSS.has(step.op)) {
    args.forEach((a, i) => {
      if (typeof a === 'number') problem(`${p}/args/${i}`, `must be a tensor reference: ${step.op} takes no plain numbers (got ${a})`);
    });
  } else if (step.op in INDEX_TENSORS) {
    args.slice(0, INDEX_TENSORS[step.op]).forEach((a, i) => {
      if (typeof a === 'number') problem(`${p}/args/${i}`, `must be a tensor reference: argument ${i} of ${step.op} is a tensor, not the number ${a}`);
    });
  } else if (step.op === 'where' && typeof args[0] === 'number') {
    problem(`${p}/args/0`, `must be a tensor reference: where's condition is a bool tensor, not the number ${args[0]}`);
  } else if (rule.args === 2 && args.every((a) => typeof a === 'number')) {
    problem(`${p}/args`, `${step.op} needs at least one tensor reference; both arguments are numbers`);
  }
  const attrs = (step.attrs ?? {}) as Record<string, unknown>;
  for (const name of Object.keys(attrs)) {
    if (!rule.attrs.includes(name)) {
      const takes = rule.attrs.length ? `takes only ${rule.attrs.join(', ')}` : 'takes no attributes';
      problem(`${p}/attrs/${name}`, `is not an attribute of ${step.op} (${step.op} ${takes})`);
    }
  }
  for (const name of rule.required) {
    if (attrs[name] === undefined) problem(`${p}/attrs/${name}`, `is required by ${step.op}`);
  }
  // max and min with a dim return (values, indices): two names; without one a tensor: one name.
  // unbind, split and chunk return as many tensors as there are pieces: a list of names.
  if (MULTI_OUTPUT.has(step.op)) {
    if (!Array.isArray(step.let)) problem(`${p}/let`, `must be a list of names for ${step.op}, one per tensor it returns (a, b = y.${step.op}(...))`);
  } else if ((step.op === 'max' || step.op === 'min')) {
    const tuple = attrs.dim !== undefined;
    if (tuple && !(Array.isArray(step.let) && step.let.length === 2)) problem(`${p}/let`, `must be a list of two names for ${step.op} with a dim (values, indices)`);
    if (!tuple && Array.isArray(step.let)) problem(`${p}/let`, `must be one name: ${step.op}() without a dim returns one tensor`);
    if (!tuple && attrs.keepdim !== undefined) problem(`${p}/attrs/keepdim`, `needs attrs.dim: PyTorch's ${step.op}() takes keepdim only together with dim`);
  } else if (Array.isArray(step.let)) problem(`${p}/let`, `must be one name: only max and min with a dim, unbind, split and chunk return a tuple`);
  if (['unsqueeze', 'squeeze', 'softmax', 'logSoftmax', 'prod', 'cumsum', 'cumprod', 'argmax', 'argmin', 'max', 'min', 'select', 'narrow', 'unbind', 'split', 'chunk', 'cat', 'stack', ...Object.keys(INDEX_TENSORS)].includes(step.op) && Array.isArray(attrs.dim)) {
    problem(`${p}/attrs/dim`, `must be a single integer for ${step.op} (got a list)`);
  }
  // softplus takes any beta; smooth L1's beta is a distance (PyTorch refuses a negative one).
  if (step.op === 'smoothL1Loss' && typeof attrs.beta === 'number' && attrs.beta < 0) {
    problem(`${p}/attrs/beta`, 'must be at least 0 for smoothL1Loss (PyTorch: smooth_l1_loss does not support negative values for beta)');
  }
  if (['sum', 'mean', 'prod', 'var', 'std'].includes(step.op) && attrs.keepdim !== undefined && attrs.dim === undefined) {
    problem(`${p}/attrs/keepdim`, `needs attrs.dim: PyTorch's ${step.op}() takes keepdim only together with dim`);
  }
}

/** The shape of rectangular data, or null after reporting where it is ragged. */
function dataShape(d: Data, path: string, out: ProgramProblem[]): number[] | null {
  if (!Array.isArray(d)) return [];
  if (d.length === 0) return [0];
  let first: number[] = [];
  for (let i = 0; i < d.length; i++) {
    const s = dataShape(d[i]!, `${path}/${i}`, out);
    if (s === null) return null;
    if (i === 0) first = s;
    else if (s.length !== first.length || s.some((n, k) => n !== first[k])) {
      out.push({ path: `${path}/${i}`, message: `${shapeWords(s)}, but ${path}/0 ${shapeWords(first)}: tensor data must be rectangular` });
      return null;
    }
  }
  return [d.length, ...first];
}

const shapeWords = (s: number[]) => (s.length === 0 ? 'is a scalar' : `has shape [${s.join(', ')}]`);

// ---------------------------------------------------------------------------------------------
// Fixture consistency: expected observations follow the program's observe steps

function fixtureProblems(fixture: Fixture): ProgramProblem[] {
  const out: ProgramProblem[] = [];
  const observes: { label: string; path: string; order: number }[] = [];
  const order = new Map<string, { order: number; block: boolean }>();
  let n = 0;
  walk(fixture.program.steps, '/program/steps', (step, path, stepPath) => {
    order.set(stepPath, { order: n, block: bodyKey(step as unknown as Record<string, unknown>) !== undefined });
    if ('observe' in step) observes.push({ label: step.label ?? step.observe, path, order: n });
    n++;
  }, '', true);
  const { observations, error } = fixture.expected;
  let due = observes.length;
  if (error) {
    const at = order.get(error.step);
    if (!at) out.push({ path: '/expected/error/step', message: `names no step of the program (got "${error.step}")` });
    else if (at.block) out.push({ path: '/expected/error/step', message: `names a noGrad/enableGrad block or a repeat step; name the failing step inside it` });
    else due = observes.filter((o) => o.order < at.order).length;
  }
  observations.forEach((o, i) => {
    const step = observes[i];
    if (!step || i >= due) {
      out.push({ path: `/expected/observations/${i}`, message: `has no observe step that runs (the program runs ${count(due, 'observe step')})` });
    } else if (o.label !== step.label) {
      out.push({ path: `/expected/observations/${i}/label`, message: `is "${o.label}" but observe step ${step.path} has label "${step.label}"` });
    }
  });
  if (observations.length < due) {
    out.push({ path: '/expected/observations', message: `has ${count(observations.length, 'entry', 'entries')} but the program runs ${count(due, 'observe step')}${error ? ' before the error' : ''}` });
  }
  const labels = new Set(observations.map((o) => o.label));
  fixture.differences?.forEach((d, i) => {
    if (!labels.has(d.label)) out.push({ path: `/differences/${i}/label`, message: `"${d.label}" is not the label of any expected observation` });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Helpers

type Visit = (step: Step, path: string, stepPath: string, inRepeat: boolean) => void;

/**
 * Visits steps in order, nested ones included; `stepPath` is the `"4.1"` form. A repeat body is
 * visited once (its step paths without the iteration), or with `expand` once per iteration in
 * execution order (`"4.17.0"`), which the program's limits keep to at most MAX_EXECUTED visits.
 */
function walk(steps: Step[], path: string, visit: Visit, prefix = '', expand = false, inRepeat = false): void {
  steps.forEach((step, i) => {
    const stepPath = `${prefix}${i}`;
    visit(step, `${path}/${i}`, stepPath, inRepeat);
    if ('noGrad' in step) walk(step.noGrad, `${path}/${i}/noGrad`, visit, `${stepPath}.`, expand, inRepeat);
    if ('enableGrad' in step) walk(step.enableGrad, `${path}/${i}/enableGrad`, visit, `${stepPath}.`, expand, inRepeat);
    if ('repeat' in step) {
      if (!expand) walk(step.steps, `${path}/${i}/steps`, visit, `${stepPath}.`, expand, true);
      else for (let k = 0; k < step.repeat; k++) walk(step.steps, `${path}/${i}/steps`, visit, `${stepPath}.${k}.`, expand, true);
    }
  });
}

function bindings(step: Step, path: string): [string, string][] {
  if ('grad' in step) return step.let.map((name, i) => [name, `${path}/let/${i}`]);
  if ('op' in step && Array.isArray(step.let)) return step.let.map((name, i) => [name, `${path}/let/${i}`]);
  if ('tensor' in step || 'op' in step) return [[step.let as string, `${path}/let`]];
  return [];
}

/** Counts steps, nested ones included, without recursion and stopping just past the limit. */
function countSteps(steps: unknown): number {
  let n = 0;
  const lists = [steps];
  while (lists.length > 0 && n <= MAX_STEPS) {
    const list = lists.pop();
    if (!Array.isArray(list)) continue;
    n += list.length;
    for (const s of list) if (isObject(s)) { const k = bodyKey(s); if (k) lists.push(s[k]); }
  }
  return n;
}

/** Counts the steps a program would execute (repeat bodies times their count), stopping past the limit. */
function countExecuted(steps: unknown): number {
  let n = 0;
  const lists: [unknown, number][] = [[steps, 1]];
  while (lists.length > 0 && n <= MAX_EXECUTED) {
    const [list, times] = lists.pop()!;
    if (!Array.isArray(list)) continue;
    n += list.length * times;
    for (const s of list) {
      if (!isObject(s)) continue;
      const k = bodyKey(s);
      // A count the schema will refuse (not a positive integer) counts once here.
      const r = k === 'steps' && Number.isInteger(s.repeat) && (s.repeat as number) > 0 ? (s.repeat as number) : 1;
      if (k) lists.push([s[k], times * r]);
    }
  }
  return n;
}

const isIndexRef = (item: IndexItem): item is { ref: string } => isObject(item) && Object.hasOwn(item, 'ref');

function field(value: unknown, key: string): unknown {
  return isObject(value) ? value[key] : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function show(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (isObject(value)) return 'an object';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function count(n: number, word: string, plural = `${word}s`): string {
  return `${n} ${n === 1 ? word : plural}`;
}

/** ` (did you mean "x"?)` for a near miss, by edit distance. */
function suggest(word: string, candidates: readonly string[]): string {
  let best = '';
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance && d < Math.max(word.length, c.length)) { best = c; bestDistance = d; }
  }
  return best && best !== word ? ` (did you mean "${best}"?)` : '';
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
