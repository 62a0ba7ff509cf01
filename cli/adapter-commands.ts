import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { validateCapabilities } from '../adapters/capabilities.ts';
import { EngineNotFound, NotInstalled, openAdapter, resolveEngine } from '../adapters/index.ts';
import { packagePath } from '../adapters/package-root.ts';
import { AdapterError } from '../adapters/process.ts';
import { observationsProblem, validateProgram } from '../adapters/program/validate.ts';
import { runProgram as referenceRun } from '../adapters/reference/run-program.ts';
import { FEATURES, FIELDS, LAYOUT_FIELDS, type Adapter, type Capabilities, type Feature } from '../adapters/types.ts';
import { unsupported } from '../properties/property.ts';
import {
  BINARY_OPS, COMPARISON_OPS, INPLACE_OPS, JOIN_OPS, LOSS_OPS, MULTI_OUTPUT_OPS, OP_NAMES, SHAPE_OPS, VIEW_OPS, type Data, type DType, type ErrorCategory, type InplaceName,
  type Observations, type OpName, type Program, type Step,
} from '../spec/program.ts';
import { featuresOf } from './needs.ts';
import { integer, UsageError } from './usage.ts';

/**
 * `gradspec adapter init | test | probe`: the adapter kit's commands (spec/adapters.md, "Ten
 * minutes to a checked engine"). init writes a skeleton that answers "not supported" to
 * everything; test is a smoke test of the protocol and the observation format in seconds; probe
 * prints the capabilities an engine actually has.
 */

const DTYPES: readonly DType[] = ['float32', 'float64'];

// ---------------------------------------------------------------------------------------------
// init

interface Template { from: string[]; to: string }

const TEMPLATES: Record<'python' | 'ts', { files: Template[]; main: string; command: (file: string) => string }> = {
  python: {
    files: [
      { from: ['adapters', 'kit', 'gradspec_adapter.py'], to: 'gradspec_adapter.py' },
      { from: ['adapters', 'kit', 'template', 'my_engine_adapter.py'], to: 'my_engine_adapter.py' },
    ],
    main: 'my_engine_adapter.py',
    command: (file) => `python3 ${file}`,
  },
  ts: {
    files: [{ from: ['adapters', 'kit', 'template', 'my-engine-adapter.mts'], to: 'my-engine-adapter.mts' }],
    main: 'my-engine-adapter.mts',
    command: (file) => `node --import tsx ${file}`,
  },
};

/** Writes the skeleton; refuses (UsageError, exit 2) to overwrite any file. Returns what it printed. */
/** A path as the user can use it from here: relative inside the working directory, absolute outside it. */
const shownPath = (cwd: string, p: string): string => {
  const r = relative(cwd, p);
  return r === '' ? p : r.startsWith('..') ? resolve(p) : r;
};

export function initAdapter(lang: string, dir: string, cwd = process.cwd()): string {
  if (lang !== 'python' && lang !== 'ts') throw new UsageError(`--lang must be 'python' or 'ts', got '${lang}'`);
  const template = TEMPLATES[lang];
  const target = resolve(cwd, dir);
  const existing = template.files.map((f) => join(target, f.to)).filter((p) => existsSync(p));
  if (existing.length > 0) {
    throw new UsageError(`adapter init: refusing to overwrite ${existing.map((p) => shownPath(cwd, p)).join(', ')}; remove ${existing.length === 1 ? 'it' : 'them'} or choose another directory`);
  }
  mkdirSync(target, { recursive: true });
  for (const f of template.files) {
    const source = packagePath(...f.from);
    if (lang === 'ts') {
      writeFileSync(join(target, f.to), readFileSync(source, 'utf8'), { flag: 'wx' });
    } else {
      copyFileSync(source, join(target, f.to));
    }
  }
  const shown = shownPath(cwd, join(target, template.main));
  const engine = template.command(shown.includes('/') ? shown : `./${shown}`);
  const lines = [
    `wrote ${template.files.map((f) => shownPath(cwd, join(target, f.to))).join(', ')}`,
    '',
    'Every op and feature answers "not supported" until you write it. Next:',
    `  1. fill in ${shown}: tensor, value, grad, backward and the ops your engine has (TODOs)`,
    `  2. npx gradspec adapter test --engine "${engine}"     # smoke test, seconds`,
    `  3. npx gradspec adapter probe --engine "${engine}"    # paste the capabilities it prints`,
    `  4. npx gradspec check --engine "${engine}" --runs 20  # the conformance report`,
    `  5. in CI: npx gradspec check --engine "${engine}" --junit gradspec.xml`,
  ];
  if (lang === 'ts') lines.push('', "It imports 'gradspec/adapter': install gradspec and tsx in that project (npm install --save-dev gradspec tsx).");
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// canonical programs, one per step kind

interface Canonical { kind: string; program: Program }

const leaf = (requiresGrad = true, data: Data = 1.5, name = 'x'): Step => ({ let: name, tensor: data, requiresGrad });

/** One small program per step kind (and one error), in dtype `dtype`. */
export function canonicalPrograms(dtype: DType): Canonical[] {
  const p = (kind: string, steps: Step[]): Canonical => ({ kind, program: validateProgram({ id: `adapter-test.${kind.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '')}`, dtype, steps }) });
  const square: Step = { let: 'y', op: 'mul', args: ['x', 'x'] };
  return [
    p('leaf + observe', [leaf(), { observe: 'x' }]),
    p('op', [leaf(), { let: 'y', op: 'mul', args: ['x', 2] }, { observe: 'y' }]),
    p('backward', [leaf(), square, { backward: 'y' }, { observe: 'x.grad' }]),
    p('autogradBackward', [leaf(), square, { autogradBackward: ['y'] }, { observe: 'x.grad' }]),
    p('grad (autograd.grad)', [leaf(), square, { let: ['g'], grad: { outputs: ['y'], inputs: ['x'] } }, { observe: 'g' }]),
    p('observe item', [leaf(), { observe: 'x', item: true }]),
    p('repeat', [leaf(), { let: 'y', op: 'mul', args: ['x', 1] }, { repeat: 3, steps: [{ let: 'y', op: 'add', args: ['y', 'x'] }] }, { observe: 'y' }]),
    p('requiresGrad_', [leaf(false, 1.5, 'a'), { requiresGrad_: 'a' }, { observe: 'a' }]),
    p('noGrad', [leaf(), { noGrad: [{ let: 'y', op: 'mul', args: ['x', 2] }] }, { observe: 'y' }]),
    p('enableGrad', [leaf(), { noGrad: [{ enableGrad: [{ let: 'y', op: 'mul', args: ['x', 2] }] }] }, { observe: 'y' }]),
    p('setGradEnabled', [leaf(), { setGradEnabled: false }, { let: 'y', op: 'mul', args: ['x', 2] }, { setGradEnabled: true }, { observe: 'y' }]),
    p('inplace', [leaf(false, 1.5, 'a'), { inplace: 'add_', target: 'a', args: [1] }, { observe: 'a' }]),
    p('inplace zero_ on .grad', [leaf(), square, { backward: 'y' }, { inplace: 'zero_', target: 'x.grad' }, { observe: 'x.grad' }]),
    p('clearGrad', [leaf(), square, { backward: 'y' }, { clearGrad: 'x' }, { observe: 'x.grad' }]),
    p('retainGrad', [leaf(), { let: 'y', op: 'mul', args: ['x', 2] }, { retainGrad: 'y' }, { let: 'z', op: 'mul', args: ['y', 'y'] }, { backward: 'z' }, { observe: 'y.grad' }]),
    p('detach_', [leaf(), { let: 'y', op: 'mul', args: ['x', 2] }, { detach_: 'y' }, { observe: 'y' }]),
    p('error (backward of a leaf without grad)', [leaf(false, 1.5, 'a'), { backward: 'a' }, { observe: 'a' }]),
  ];
}

// ---------------------------------------------------------------------------------------------
// well-formedness of one answer

/** The labels a program's observe steps record, in order, repeat bodies unrolled. */
function labelsOf(steps: readonly Step[]): string[] {
  return steps.flatMap((s): string[] => {
    if ('observe' in s) return [s.label ?? s.observe];
    if ('noGrad' in s) return labelsOf(s.noGrad);
    if ('enableGrad' in s) return labelsOf(s.enableGrad);
    if ('repeat' in s) return Array.from({ length: s.repeat }, () => labelsOf(s.steps)).flat();
    return [];
  });
}

/** Whether `path` names a step of the program that is neither a block nor a repeat step. */
function stepExists(steps: readonly Step[], path: string, blocks = false): boolean {
  const parts = path.split('.');
  if (!parts.every((x) => /^\d+$/.test(x))) return false;
  let list = steps;
  for (let i = 0; i < parts.length; i++) {
    const step = list[Number(parts[i])];
    if (!step) return false;
    const last = i === parts.length - 1;
    if ('noGrad' in step || 'enableGrad' in step) {
      if (last) return blocks;
      list = 'noGrad' in step ? step.noGrad : step.enableGrad;
    } else if ('repeat' in step) {
      if (last || i + 2 >= parts.length || Number(parts[i + 1]) >= step.repeat) return false;
      i++;
      list = step.steps;
    } else return last;
  }
  return false;
}

/** What is wrong with an engine's answer to one program, beyond the schema; null when nothing. */
export function answerProblem(program: Program, answer: unknown, capabilities: Capabilities): string | null {
  const schema = observationsProblem(answer);
  if (schema) return `malformed observations: ${schema}`;
  const o = answer as Observations;
  const all = labelsOf(program.steps);
  const labels = o.observations.map((x) => x.label);
  const prefix = labels.every((l, i) => all[i] === l);
  if (!prefix || (o.error === null && labels.length !== all.length)) {
    return `observations labelled ${JSON.stringify(labels)}, but the program observes ${JSON.stringify(all)}${o.error ? ' (those before the error)' : ''}: one observation per observe step run, in order`;
  }
  // A block whose grad mode the engine cannot set is refused at the block itself.
  if (o.error && !stepExists(program.steps, o.error.step, unsupported([o]) !== null)) {
    return `error.step '${o.error.step}' is not the path of a step of the program ("4", "4.1" inside a block, "4.17.0" in iteration 17 of a repeat)`;
  }
  const observes = flatSteps(program.steps).flatMap((s) => ('observe' in s ? [s] : []));
  const items = new Set(observes.flatMap((s) => (s.item ? [s.label ?? s.observe] : [])));
  // Layout fields and sharesStorage are due only where every observe step of that label asks for them.
  const asks = (label: string, field: string) => observes.filter((s) => (s.label ?? s.observe) === label)
    .every((s) => ((LAYOUT_FIELDS as readonly string[]).includes(field) ? s.layout === true : field === 'sharesStorage' ? s.sameStorage !== undefined : true));
  for (const obs of o.observations) {
    if (obs.none || items.has(obs.label)) continue;
    const missing = capabilities.fields.filter((f) => !(f in obs) && !(f === 'nextFunctions' && !obs.gradFn) && asks(obs.label, f));
    if (missing.length > 0) return `observation '${obs.label}' lacks ${missing.map((f) => `'${f}'`).join(', ')}, though the engine declares ${missing.length === 1 ? 'that field' : 'those fields'}`;
  }
  return null;
}

const flatSteps = (steps: readonly Step[]): Step[] => steps.flatMap((s) => [s, ...flatSteps('noGrad' in s ? s.noGrad : 'enableGrad' in s ? s.enableGrad : 'repeat' in s ? s.steps : [])]);

// ---------------------------------------------------------------------------------------------
// test

interface Opened { adapter: Adapter; ms: number }

async function open(engine: string, timeoutMs: number): Promise<Opened> {
  resolveEngine(engine); // a typo is a usage error (exit 2), not a malformed adapter
  const started = performance.now();
  const adapter = await openAdapter(engine, { helloTimeoutMs: Math.max(timeoutMs, 30_000), batchTimeoutMs: timeoutMs, maxRestarts: 0, heartbeat: null });
  return { adapter, ms: performance.now() - started };
}

type Outcome = 'runs' | 'not supported' | 'error' | 'fault';

interface Row { kind: string; needs: string; declared: string; outcome: string; ms: number }

const pad = (rows: string[][]): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
};

const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;

/** `gradspec adapter test`: output and exit code (0 well-formed, 1 malformed). */
export async function testAdapter(engine: string, timeoutMs = 20_000): Promise<{ output: string; code: number }> {
  const out: string[] = [];
  const problems: string[] = [];
  let opened: Opened;
  try {
    opened = await open(engine, timeoutMs);
  } catch (e) {
    if (e instanceof EngineNotFound || e instanceof NotInstalled) throw e;
    const message = (e as Error).message;
    return { output: `MALFORMED: handshake failed: ${message}\n`, code: 1 };
  }
  const { adapter } = opened;
  const caps = adapter.capabilities;
  out.push(`engine: ${adapter.name} ${adapter.version}`);
  out.push(`handshake: ${ms(opened.ms)} (start and hello); capabilities valid: dtypes ${caps.dtypes.join(', ')}; fields ${caps.fields.join(', ')}; features ${caps.features.join(', ') || 'none'}; profile ${caps.profile}`);
  const dtype = caps.dtypes.includes('float32') ? 'float32' : caps.dtypes[0]!;
  const canon = canonicalPrograms(dtype);
  const rows: Row[] = [];
  const alone: unknown[] = [];
  let batchLine = '';
  try {
    for (const { kind, program } of canon) {
      const expected = referenceRun(program);
      const needs = [...featuresOf(program, expected)].filter((f) => !f.startsWith('dtype '));
      const declared = needs.length === 0 ? '-' : needs.every((f) => caps.features.includes(f as Feature)) ? 'yes' : 'no';
      const started = performance.now();
      let outcome: Outcome;
      let detail = '';
      try {
        const [answer, ...extra] = (await adapter.run([program])) as unknown[];
        alone.push(answer);
        if (extra.length > 0 || answer === undefined) throw new Error(`answered ${extra.length + (answer === undefined ? 0 : 1)} results for 1 program`);
        const problem = answerProblem(program, answer, caps);
        if (problem) {
          problems.push(`${kind} (program ${program.id}): ${problem}`);
          outcome = 'fault';
          detail = ' (malformed)';
        } else {
          const o = answer as Observations;
          outcome = unsupported([o]) ? 'not supported' : o.error ? 'error' : 'runs';
          if (outcome === 'error') detail = ` ${o.error!.category} at step ${o.error!.step}`;
          if (kind.startsWith('error') && outcome === 'error' && o.error!.category !== expected.error?.category) detail += ` (PyTorch: ${expected.error?.category})`;
          if (!kind.startsWith('error') && outcome === 'error') detail += ` (PyTorch runs it: ${o.error!.message.slice(0, 60)})`;
        }
      } catch (e) {
        problems.push(`${kind} (program ${program.id}): ${(e as Error).message}`);
        outcome = 'fault';
      }
      rows.push({ kind, needs: needs.join(', ') || '-', declared, outcome: `${outcome}${detail}`, ms: performance.now() - started });
      if (outcome === 'fault' && problems.length > 0 && /exited|not a protocol message|invalid JSON|did not answer|gave up/.test(problems.at(-1)!)) break;
    }
    // The same programs in one batch: answers in order, and no state leaking from one program to the next.
    if (problems.length === 0) {
      const started = performance.now();
      try {
        const batch = (await adapter.run(canon.map((c) => c.program))) as unknown[];
        const took = performance.now() - started;
        if (!Array.isArray(batch) || batch.length !== canon.length) problems.push(`a batch of ${canon.length} programs was answered with ${Array.isArray(batch) ? batch.length : 'no list of'} results`);
        else {
          const differs = canon.findIndex((c, i) => JSON.stringify(batch[i]) !== JSON.stringify(alone[i]));
          if (differs >= 0) problems.push(`program ${canon[differs]!.program.id} answers differently in a batch than alone: state leaks between programs (reset grad mode and names for each program)`);
        }
        batchLine = `batch of ${canon.length} programs: ${ms(took)}`;
      } catch (e) {
        problems.push(`a batch of ${canon.length} programs: ${(e as Error).message}`);
      }
    }
  } finally {
    await adapter.close?.();
  }
  out.push('', `step kinds (programs in ${dtype}; 'needs' is the feature gradspec reads from the program, 'declared' whether the engine claims it):`);
  out.push(pad([['step kind', 'needs', 'declared', 'engine', 'latency'], ...rows.map((r) => [r.kind, r.needs, r.declared, r.outcome, ms(r.ms)])]));
  if (batchLine) out.push(batchLine);
  const runsUndeclared = [...new Set(rows.filter((r) => r.declared === 'no' && (r.outcome.startsWith('runs') || r.outcome.startsWith('error'))).flatMap((r) => r.needs.split(', ')))]
    .filter((f) => !caps.features.includes(f as Feature));
  const declaredNotRun = caps.features.filter((f) => rows.some((r) => r.needs.split(', ').includes(f)) && rows.filter((r) => r.needs.split(', ').includes(f)).every((r) => r.outcome === 'not supported'));
  if (runsUndeclared.length > 0) out.push('', `note: the engine runs steps of ${runsUndeclared.join(', ')} without declaring ${runsUndeclared.length === 1 ? 'it' : 'them'}; check treats those as n/a until they are declared (gradspec adapter probe)`);
  // Name the step kinds: a feature may be needed by several (detach by the op and by detach_).
  const kindsNeeding = (f: string) => rows.filter((r) => r.needs.split(', ').includes(f)).map((r) => r.kind).join(', ');
  for (const f of declaredNotRun) out.push('', `note: the engine declares ${f} but answers "not supported" to the step kinds that need it (${kindsNeeding(f)})`);
  if (problems.length > 0) {
    return { output: `MALFORMED: ${problems[0]}\n${problems.slice(1).map((p) => `also: ${p}\n`).join('')}\n${out.join('\n')}\n`, code: 1 };
  }
  const nothing = rows.every((r) => r.outcome === 'not supported');
  out.push('', nothing
    ? 'OK: the adapter is well-formed, and answers "not supported" to everything: gradspec check will report nothing checked (exit 2) until ops are filled in.'
    : 'OK: the adapter is well-formed.');
  return { output: `${out.join('\n')}\n`, code: 0 };
}

// ---------------------------------------------------------------------------------------------
// probe

const MATRIX: Data = [[0.5, 1.5], [2.0, 0.25]];
const VECTOR: Data = [0.5, 1.5];

/** Probe programs for one op: inputs it can take, scalar first. */
function opVariants(op: OpName, dtype: DType): Program[] {
  const attrs: Partial<Record<OpName, Record<string, unknown>>> = {
    reshape: { shape: [4] }, view: { shape: [4] }, expand: { shape: [2, 2, 2] }, transpose: { dim0: 0, dim1: 1 },
    permute: { dims: [1, 0] }, unsqueeze: { dim: 0 }, squeeze: {}, sum: {}, mean: {},
    softmax: { dim: -1 }, logSoftmax: { dim: -1 }, logsumexp: { dim: -1 }, prod: {}, cumsum: { dim: 0 }, cumprod: { dim: 0 }, var: { unbiased: false }, std: { unbiased: false }, norm: {},
    amax: { dim: 0 }, amin: { dim: 0 }, clamp: { min: 0, max: 1 }, clampMin: { min: 0 }, clampMax: { max: 1 },
    mseLoss: { reduction: 'sum' }, l1Loss: { reduction: 'sum' }, smoothL1Loss: { reduction: 'sum', beta: 1 }, binaryCrossEntropy: { reduction: 'sum' },
    binaryCrossEntropyWithLogits: { reduction: 'sum' }, nllLoss: { reduction: 'sum' }, crossEntropy: { reduction: 'sum' },
    select: { dim: 0, index: 1 }, narrow: { dim: 1, start: 1, length: 1 }, diagonal: {}, unbind: {}, split: { splitSize: 1 },
    chunk: { chunks: 2 }, index: { items: [{ start: 1 }, 0] }, contiguous: {},
    cat: { dim: 0 }, stack: { dim: 0 }, flip: { dims: [0] }, roll: { shifts: 1 }, repeat: { sizes: [2, 1] },
    indexSelect: { dim: 0 }, gather: { dim: 1 }, scatter: { dim: 1 }, scatterAdd: { dim: 1 }, indexAdd: { dim: 0, alpha: 2 },
  };
  // The gather family indexes the matrix with an int64 leaf k (a repeated index where the gradient adds up).
  const index: Partial<Record<OpName, Data>> = {
    indexSelect: [1, 1], gather: [[0, 0], [1, 0]], scatter: [[1, 0], [0, 1]], scatterAdd: [[1, 1], [0, 0]], indexAdd: [1, 1],
  };
  // unbind, split and chunk of a 2x2 matrix along dim 0 give two tensors: two names.
  const multi = (MULTI_OUTPUT_OPS as readonly string[]).includes(op);
  // binaryCrossEntropy takes probabilities: inputs in [0, 1].
  const datas: Data[] = op === 'binaryCrossEntropy' ? [0.25, [0.25, 0.75]] : op === 'nllLoss' || op === 'crossEntropy' ? [VECTOR]
    : op === 'matmul' || (SHAPE_OPS as readonly string[]).includes(op) || (VIEW_OPS as readonly string[]).includes(op) || (JOIN_OPS as readonly string[]).includes(op) || index[op] ? [MATRIX] : [1.5, VECTOR, MATRIX];
  // A loss takes (input, target): the probe passes x twice.
  const binary = (BINARY_OPS as readonly string[]).includes(op) || (COMPARISON_OPS as readonly string[]).includes(op)
    || (LOSS_OPS as readonly string[]).includes(op) || op === 'maximum' || op === 'minimum';
  // where needs a bool condition: the probe makes one with gt.
  // nllLoss and crossEntropy take int64 class targets: the probe picks class 0 (a 0-d target for a vector).
  const classTarget = op === 'nllLoss' || op === 'crossEntropy';
  // cat and stack join x with itself. indexSelect and gather take (x, k); scatter, scatterAdd and indexAdd (x, k, x); maskedFill (x, c, 0).
  const args = op === 'where' ? ['c', 'x', 0] : op === 'maskedFill' ? ['x', 'c', 0] : classTarget ? ['x', 'k']
    : index[op] ? (op === 'indexSelect' || op === 'gather' ? ['x', 'k'] : ['x', 'k', 'x']) : binary || op === 'cat' || op === 'stack' ? ['x', 'x'] : ['x'];
  return datas.map((data, i) => validateProgram({
    id: `probe.op.${op}.${i}`, dtype,
    steps: [
      { let: 'x', tensor: data, requiresGrad: true },
      ...(op === 'where' || op === 'maskedFill' ? [{ let: 'c', op: 'gt', args: ['x', 1] } as Step] : []),
      ...(classTarget ? [{ let: 'k', tensor: 0, dtype: 'int64' } as Step] : []),
      ...(index[op] ? [{ let: 'k', tensor: index[op], dtype: 'int64' } as Step] : []),
      { let: multi ? ['y', 'y1'] : 'y', op, args, ...(attrs[op] && Object.keys(attrs[op]!).length > 0 ? { attrs: attrs[op] } : {}) },
      { observe: 'y' },
    ],
  }));
}

const clean = (o: Observations | undefined) => o !== undefined && o.error === null;

const close = (a: unknown, b: unknown, tol: number): boolean => {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => close(x, b[i], tol));
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
  return a === b;
};

/**
 * Whether an engine's answer to a probe agrees with the reference engine's: the same error
 * category (or none), the same observations, values within a float32 tolerance. A feature is
 * supported only when its probes agree, so an engine that accepts a flag and ignores it (a
 * createGraph that builds no graph) is not credited with the feature.
 */
export function agrees(o: Observations | undefined, expected: Observations): boolean {
  if (!o || (o.error === null) !== (expected.error === null)) return false;
  if (o.error && (o.error.category !== expected.error!.category || o.error.step !== expected.error!.step)) return false;
  if (o.observations.length !== expected.observations.length) return false;
  return o.observations.every((x, i) => {
    const e = expected.observations[i]!;
    return x.label === e.label && Boolean(x.none) === Boolean(e.none) && close(x.value, e.value, 1e-4);
  });
}

export interface ProbeResult {
  capabilities: Record<string, unknown>;
  ops: { op: OpName; supported: boolean }[];
  steps: { what: string; supported: boolean }[];
  /** missing: steps answered "not supported" (their checks are n/a); wrong: steps answered unlike PyTorch. */
  features: { feature: Feature; supported: boolean; missing: string[]; wrong: string[] }[];
}

/** Runs the probe programs and reads off what the engine supports. */
export async function probeAdapter(adapter: Adapter): Promise<ProbeResult> {
  const run = async (programs: Program[]): Promise<Observations[]> => {
    const results = (await adapter.run(programs)) as unknown[];
    if (!Array.isArray(results) || results.length !== programs.length) throw new AdapterError(`answered ${Array.isArray(results) ? results.length : 'no list of'} results for ${programs.length} programs`);
    results.forEach((r, i) => {
      const problem = observationsProblem(r);
      if (problem) throw new AdapterError(`malformed observations for ${programs[i]!.id}: ${problem} (run gradspec adapter test)`);
    });
    return results as Observations[];
  };
  // dtypes
  const dtypePrograms = DTYPES.map((d) => validateProgram({ id: `probe.dtype.${d}`, dtype: d, steps: [{ let: 'x', tensor: 1.5, requiresGrad: true }, { observe: 'x' }] }));
  const dtypeVectors = DTYPES.map((d) => validateProgram({ id: `probe.dtype.${d}.vector`, dtype: d, steps: [{ let: 'x', tensor: VECTOR, requiresGrad: true }, { observe: 'x' }] }));
  const dtypeAnswers = await run([...dtypePrograms, ...dtypeVectors]);
  const floats = DTYPES.filter((_, i) => clean(dtypeAnswers[i]) || clean(dtypeAnswers[i + DTYPES.length]));
  // int64 and bool: a leaf of that dtype must come back as that dtype with its exact values
  // (integers, booleans), so an engine that quietly makes float tensors is not credited.
  const exact: [DType, Data][] = [['int64', [3, -2]], ['bool', [true, false]]];
  const exactAnswers = await run(exact.map(([d, data]) => validateProgram({ id: `probe.dtype.${d}`, steps: [{ let: 'x', tensor: data, dtype: d }, { observe: 'x' }] })));
  const dtypes: DType[] = [...floats, ...exact.filter(([d, data], i) => {
    const o = exactAnswers[i];
    const x = o?.error === null ? o.observations[0] : undefined;
    return x !== undefined && x.dtype === d && JSON.stringify(x.value) === JSON.stringify(data);
  }).map(([d]) => d)];
  const dtype = dtypes.includes('float32') ? 'float32' : dtypes[0] ?? 'float64';
  // ops
  const variants = OP_NAMES.map((op) => opVariants(op, dtype));
  const opAnswers = await run(variants.flat());
  let k = 0;
  const working = new Map<OpName, Data>();
  const ops = OP_NAMES.map((op, i) => {
    const answers = variants[i]!.map(() => opAnswers[k++]!);
    const first = answers.findIndex(clean);
    if (first >= 0) working.set(op, (variants[i]![first]!.steps[0] as { tensor: Data }).tensor);
    return { op, supported: first >= 0 };
  });
  // The op and data the feature probes use: elementwise, on the smallest data that worked.
  const candidates: OpName[] = ['mul', 'add', 'sub', 'div', 'exp', 'sin', 'cos', 'tanh', 'sigmoid', 'sqrt', 'log', 'pow', 'neg', 'abs', 'reciprocal', 'tan'];
  const f = candidates.find((op) => working.has(op)) ?? 'mul';
  const data = working.get(f) ?? 1.5;
  const scalar = !Array.isArray(data);
  const apply = (out: string, input: string): Step => ({ let: out, op: f, args: (BINARY_OPS as readonly string[]).includes(f) ? [input, input] : [input] });
  const grad = (data: Data): Data => (Array.isArray(data) ? data.map(grad) : 1);
  const backward = (y: string, extra: object = {}): Step => ({ backward: y, ...(scalar ? {} : { gradient: grad(data) }), ...extra });
  const x: Step = { let: 'x', tensor: data, requiresGrad: true };
  const a: Step = { let: 'a', tensor: data };
  const prog = (id: string, steps: Step[]) => validateProgram({ id: `probe.${id}`, dtype, steps });
  // indexPut_ writes everywhere (`a[...] = 2`), which also works on a 0-d tensor.
  const inplaceArg = (op: InplaceName) => (op === 'zero_' ? {} : op === 'indexPut_' ? { args: [2], attrs: { items: ['...' as const] } } : { args: [2] });
  const featureProbes: Record<Feature, Record<string, Program[]>> = {
    accumulate: {
      'two backward passes into .grad': [prog('accumulate.twice', [x, apply('y1', 'x'), backward('y1'), apply('y2', 'x'), backward('y2'), { observe: 'x.grad' }])],
      'zero_ on .grad': [prog('accumulate.zero', [x, apply('y', 'x'), backward('y'), { inplace: 'zero_', target: 'x.grad' }, { observe: 'x.grad' }])],
      clearGrad: [prog('accumulate.clear', [x, apply('y', 'x'), backward('y'), { clearGrad: 'x' }, { observe: 'x.grad' }])],
      retainGrad: [prog('accumulate.retain', [x, apply('y', 'x'), { retainGrad: 'y' }, apply('z', 'y'), backward('z'), { observe: 'y.grad' }])],
    },
    'retain-graph': {
      'a second backward after retainGraph': [prog('retain-graph.retained', [x, apply('y', 'x'), backward('y', { retainGraph: true }), backward('y'), { observe: 'x.grad' }])],
      'a second backward without retainGraph (PyTorch: the freed-graph error)': [prog('retain-graph.freed', [x, apply('y', 'x'), apply('z', 'y'), backward('z'), backward('z'), { observe: 'x.grad' }])],
    },
    'create-graph': {
      'a second backward through the gradient of createGraph': [
        prog('create-graph.backward', [x, apply('y', 'x'), apply('z', 'y'), backward('z', { createGraph: true }), apply('h', 'x.grad'),
          ...(scalar ? [] : [{ let: 'hs', op: 'sum', args: ['h'] } as Step]), { clearGrad: 'x' }, { backward: scalar ? 'h' : 'hs' }, { observe: 'x.grad' }]),
        prog('create-graph.grad', [x, apply('y', 'x'), apply('z', 'y'), ...(scalar ? [] : [{ let: 'ones', tensor: grad(data) } as Step]),
          { let: ['g'], grad: { outputs: ['z'], inputs: ['x'], ...(scalar ? {} : { gradOutputs: ['ones'] }), createGraph: true } },
          { let: ['g2'], grad: { outputs: ['g'], inputs: ['x'], ...(scalar ? {} : { gradOutputs: ['ones'] }) } }, { observe: 'g2' }]),
      ],
    },
    'no-grad': {
      noGrad: [prog('no-grad.block', [x, { noGrad: [apply('y', 'x')] }, { observe: 'y' }])],
      enableGrad: [prog('no-grad.enable', [x, { noGrad: [{ enableGrad: [apply('y', 'x')] }] }, { observe: 'y' }])],
      setGradEnabled: [prog('no-grad.set', [x, { setGradEnabled: false }, apply('y', 'x'), { setGradEnabled: true }, { observe: 'y' }])],
    },
    detach: {
      'op detach': [prog('detach.op', [x, apply('y', 'x'), { let: 'd', op: 'detach', args: ['y'] }, { observe: 'd' }])],
      detach_: [prog('detach.inplace', [x, apply('y', 'x'), { detach_: 'y' }, { observe: 'y' }])],
    },
    inplace: Object.fromEntries(INPLACE_OPS.map((op) => [op, [prog(`inplace.${op}`, [a, { inplace: op, target: 'a', ...inplaceArg(op) }, { observe: 'a' }])]])),
    errors: {
      'no-grad-fn': [prog('errors.no-grad-fn', [a, backward('a'), { observe: 'a' }])],
      ...(scalar ? {} : { 'implicit-non-scalar': [prog('errors.implicit-non-scalar', [x, apply('y', 'x'), { backward: 'y' }, { observe: 'y' }])] }),
    },
  };
  const expectedError: Record<string, ErrorCategory> = { 'no-grad-fn': 'no-grad-fn', 'implicit-non-scalar': 'implicit-non-scalar' };
  const stepProbes: Record<string, Program> = {
    'backward': prog('step.backward', [x, apply('y', 'x'), backward('y'), { observe: 'x.grad' }]),
    'autograd.grad': prog('step.grad', scalar
      ? [x, apply('y', 'x'), { let: ['g'], grad: { outputs: ['y'], inputs: ['x'] } }, { observe: 'g' }]
      : [x, { let: 'ones', tensor: grad(data) }, apply('y', 'x'), { let: ['g'], grad: { outputs: ['y'], inputs: ['x'], gradOutputs: ['ones'] } }, { observe: 'g' }]),
    'autograd.backward': prog('step.autograd-backward', scalar
      ? [x, apply('y', 'x'), { autogradBackward: ['y'] }, { observe: 'x.grad' }]
      : [x, { let: 'ones', tensor: grad(data) }, apply('y', 'x'), { autogradBackward: ['y'], gradTensors: ['ones'] }, { observe: 'x.grad' }]),
    'requiresGrad_': prog('step.requires-grad', [a, { requiresGrad_: 'a' }, { observe: 'a' }]),
    'observe item': prog('step.item', [{ let: 'x', tensor: 1.5 }, { observe: 'x', item: true }]),
  };
  const fieldProgram = prog('fields', [x, apply('y', 'x'), { observe: 'x' }, { observe: 'y' }]);
  // Layout fields are read only where asked for: a program of their own, so an engine that
  // refuses them keeps the other fields.
  const layoutProgram = prog('fields.layout', [x, apply('y', 'x'), { observe: 'y', layout: true, sameStorage: 'x' }]);
  const all: Program[] = [...Object.values(featureProbes).flatMap((g) => Object.values(g).flat()), ...Object.values(stepProbes), fieldProgram, layoutProgram];
  const answers = await run(all);
  const answerOf = new Map(all.map((p, i) => [p.id, answers[i]!]));
  // A feature is there when one of its steps works as in PyTorch and none answers unlike PyTorch.
  // A step answered "not supported" makes only the checks that use it n/a (an engine with two
  // backward passes but no retainGrad still claims accumulate), so it does not count against it.
  const features = FEATURES.map((feature) => {
    const verdicts = Object.entries(featureProbes[feature]).map(([what, programs]) => {
      const answers = programs.map((p) => answerOf.get(p.id)!);
      const good = programs.some((p, i) => {
        const o = answers[i]!;
        if (feature !== 'errors') return agrees(o, referenceRun(p));
        return o.error !== null && !unsupported([o]) && o.error.category === expectedError[what];
      });
      return { what, verdict: good ? 'agrees' : answers.every((o) => unsupported([o])) ? 'unsupported' : 'wrong' };
    });
    const missing = verdicts.filter((v) => v.verdict === 'unsupported').map((v) => v.what);
    const wrong = verdicts.filter((v) => v.verdict === 'wrong').map((v) => v.what);
    return { feature, supported: wrong.length === 0 && verdicts.some((v) => v.verdict === 'agrees'), missing, wrong };
  });
  const fieldAnswer = answerOf.get(fieldProgram.id)!;
  const layoutAnswer = answerOf.get(layoutProgram.id)!;
  const seen = clean(fieldAnswer) ? fieldAnswer.observations.flatMap((o) => Object.keys(o)) : [];
  const layoutSeen = clean(layoutAnswer) ? layoutAnswer.observations.flatMap((o) => Object.keys(o)) : [];
  const asked = new Set<string>([...LAYOUT_FIELDS, 'sharesStorage']);
  const fields = FIELDS.filter((field) => field === 'value' || (asked.has(field) ? layoutSeen.includes(field)
    : clean(fieldAnswer) && fieldAnswer.observations.every((o) => field in o || (field === 'nextFunctions' && !o.gradFn)) && seen.includes(field)));
  const capabilities: Record<string, unknown> = {
    dtypes: dtypes.length > 0 ? dtypes : adapter.capabilities.dtypes,
    fields,
    features: features.filter((x) => x.supported).map((x) => x.feature),
    profile: adapter.capabilities.profile,
  };
  const defaultLanguage = adapter.capabilities.profile.startsWith('pytorch') ? 'pytorch' : 'json';
  if (adapter.capabilities.language && adapter.capabilities.language !== defaultLanguage) capabilities.language = adapter.capabilities.language;
  validateCapabilities(capabilities, 'the probe');
  return {
    capabilities,
    ops,
    steps: Object.entries(stepProbes).map(([what, p]) => ({ what, supported: clean(answerOf.get(p.id)) })),
    features,
  };
}

function formatProbe(result: ProbeResult, adapter: Adapter): string {
  const mark = (b: boolean) => (b ? 'yes' : 'no');
  const lines = [
    `engine: ${adapter.name} ${adapter.version}`,
    `ops: ${result.ops.filter((o) => o.supported).map((o) => o.op).join(', ') || 'none'}`,
    `ops not supported: ${result.ops.filter((o) => !o.supported).map((o) => o.op).join(', ') || 'none'}`,
    `steps (no feature needed): ${result.steps.map((s) => `${s.what} ${mark(s.supported)}`).join(', ')}`,
    'features:',
    ...result.features.map((f) => {
      const notes = [
        ...(f.wrong.length > 0 ? [`answered unlike PyTorch on: ${f.wrong.join(', ')}`] : []),
        ...(f.missing.length > 0 ? [`not supported: ${f.missing.join(', ')}${f.supported ? ' (the checks that use them are n/a)' : ''}`] : []),
      ];
      const declared = adapter.capabilities.features.includes(f.feature);
      return `  ${f.feature.padEnd(13)} ${mark(f.supported)}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}${declared !== f.supported ? `   <- declared: ${mark(declared)}` : ''}`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// registration

/** `--timeout` in milliseconds: a whole number that setTimeout accepts. */
function timeoutOption(value: string): number {
  const timeout = integer(value);
  if (timeout === undefined || timeout < 1 || timeout > 2 ** 31 - 1) throw new UsageError(`--timeout must be a whole number of milliseconds, got '${value}'`);
  return timeout;
}

export function registerAdapterCommands(program: Command): void {
  const adapter = program.command('adapter').description('write, smoke-test and probe an adapter for your own engine (spec/adapters.md)');
  adapter
    .command('init')
    .description('write an adapter skeleton that answers "not supported" to everything, to fill in op by op')
    .requiredOption('--lang <lang>', 'python or ts')
    .argument('[dir]', 'directory to write into', './gradspec-adapter')
    .action((dir: string, opts: { lang: string }) => {
      process.stdout.write(initAdapter(opts.lang, dir));
    });
  adapter
    .command('test')
    .description('smoke-test an adapter in seconds: handshake, capabilities, one program per step kind, observation format, latency (exit 0 well-formed, 1 malformed)')
    .requiredOption('--engine <engine>', 'the engine: a command speaking the protocol, a module path, or a known name')
    .option('--timeout <ms>', 'how long one program may take', '20000')
    .action(async (opts: { engine: string; timeout: string }) => {
      const timeout = timeoutOption(opts.timeout);
      const { output, code } = await testAdapter(opts.engine, timeout);
      process.stdout.write(output);
      process.exitCode = code;
    });
  adapter
    .command('probe')
    .description('run one probe program per op, dtype, feature and field, and print the capabilities the engine actually supports (JSON on stdout)')
    .requiredOption('--engine <engine>', 'the engine: a command speaking the protocol, a module path, or a known name')
    .option('--timeout <ms>', 'how long one batch of probes may take', '60000')
    .action(async (opts: { engine: string; timeout: string }) => {
      const timeout = timeoutOption(opts.timeout);
      let opened: Opened;
      try {
        opened = await open(opts.engine, timeout);
      } catch (e) {
        if (e instanceof AdapterError) {
          process.stderr.write(`gradspec: adapter probe: handshake failed: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw e;
      }
      try {
        const result = await probeAdapter(opened.adapter);
        process.stderr.write(formatProbe(result, opened.adapter));
        process.stderr.write('capabilities the engine supports (paste into its hello / capabilities):\n');
        process.stdout.write(`${JSON.stringify(result.capabilities, null, 2)}\n`);
      } catch (e) {
        if (!(e instanceof AdapterError)) throw e;
        process.stderr.write(`gradspec: adapter probe: ${e.message}\n`);
        process.exitCode = 1;
      } finally {
        await opened.adapter.close?.();
      }
    });
}
