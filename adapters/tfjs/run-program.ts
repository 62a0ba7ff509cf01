import * as tf from '@tensorflow/tfjs-core';
import { MULTI_OUTPUT_OPS, type Arg, type Attrs, type Data, type Observation, type Observations, type OpName, type Program, type Step } from '../../spec/program.ts';
import { decode, encode } from './data.ts';
import { categorize, notSupported, Refusal } from './errors.ts';
import { applyOp } from './ops.ts';
import { applyPieces } from './views.ts';
import { isRef, runSteps } from '../program/run-steps.ts';

/*
 * tfjs differentiates functions, not recorded graphs: `tf.grads(f)` and `tf.variableGrads(f)` run
 * `f` on a tape and backpropagate through it. So every name of a program is kept as a node that
 * knows how to recompute it from the leaves, besides its value (computed eagerly, for
 * observations). A backward or grad step builds `f` by recomputing its outputs from the leaves
 * inside tfjs's gradient function. Leaves are tfjs variables, `trainable` standing for
 * requires_grad; `.grad` is a map the adapter keeps, filled once by one backward pass (tfjs
 * returns gradients and has no accumulation).
 */

interface LeafNode { kind: 'leaf'; value: tf.Variable }
/** A tensor without history: a gradient computed without createGraph, or a `.grad`. */
interface ConstantNode { kind: 'constant'; value: tf.Tensor }
/** `piece`: which output of an op of several (unbind, split, chunk) the node is. */
interface OpNode { kind: 'op'; op: OpName; args: (Node | number)[]; attrs: Attrs; value: tf.Tensor; piece?: number }
/** A gradient computed with createGraph: recomputed (as a nested tfjs gradient) wherever it is differentiated. */
interface GradNode { kind: 'grad'; request: GradRequest; index: number; value: tf.Tensor }
type Node = LeafNode | ConstantNode | OpNode | GradNode;

interface GradRequest { outputs: Node[]; inputs: Node[]; gradOutputs: (Node | null)[]; allowUnused: boolean }

/**
 * Values recomputed inside one tfjs gradient function, on its tape. `seeds` are computed inputs
 * with their perturbation added (see vjp), inherited by nested gradient functions; `cache` holds
 * this function's own recomputations. Null means outside any gradient function: eager values.
 */
type Scope = { seeds: Map<Node, tf.Tensor>; cache: Map<Node, tf.Tensor> } | null;

/** tf.grads checks dy this way; tf.variableGrads takes no dy, so backward(gradient) checks it the same. */
const DY_SHAPE = 'The shape of dy passed in grads(f)([x1,...], dy) must match the shape returned by f([x1,...])';

function evaluate(node: Node, scope: Scope): tf.Tensor {
  if (scope === null || node.kind === 'leaf' || node.kind === 'constant') return node.value;
  const known = scope.seeds.get(node) ?? scope.cache.get(node);
  if (known) return known;
  // The op results it needs that this scope has not computed yet, gathered without recursion so
  // that a deep chain (backward.iterative) exhausts tfjs's stack, if anything, not the adapter's;
  // then computed in creation order, which puts every op's arguments before it.
  const needed = new Set<OpNode | GradNode>();
  const stack: (OpNode | GradNode)[] = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (needed.has(n) || scope.seeds.has(n) || scope.cache.has(n)) continue;
    needed.add(n);
    if (n.kind === 'op') for (const a of n.args) if (typeof a !== 'number' && (a.kind === 'op' || a.kind === 'grad')) stack.push(a);
  }
  for (const n of [...needed].sort((a, b) => order.get(a)! - order.get(b)!)) scope.cache.set(n, compute(n, scope));
  return scope.cache.get(node)!;
}

function compute(node: OpNode | GradNode, scope: Scope): tf.Tensor {
  if (node.kind === 'op' && node.piece !== undefined) return applyPieces(node.op, evaluate(node.args[0] as Node, scope), node.attrs)[node.piece]!;
  if (node.kind === 'op') return applyOp(node.op, node.args.map((a) => (typeof a === 'number' ? a : evaluate(a, scope))), node.attrs);
  return vjp(node.request, scope)[node.index]!;
}

/**
 * autograd.grad on tfjs: the gradients of the outputs with respect to the inputs, the outputs
 * recomputed inside the gradient function. tfjs differentiates with respect to tensors that exist
 * before the function runs, so a leaf input is its variable, and a computed input h is written
 * h + e with e a zero perturbation: d/de is d/dh, and the leaves still reach the outputs through
 * h (PyTorch's gradient of a leaf then includes the path through h). e is -0, which leaves every
 * value, the sign of zero included, unchanged. Nested inside another gradient function
 * (createGraph), the recomputation runs on that function's tape, so tfjs differentiates it again.
 */
function vjp(request: GradRequest, outer: Scope): (tf.Tensor | undefined)[] {
  const computed = [...new Set(request.inputs.filter((n): n is OpNode | GradNode => n.kind === 'op' || n.kind === 'grad'))]
    .sort((a, b) => order.get(a)! - order.get(b)!);
  const perturbation = new Map(computed.map((n) => [n as Node, tf.fill(n.value.shape, -0)]));
  const xs = request.inputs.map((n) => perturbation.get(n) ?? evaluate(n, outer));
  const dys = request.gradOutputs.map((n) => (n === null ? null : evaluate(n, outer)));
  const f = (): tf.Tensor => {
    const scope = { seeds: new Map(outer?.seeds ?? []), cache: new Map<Node, tf.Tensor>() };
    // In creation order, so that an input computed from another input sees its perturbation.
    for (const n of computed) scope.seeds.set(n, tf.add(scope.seeds.get(n) ?? compute(n, scope), perturbation.get(n)!));
    const ys = request.outputs.map((o) => evaluate(o, scope));
    // One output: tfjs's own dy (ones when none is given, whatever y's shape).
    // Several: tfjs takes one y, so their weighted sum, an output without dy weighted by ones as tfjs would.
    return ys.length === 1 ? ys[0]! : weightedSum(ys, dys.map((d) => d ?? undefined));
  };
  const dy = request.outputs.length === 1 ? dys[0] ?? undefined : undefined;
  // Without allowUnused: tf.grads, which refuses an input the output does not reach. With it:
  // the engine call tf.grads and tf.variableGrads share, allowing missing gradients (undefined).
  if (!request.allowUnused) return tf.grads(f)(xs, dy);
  const { value, grads } = tf.engine().gradients(f, xs, dy, true);
  if (dy) tf.util.assertShapesMatch(value.shape, dy.shape, DY_SHAPE);
  return grads;
}

/** Creation order of computed nodes (a node's arguments always come before it). */
const order = new WeakMap<Node, number>();
let created = 0;
const made = <N extends Node>(n: N): N => {
  order.set(n, created++);
  return n;
};

function weightedSum(ys: tf.Tensor[], dys: (tf.Tensor | undefined)[]): tf.Tensor {
  const terms = ys.map((y, k) => {
    const dy = dys[k];
    if (!dy) return tf.sum(y);
    tf.util.assertShapesMatch(y.shape, dy.shape, DY_SHAPE);
    return tf.sum(tf.mul(y, dy));
  });
  return terms.reduce((s, t) => tf.add(s, t));
}

/** Executes one program on tfjs, step by step, as adapters/reference/run-program.ts does on the reference engine. */
export function runProgram(program: Program): Observations {
  const env = new Map<string, Node | null>();
  const grads = new Map<Node, tf.Tensor>();
  const leaves: LeafNode[] = [];
  const observations: Observation[] = [];
  const dtype = program.dtype ?? 'float32';

  const node = (r: string): Node => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    const n = env.get(name) ?? null;
    if (grad) {
      const g = n ? grads.get(n) : undefined;
      if (!g) throw new Refusal('invalid-argument', `'${r}' is None`);
      return { kind: 'constant', value: g };
    }
    if (n === null) throw new Refusal('invalid-argument', `'${r}' is None`);
    return n;
  };
  const arg = (a: Arg): Node | number => (typeof a === 'number' ? a : node(a));
  const literal = (d: Data): tf.Tensor => tf.tensor(decode(d) as number[], undefined, 'float32');

  const exec = (step: Step): void => {
    if ('tensor' in step) {
      const leafDtype = step.dtype ?? dtype;
      // tfjs has float32 only: tf.tensor(data, shape, 'float64') throws "Unknown data type float64".
      if (leafDtype !== 'float32') throw notSupported(`${leafDtype} (tfjs tensors are float32 only)`);
      const value = tf.variable(literal(step.tensor), step.requiresGrad ?? false);
      const leaf: LeafNode = { kind: 'leaf', value };
      leaves.push(leaf);
      env.set(step.let, leaf);
    } else if ('op' in step && (MULTI_OUTPUT_OPS as readonly string[]).includes(step.op)) {
      // One node per piece; each recomputes the split and keeps its piece.
      const args = step.args.map(arg);
      const attrs = step.attrs ?? {};
      const x = args[0] as Node;
      const pieces = applyPieces(step.op, x.value, attrs);
      const names = [step.let].flat();
      if (pieces.length > names.length) throw new Refusal('invalid-argument', `too many values to unpack (expected ${names.length})`);
      if (pieces.length < names.length) throw new Refusal('invalid-argument', `not enough values to unpack (expected ${names.length}, got ${pieces.length})`);
      names.forEach((name, k) => env.set(name, made({ kind: 'op', op: step.op, args, attrs, value: pieces[k]!, piece: k })));
    } else if ('op' in step) {
      if (Array.isArray(step.let)) throw notSupported(`${step.op} with a dim (a tuple of values and int64 indices)`);
      const args = step.args.map(arg);
      const attrs = step.attrs ?? {};
      const value = applyOp(step.op, args.map((a) => (typeof a === 'number' ? a : a.value)), attrs);
      env.set(step.let, made({ kind: 'op', op: step.op, args, attrs, value }));
    } else if ('backward' in step) {
      const root = node(step.backward);
      const g = step.gradient === undefined ? null : isRef(step.gradient) ? node(step.gradient.ref) : { kind: 'constant' as const, value: literal(step.gradient) };
      backward([root], [g]);
    } else if ('autogradBackward' in step) {
      const roots = step.autogradBackward.map(node);
      backward(roots, roots.map((_, k) => { const g = step.gradTensors?.[k]; return g ? node(g) : null; }));
    } else if ('grad' in step) {
      const g = step.grad;
      const request: GradRequest = {
        outputs: g.outputs.map(node),
        inputs: g.inputs.map(node),
        gradOutputs: g.outputs.map((_, k) => { const r = g.gradOutputs?.[k]; return r ? node(r) : null; }),
        allowUnused: g.allowUnused ?? false,
      };
      const results = vjp(request, null);
      // With createGraph the result stays a function of the leaves, for a later gradient of it.
      step.let.forEach((name, k) => {
        const value = results[k];
        env.set(name, value === undefined ? null : g.createGraph ? made({ kind: 'grad', request, index: k, value }) : { kind: 'constant', value });
      });
    } else if ('requiresGrad_' in step) {
      // A leaf's requires_grad is its variable's `trainable`; computed tensors have no such flag.
      const n = node(step.requiresGrad_);
      if (n.kind !== 'leaf') throw notSupported('requiresGrad_ on a computed tensor (tfjs tensors have no requires_grad; only variables are trainable)');
      n.value.trainable = step.flag ?? true;
    } else if ('detach_' in step) {
      const [name] = step.detach_.split('.') as [string];
      const n = node(step.detach_);
      env.set(name, made({ kind: 'op', op: 'detach', args: [n], attrs: {}, value: applyOp('detach', [n.value], {}) }));
    } else if ('observe' in step) {
      if (step.item) throw notSupported('item() (tfjs tensors have no item(); values are read as arrays)');
      observations.push(observe(step.observe, step.label ?? step.observe));
    } else {
      // Grad modes, in-place ops, retainGrad and clearing .grad have no tfjs counterpart; the
      // harness never sends them, since the adapter does not claim those features.
      throw notSupported(Object.keys(step)[0]!);
    }
  };

  /**
   * loss.backward() on tfjs: tf.variableGrads, the gradients of a scalar with respect to the
   * trainable variables (leaves that require grad); unreached ones get none. An explicit gradient
   * v makes the scalar sum(y * v), the vector-Jacobian product tfjs documents for tf.grads' dy.
   */
  const backward = (roots: Node[], gradients: (Node | null)[]): void => {
    const dys = gradients.map((g) => (g === null ? undefined : g.value));
    roots.forEach((r, k) => { const dy = dys[k]; if (dy) tf.util.assertShapesMatch(r.value.shape, dy.shape, DY_SHAPE); });
    const f = (): tf.Scalar => {
      const scope = { seeds: new Map<Node, tf.Tensor>(), cache: new Map<Node, tf.Tensor>() };
      const ys = roots.map((r) => evaluate(r, scope));
      const terms = ys.map((y, k) => { const dy = dys[k]; return dy ? tf.sum(tf.mul(y, dy)) : y; });
      return terms.reduce((s, t) => tf.add(s, t)) as tf.Scalar;
    };
    const trainable = leaves.filter((l) => l.value.trainable);
    const result = tf.variableGrads(f, trainable.map((l) => l.value)).grads;
    for (const leaf of trainable) {
      const g = result[leaf.value.name];
      if (!g) continue;
      if (grads.has(leaf)) throw notSupported('a second backward pass into .grad (tfjs returns gradients; it does not accumulate them)');
      grads.set(leaf, g);
    }
  };

  const observe = (r: string, label: string): Observation => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    const n = env.get(name) ?? null;
    // A `.grad` never set, or a name autograd.grad bound to None (allowUnused), reads as none.
    const t = grad ? (n ? grads.get(n) ?? null : null) : n?.value ?? null;
    if (t === null) return { label, none: true };
    // tfjs reads a bool tensor as 0 and 1; PyTorch's tolist() gives booleans.
    const value = t.dtype === 'bool' ? asBooleans(t.arraySync()) : t.arraySync();
    return { label, value: encode(value), shape: [...t.shape], dtype: t.dtype === 'bool' ? 'bool' : 'float32' };
  };

  // Tensors made while running the program are freed with it; variables are not tidied, so dispose them too.
  let result: Observations = { observations, error: null };
  tf.tidy(() => {
    try {
      result = { observations, error: runSteps(program.steps, exec, categorize) };
    } finally {
      for (const leaf of leaves) leaf.value.dispose();
    }
  });
  return result;
}

const asBooleans = (v: unknown): unknown => (Array.isArray(v) ? v.map(asBooleans) : v !== 0);
