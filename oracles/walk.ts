import { INDEX_OPS, UNARY_OPS, type Arg, type LOSS_OPS, type Attrs, type LeafStep, type OpStep, type Program, type Step } from '../spec/program.ts';
import { flattenData } from './data.ts';
import { indexing, type IntLeaf } from './indexing.ts';
import { joinMap } from './join.ts';
import { multiViewMaps, viewMap } from './views.ts';
import {
  broadcastIndex, broadcastShapes, expandShape, matmulPlan, numel, permuteIndex, reducePlan,
  reshapeShape, squeezeShape, transposePerm, unsqueezeShape,
} from './shape.ts';

/**
 * The forward meaning of a program, walked once over an element algebra: numbers for the float64
 * interpreter (evaluate.ts), expression strings for the symbolic oracle (expand.ts). Only leaf and
 * op steps compute values; blocks are walked because their steps compute values too; every other
 * step (backward, grad, in-place, ...) is skipped.
 */

export type UnaryOp = (typeof UNARY_OPS)[number];
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow';
export type ActivationOp = 'softplus' | 'leakyRelu' | 'elu' | 'gelu' | 'silu';
export type CompareOp = 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';
export type SelectMode = 'max' | 'min';

export interface Algebra<E> {
  leaf(name: string, index: number, value: number): E;
  constant(value: number): E;
  unary(op: UnaryOp, a: E): E;
  binary(op: BinaryOp, a: E, b: E): E;
  /** The sum of the terms (reductions and matmul); 0 for none. */
  sum(terms: E[]): E;
  /** The product of the factors, rounded once (cumprod accumulates in float64); 1 for none. */
  product(factors: E[]): E;
  /** The largest term (nan if any is nan): norm's p = inf. */
  max(terms: E[]): E;
  /**
   * The largest (or smallest) of the terms, nan if one is nan; its derivative is shared evenly by
   * the terms that equal it (op.max, op.amax).
   */
  choose(mode: SelectMode, terms: E[]): E;
  /**
   * clamp with number bounds (±Infinity for an open one): the value limited to [min, max], max
   * winning when min > max; its derivative passes where min <= value <= max, bounds included (op.clamp).
   */
  clamp(a: E, min: number, max: number): E;
  /**
   * The first largest (smallest) of the terms, a nan first: max(dim)'s values, whose derivative
   * goes to that one term only (op.max-dim).
   */
  pick(mode: SelectMode, terms: E[]): E;
  /** The same value, cut off from differentiation. */
  detach(name: string, index: number, a: E): E;
  /** An activation of F, elementwise, with the op step's attributes. */
  activation(op: ActivationOp, attrs: Attrs, a: E): E;
  /**
   * The max shift of the softmax family: the largest term, 0 where that is ±inf, as a constant
   * to differentiation. The three functions do not change under any shift, so their derivatives
   * with the shift held constant are the true ones; the shift only keeps exp from overflowing.
   */
  shift(terms: E[]): E;
  /** max(a, bound): binary_cross_entropy's logs clamped at -100 (nan stays nan). */
  clampMin(a: E, bound: number): E;
  /** A comparison: 1 or 0 at the point, a constant to differentiation. */
  compare(op: CompareOp, a: E, b: E): E;
  /** where: a where the condition (a compare result, 1 or 0) holds, else b. */
  select(condition: E, a: E, b: E): E;
}

export interface Bound<E> { shape: number[]; data: E[] }

/** The leaf steps of a program, nested blocks included, in order. */
export function leafSteps(steps: Step[]): LeafStep[] {
  return steps.flatMap((step): LeafStep[] =>
    'noGrad' in step ? leafSteps(step.noGrad)
      : 'enableGrad' in step ? leafSteps(step.enableGrad)
      : 'tensor' in step ? [step] : []);
}

const UNARY = new Set<string>(UNARY_OPS);
const ACTIVATIONS = new Set<string>(['softplus', 'leakyRelu', 'elu', 'gelu', 'silu']);
const BINARY = new Set<string>(['add', 'sub', 'mul', 'div', 'pow']);
const COMPARE = new Set<string>(['gt', 'ge', 'lt', 'le', 'eq', 'ne']);
const VIEW_MAPPED = new Set<string>(['select', 'narrow', 'diagonal', 'index', 'contiguous']);
const INDEXING = new Set<string>(INDEX_OPS);

/** Walks `steps` (nested blocks included) in order; `leafValues` overrides leaf data by name. */
export function walkProgram<E>(
  program: Program,
  algebra: Algebra<E>,
  leafValues?: ReadonlyMap<string, ArrayLike<number>>,
): Map<string, Bound<E>> {
  const env = new Map<string, Bound<E>>();
  // Class targets (nllLoss), index tensors (index.advanced) and the gather family's indices
  // index by value: the int64 and bool leaves' numbers, kept as written.
  const refs = new Map<string, { shape: number[]; values: number[]; isBool: boolean }>();
  const visit = (steps: Step[]): void => {
    for (const step of steps) {
      if ('noGrad' in step) visit(step.noGrad);
      else if ('enableGrad' in step) visit(step.enableGrad);
      else if ('tensor' in step) {
        const { shape, values } = flattenData(step.tensor);
        const override = leafValues?.get(step.let);
        if (override && override.length !== values.length) {
          throw new Error(`leaf ${step.let} has ${values.length} elements, the override ${override.length}`);
        }
        const source = override ?? values;
        if (step.dtype === 'int64' || step.dtype === 'bool') refs.set(step.let, { shape, values: Array.from(values), isBool: step.dtype === 'bool' });
        env.set(step.let, { shape, data: Array.from(values, (_, i) => algebra.leaf(step.let, i, source[i]!)) });
      } else if ('op' in step && (step.op === 'unbind' || step.op === 'split' || step.op === 'chunk')) {
        const x = argument(step.args[0]!, env, algebra);
        const maps = multiViewMaps(step.op, x.shape, step.attrs ?? {});
        const names = Array.isArray(step.let) ? step.let : [step.let];
        if (names.length !== maps.length) throw new Error(`${step.op} gives ${maps.length} tensors, the step binds ${names.length} names`);
        maps.forEach((m, k) => env.set(names[k]!, { shape: m.shape, data: m.from.map((i) => x.data[i]!) }));
      } else if ('op' in step && VIEW_MAPPED.has(step.op)) {
        const x = argument(step.args[0]!, env, algebra);
        const m = viewMap(step.op, x.shape, step.attrs ?? {}, refs);
        env.set(step.let as string, { shape: m.shape, data: m.from.map((i) => x.data[i]!) });
      } else if ('op' in step) {
        // max and min with a dim bind (values, indices): the values are modelled, the int64 indices
        // are not (they are not differentiable).
        env.set(Array.isArray(step.let) ? step.let[0]! : step.let, step.op === 'nllLoss' || step.op === 'crossEntropy' ? classLoss(step, env, refs, algebra)
          : INDEXING.has(step.op) ? indexing(step, step.args.map((a) => argument(a, env, algebra)), refs, algebra) : applyOp(step, env, algebra));
      }
    }
  };
  visit(program.steps);
  return env;
}

function argument<E>(arg: Arg, env: Map<string, Bound<E>>, algebra: Algebra<E>): Bound<E> {
  if (typeof arg === 'number') return { shape: [], data: [algebra.constant(arg)] };
  const bound = env.get(arg);
  if (!bound) throw new Error(`${arg} is not a value the oracles model (only leaf and op results are)`);
  return bound;
}

const gather = <E>(data: E[], plan: Int32Array): E[] => Array.from(plan, (i) => data[i]!);

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`missing attribute ${what}`);
  return value;
}

/** The flat indices of every line along dim, each in order (a 0-d tensor is one line of one). */
function scanLines(shape: readonly number[], dim: number): number[][] {
  if (shape.length === 0) return [[0]];
  const d = dim < 0 ? dim + shape.length : dim;
  if (d < 0 || d >= shape.length) throw new Error(`dim ${dim} is out of range for ${shape.length} dims`);
  const n = shape[d]!;
  const inner = numel(shape.slice(d + 1));
  const outer = numel(shape.slice(0, d));
  const lines: number[][] = [];
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) lines.push(Array.from({ length: n }, (_, i) => (o * n + i) * inner + j));
  return lines;
}

/**
 * One element of a loss, from d = input - target. Smooth L1 (beta > 0) is written with the kinks
 * the oracles know, relu and abs: with a = |d| and m = min(a, beta) = a - relu(a - beta), it is
 * 0.5·m·m/beta + relu(a - beta), which is 0.5·a²/beta below beta and a - 0.5·beta from beta on.
 * At a = beta relu's derivative 0 makes the derivative sign(d), PyTorch's value there.
 */
function lossTerm<E>(op: (typeof LOSS_OPS)[number], attrs: Attrs, algebra: Algebra<E>, x: E, y: E): E {
  if (op === 'binaryCrossEntropyWithLogits') {
    // 1.13's stable form: (1 - y)·x + m + log(exp(-m) + exp(-x - m)), m = max(-x, 0) = relu(-x).
    const m = algebra.unary('relu', algebra.unary('neg', x));
    const linear = algebra.binary('add', algebra.binary('mul', algebra.binary('sub', algebra.constant(1), y), x), m);
    const sum = algebra.binary('add', algebra.unary('exp', algebra.unary('neg', m)), algebra.unary('exp', algebra.binary('sub', algebra.unary('neg', x), m)));
    return algebra.binary('add', linear, algebra.unary('log', sum));
  }
  if (op === 'binaryCrossEntropy') {
    // (y - 1)·max(log(1 - x), -100) - y·max(log(x), -100)
    const one = algebra.constant(1);
    const log1m = algebra.clampMin(algebra.unary('log', algebra.binary('sub', one, x)), -100);
    const log = algebra.clampMin(algebra.unary('log', x), -100);
    return algebra.binary('sub', algebra.binary('mul', algebra.binary('sub', y, one), log1m), algebra.binary('mul', y, log));
  }
  const d = algebra.binary('sub', x, y);
  if (op === 'mseLoss') return algebra.binary('mul', d, d);
  const a = algebra.unary('abs', d);
  const beta = attrs.beta ?? 1;
  if (op === 'l1Loss' || beta === 0) return a;
  const over = algebra.unary('relu', algebra.binary('sub', a, algebra.constant(beta)));
  const m = algebra.binary('sub', a, over);
  const quadratic = algebra.binary('div', algebra.binary('mul', algebra.binary('mul', algebra.constant(0.5), m), m), algebra.constant(beta));
  return algebra.binary('add', quadratic, over);
}

/**
 * nll_loss: -x[i, t_i] per target, -100 ignored, the mean over the targets that count.
 * cross_entropy is nll_loss of log_softmax along the class dim (1, or 0 for a [C] input).
 */
function classLoss<E>(step: OpStep, env: Map<string, Bound<E>>, ints: ReadonlyMap<string, IntLeaf>, algebra: Algebra<E>): Bound<E> {
  const input = argument(step.args[0]!, env, algebra);
  const x = step.op === 'crossEntropy'
    ? applyOp({ let: step.let, op: 'logSoftmax', args: [step.args[0]!], attrs: { dim: input.shape.length === 1 ? 0 : 1 } }, env, algebra)
    : input;
  const targets = ints.get(String(step.args[1]))?.values;
  if (!targets) throw new Error(`${step.op}: the oracles model class targets that are int64 leaves only`);
  const c = x.shape[x.shape.length - 1]!;
  const terms = targets.map((t, i) => (t === -100 ? algebra.constant(0) : algebra.unary('neg', x.data[i * c + t]!)));
  const reduction = step.attrs?.reduction ?? 'mean';
  if (reduction === 'none') return { shape: x.shape.slice(0, -1), data: terms };
  const total = algebra.sum(terms.filter((_, i) => targets[i] !== -100));
  const count = targets.filter((t) => t !== -100).length;
  return { shape: [], data: [reduction === 'sum' ? total : algebra.binary('div', total, algebra.constant(count))] };
}

function applyOp<E>(step: OpStep, env: Map<string, Bound<E>>, algebra: Algebra<E>): Bound<E> {
  const args = step.args.map((a) => argument(a, env, algebra));
  const attrs: Attrs = step.attrs ?? {};
  const x = args[0]!;
  const op = step.op;
  if (UNARY.has(op)) return { shape: x.shape, data: x.data.map((e) => algebra.unary(op as UnaryOp, e)) };
  if (ACTIVATIONS.has(op)) return { shape: x.shape, data: x.data.map((e) => algebra.activation(op as ActivationOp, attrs, e)) };
  if (BINARY.has(op)) {
    const y = args[1]!;
    const shape = broadcastShapes(x.shape, y.shape);
    const xi = broadcastIndex(x.shape, shape);
    const yi = broadcastIndex(y.shape, shape);
    const data = Array.from(xi, (i, o) => algebra.binary(op as BinaryOp, x.data[i]!, y.data[yi[o]!]!));
    return { shape, data };
  }
  if (COMPARE.has(op)) {
    const y = args[1]!;
    const shape = broadcastShapes(x.shape, y.shape);
    const xi = broadcastIndex(x.shape, shape);
    const yi = broadcastIndex(y.shape, shape);
    return { shape, data: Array.from(xi, (i, o) => algebra.compare(op as CompareOp, x.data[i]!, y.data[yi[o]!]!)) };
  }
  if (op === 'where') {
    const [a, b] = [args[1]!, args[2]!];
    const shape = broadcastShapes(broadcastShapes(x.shape, a.shape), b.shape);
    const [ci, ai, bi] = [x, a, b].map((t) => broadcastIndex(t.shape, shape));
    return { shape, data: Array.from(ci!, (i, o) => algebra.select(x.data[i]!, a.data[ai![o]!]!, b.data[bi![o]!]!)) };
  }
  switch (op) {
    case 'matmul': {
      const y = args[1]!;
      const plan = matmulPlan(x.shape, y.shape);
      const data: E[] = [];
      for (let o = 0; o < numel(plan.shape); o++) {
        const terms: E[] = [];
        for (let p = o * plan.k; p < (o + 1) * plan.k; p++) {
          terms.push(algebra.binary('mul', x.data[plan.a[p]!]!, y.data[plan.b[p]!]!));
        }
        data.push(algebra.sum(terms));
      }
      return { shape: plan.shape, data };
    }
    case 'sum':
    case 'mean': {
      const plan = reducePlan(x.shape, attrs.dim, attrs.keepdim ?? false);
      const groups: E[][] = Array.from({ length: numel(plan.shape) }, () => []);
      x.data.forEach((e, i) => groups[plan.target[i]!]!.push(e));
      const sums = groups.map((g) => algebra.sum(g));
      const data = op === 'sum' ? sums : sums.map((s) => algebra.binary('div', s, algebra.constant(plan.count)));
      return { shape: plan.shape, data };
    }
    case 'softmax':
    case 'logSoftmax':
    case 'logsumexp': {
      // softmax: e_i / Σe; log_softmax: (x_i - m) - log Σe; logsumexp: log Σe + m; e = exp(x - m).
      const lse = op === 'logsumexp';
      const plan = reducePlan(x.shape, need(attrs.dim, 'dim'), lse ? attrs.keepdim ?? false : true);
      const groups: E[][] = Array.from({ length: numel(plan.shape) }, () => []);
      x.data.forEach((e, i) => groups[plan.target[i]!]!.push(e));
      const shifts = groups.map((g) => algebra.shift(g));
      const centred = (e: E, j: number) => algebra.binary('sub', e, shifts[j]!);
      const sums = groups.map((g, j) => algebra.sum(g.map((e) => algebra.unary('exp', centred(e, j)))));
      if (lse) return { shape: plan.shape, data: sums.map((s, j) => algebra.binary('add', algebra.unary('log', s), shifts[j]!)) };
      const data = x.data.map((e, i) => {
        const j = plan.target[i]!;
        return op === 'softmax'
          ? algebra.binary('div', algebra.unary('exp', centred(e, j)), sums[j]!)
          : algebra.binary('sub', centred(e, j), algebra.unary('log', sums[j]!));
      });
      return { shape: x.shape, data };
    }
    case 'prod': {
      // In order, each partial product rounded to the dtype (prod accumulates float32 in float32).
      const chain = (g: E[]) => g.reduce((p, e) => algebra.binary('mul', p, e), algebra.constant(1));
      if (attrs.dim === undefined || x.shape.length === 0) {
        return { shape: attrs.dim === undefined ? [] : x.shape, data: [chain(x.data)] };
      }
      const plan = reducePlan(x.shape, attrs.dim, attrs.keepdim ?? false);
      const groups: E[][] = Array.from({ length: numel(plan.shape) }, () => []);
      x.data.forEach((e, i) => groups[plan.target[i]!]!.push(e));
      return { shape: plan.shape, data: groups.map(chain) };
    }
    case 'norm': {
      // p = 1: the sum of |x|; p = 2: the square root of the sum of squares; inf: the largest |x|.
      const plan = reducePlan(x.shape, attrs.dim, attrs.keepdim ?? false);
      const groups: E[][] = Array.from({ length: numel(plan.shape) }, () => []);
      x.data.forEach((e, i) => groups[plan.target[i]!]!.push(e));
      const p = attrs.p ?? 2;
      const data = groups.map((g) => (p === 1 ? algebra.sum(g.map((e) => algebra.unary('abs', e)))
        : p === 2 ? algebra.unary('sqrt', algebra.sum(g.map((e) => algebra.binary('mul', e, e))))
        : algebra.max(g.map((e) => algebra.unary('abs', e)))));
      // keepdim without a dim keeps every dim as 1 (norm alone allows it).
      const shape = attrs.dim === undefined && attrs.keepdim ? x.shape.map(() => 1) : plan.shape;
      return { shape, data };
    }
    case 'var':
    case 'std': {
      // The mean, then the sum of squared deviations over n - correction (n - 1 unless unbiased is false).
      const plan = reducePlan(x.shape, attrs.dim, attrs.keepdim ?? false);
      const groups: E[][] = Array.from({ length: numel(plan.shape) }, () => []);
      x.data.forEach((e, i) => groups[plan.target[i]!]!.push(e));
      const divisor = algebra.constant(plan.count - (attrs.unbiased === false ? 0 : 1));
      const data = groups.map((g) => {
        const mean = algebra.binary('div', algebra.sum(g), algebra.constant(plan.count));
        const squares = g.map((e) => { const d = algebra.binary('sub', e, mean); return algebra.binary('mul', d, d); });
        const variance = algebra.binary('div', algebra.sum(squares), divisor);
        return op === 'var' ? variance : algebra.unary('sqrt', variance);
      });
      return { shape: plan.shape, data };
    }
    case 'cumsum':
    case 'cumprod': {
      // Element i along dim is the sum or product of elements 0..i of its line (float64 accumulation).
      const lines = scanLines(x.shape, need(attrs.dim as number | undefined, 'dim'));
      const data = new Array<E>(x.data.length);
      for (const line of lines) {
        line.forEach((at, i) => {
          const prefix = line.slice(0, i + 1).map((j) => x.data[j]!);
          data[at] = op === 'cumsum' ? algebra.sum(prefix) : algebra.product(prefix);
        });
      }
      return { shape: x.shape, data };
    }
    case 'maximum':
    case 'minimum': {
      const y = args[1]!;
      const shape = broadcastShapes(x.shape, y.shape);
      const xi = broadcastIndex(x.shape, shape);
      const yi = broadcastIndex(y.shape, shape);
      const mode = op === 'maximum' ? 'max' : 'min';
      return { shape, data: Array.from(xi, (i, o) => algebra.choose(mode, [x.data[i]!, y.data[yi[o]!]!])) };
    }
    case 'clamp':
    case 'clampMin':
    case 'clampMax': {
      const min = op === 'clampMax' ? null : attrs.min ?? null;
      const max = op === 'clampMin' ? null : attrs.max ?? null;
      if (min === null && max === null) throw new Error('clamp needs a bound');
      return { shape: x.shape, data: x.data.map((e) => algebra.clamp(e, min ?? -Infinity, max ?? Infinity)) };
    }
    case 'max':
    case 'min':
      if (attrs.dim !== undefined) {
        const plan = reducePlan(x.shape, attrs.dim, attrs.keepdim ?? false);
        const groups: E[][] = Array.from({ length: numel(plan.shape) }, () => []);
        x.data.forEach((e, i) => groups[plan.target[i]!]!.push(e));
        if (groups.some((g) => g.length === 0)) throw new Error(`${op} over an empty dim`);
        return { shape: plan.shape, data: groups.map((g) => algebra.pick(op, g)) };
      }
      if (x.data.length === 0) throw new Error(`${op}() of an empty tensor`);
      return { shape: [], data: [algebra.choose(op, x.data)] };
    case 'amax':
    case 'amin': {
      const plan = reducePlan(x.shape, attrs.dim, attrs.keepdim ?? false);
      const groups: E[][] = Array.from({ length: numel(plan.shape) }, () => []);
      x.data.forEach((e, i) => groups[plan.target[i]!]!.push(e));
      if (groups.some((g) => g.length === 0)) throw new Error(`${op} over an empty dim`);
      return { shape: plan.shape, data: groups.map((g) => algebra.choose(op === 'amax' ? 'max' : 'min', g)) };
    }
    case 'reshape':
    case 'view': // contiguity (view's error on a transposed tensor) is not modelled
      return { shape: reshapeShape(x.shape, need(attrs.shape, 'shape')), data: x.data };
    case 'expand': {
      const shape = expandShape(x.shape, need(attrs.shape, 'shape'));
      return { shape, data: gather(x.data, broadcastIndex(x.shape, shape)) };
    }
    case 'transpose':
    case 't':
    case 'permute': {
      if (op === 't' && x.shape.length > 2) throw new Error(`t() expects at most 2 dims, got ${x.shape.length}`);
      const perm = op === 'permute' ? need(attrs.dims, 'dims')
        : op === 't' ? transposePerm(x.shape.length, 0, x.shape.length === 2 ? 1 : 0)
        : transposePerm(x.shape.length, need(attrs.dim0, 'dim0'), need(attrs.dim1, 'dim1'));
      const { shape, plan } = permuteIndex(x.shape, perm);
      return { shape, data: gather(x.data, plan) };
    }
    case 'unsqueeze':
      return { shape: unsqueezeShape(x.shape, need(attrs.dim as number | undefined, 'dim')), data: x.data };
    case 'squeeze':
      return { shape: squeezeShape(x.shape, attrs.dim as number | undefined), data: x.data };
    case 'clone':
      return x;
    case 'cat':
    case 'stack':
    case 'flip':
    case 'roll':
    case 'repeat': {
      const m = joinMap(op, args.map((t) => t.shape), attrs);
      return { shape: m.shape, data: m.from.map(([k, i]) => args[k]!.data[i]!) };
    }
    case 'detach':
      return { shape: x.shape, data: x.data.map((e, i) => algebra.detach(step.let as string, i, e)) };
    case 'mseLoss':
    case 'l1Loss':
    case 'smoothL1Loss':
    case 'binaryCrossEntropy':
    case 'binaryCrossEntropyWithLogits': {
      // Input and target broadcast as F.mse_loss's broadcast_tensors does; then the reduction.
      const y = args[1]!;
      const shape = broadcastShapes(x.shape, y.shape);
      const yi = broadcastIndex(y.shape, shape);
      const terms = Array.from(broadcastIndex(x.shape, shape), (i, o) => lossTerm(op, attrs, algebra, x.data[i]!, y.data[yi[o]!]!));
      const reduction = attrs.reduction ?? 'mean';
      if (reduction === 'none') return { shape, data: terms };
      const total = algebra.sum(terms);
      return { shape: [], data: [reduction === 'sum' ? total : algebra.binary('div', total, algebra.constant(terms.length))] };
    }
    default:
      throw new Error(`op ${op} is not modelled by the oracles`);
  }
}
