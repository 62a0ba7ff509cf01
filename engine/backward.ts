import { fail, typeName, withContext } from './errors.ts';
import { withGradMode } from './grad-mode.ts';
import { alloc } from './kernels.ts';
import { AccumulateGrad, retainInto, type GradNode } from './node.ts';
import { sameShape } from './shape.ts';
import { Tensor } from './tensor.ts';

export interface BackwardOptions {
  retainGraph?: boolean;
  createGraph?: boolean;
}

const sizeText = (s: readonly number[]) => `torch.Size([${s.join(', ')}])`;

/** Options as a JavaScript caller may pass them: an object (or nothing) of boolean flags. */
function checkOptions<T extends object>(options: unknown, api: string, flags: readonly string[]): Partial<T> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) fail('invalid-argument', `${api}(): options must be an object, not ${typeName(options)}`);
  for (const flag of flags) {
    const v = (options as Record<string, unknown>)[flag];
    if (v !== undefined && typeof v !== 'boolean') fail('invalid-argument', `${api}(): option '${flag}' must be a boolean, not ${typeName(v)}`);
  }
  return options as Partial<T>;
}

/** A tensor or a list of tensors (null entries allowed where a gradient may be left out). */
export function tensorList(x: unknown, api: string, what: string, nulls = false): (Tensor | null)[] {
  const list: unknown[] = x instanceof Tensor ? [x] : Array.isArray(x) ? x : [x];
  const out: (Tensor | null)[] = [];
  for (let i = 0; i < list.length; i++) {
    const t = list[i] ?? null;
    if (t instanceof Tensor || (nulls && t === null)) out.push(t);
    else fail('invalid-argument', `${api}(): ${what} must be ${nulls ? 'Tensors or null' : 'Tensors'}, but element ${i} is ${typeName(list[i])}`);
  }
  return out;
}

/** PyTorch's _make_grads: an explicit gradient must match its output; a missing one needs a scalar. */
function seeds(roots: readonly Tensor[], grads: readonly (Tensor | null)[]): Tensor[] {
  return roots.map((root, i) => {
    const g = grads[i] ?? null;
    if (g !== null) {
      if (!(g instanceof Tensor)) fail('invalid-argument', `gradient for output ${i} must be a Tensor or None`);
      if (!sameShape(g.shape, root.shape)) {
        fail('shape-mismatch', `Mismatch in shape: grad_output[${i}] has a shape of ${sizeText(g.shape)} and output[${i}] has a shape of ${sizeText(root.shape)}.`);
      }
      return g.to(root.dtype);
    }
    if (root.requiresGrad && root.numel() !== 1) fail('implicit-non-scalar', 'grad can be implicitly created only for scalar outputs');
    const ones = new Tensor(alloc(root.dtype, root.numel()).fill(1), root.shape, root.dtype);
    return ones;
  });
}

/** The node that receives a tensor's gradient: its grad_fn, or the AccumulateGrad of a leaf. */
function gradientEdge(t: Tensor, index: number): GradNode {
  if (!t.requiresGrad) fail('no-grad-fn', `element ${index} of tensors does not require grad and does not have a grad_fn`);
  return t.gradFn ?? t.gradAccumulator();
}

/**
 * The graph walk shared by backward and autograd.grad. Iterative (no recursion), so depth is
 * bounded by memory, not by the call stack (backward.iterative). Nodes run once all their
 * consumers have contributed (dependency counting), and gradients arriving from several paths
 * are summed (backward.fan-in).
 */
function run(
  roots: readonly Tensor[],
  grads: readonly (Tensor | null)[],
  options: BackwardOptions,
  capture: readonly Tensor[] | null,
  api: string,
): Map<GradNode, Tensor | null> {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  if (grads.length !== roots.length) fail('invalid-argument', `got ${roots.length} tensors and ${grads.length} gradients`);
  const seedGrads = seeds(roots, grads);
  const rootNodes = roots.map((r, i) => gradientEdge(r, i));
  // PyTorch checks the outputs first, then the inputs of autograd.grad.
  for (const t of capture ?? []) {
    if (!(t instanceof Tensor)) fail('invalid-argument', 'grad(): inputs must be Tensors');
    if (!t.requiresGrad) fail('input-no-grad', 'One of the differentiated Tensors does not require grad');
  }

  // Discover the graph and count, for each node, the edges that reach it.
  const deps = new Map<GradNode, number>();
  const order: GradNode[] = [];
  const seen = new Set<GradNode>();
  const stack = [...rootNodes];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (seen.has(node)) continue;
    seen.add(node);
    order.push(node);
    for (const next of node.next) {
      if (!next) continue;
      deps.set(next, (deps.get(next) ?? 0) + 1);
      if (!seen.has(next)) stack.push(next);
    }
  }

  // autograd.grad runs only the nodes that lead to a requested input, and never AccumulateGrad.
  const targets = new Set(capture?.map((t) => t.gradFn ?? t.gradAccumulator()) ?? []);
  let needed: Set<GradNode> | null = null;
  if (capture) {
    needed = new Set();
    const reverse = topologicalOrder(rootNodes, deps);
    for (let i = reverse.length - 1; i >= 0; i--) {
      const node = reverse[i]!;
      if (targets.has(node) || node.next.some((n) => n !== null && needed!.has(n))) needed.add(node);
    }
  }

  const buffers = new Map<GradNode, Tensor | null>();
  const captured = new Map<GradNode, Tensor | null>();
  const addTo = (node: GradNode, g: Tensor | null) => {
    const prev = buffers.get(node) ?? null;
    buffers.set(node, prev && g ? prev.add(g) : (prev ?? g));
  };

  withGradMode(createGraph, () => {
    rootNodes.forEach((root, i) => addTo(root, seedGrads[i]!));
    const remaining = deps; // counted down in place: each run discovers its own graph
    const ready = rootNodes.filter((n, i) => rootNodes.indexOf(n) === i && (remaining.get(n) ?? 0) === 0);
    let node: GradNode | null = null;
    try {
      while (ready.length > 0) {
        node = ready.pop()!;
        const grad = buffers.get(node) ?? null;
        buffers.delete(node);
        if (targets.has(node)) captured.set(node, grad);
        let outs: (Tensor | null)[] = [];
        const runs = grad !== null && (needed === null || node.next.some((n) => n !== null && needed!.has(n)));
        if (node instanceof AccumulateGrad) {
          if (capture === null && grad !== null) node.apply(grad);
        } else if (runs) {
          const retainer = node.retainer;
          if (retainer) retainInto(retainer, grad);
          outs = node.apply(grad);
          if (!retainGraph) node.release();
        }
        node.next.forEach((next, i) => {
          if (!next) return;
          addTo(next, outs[i] ?? null);
          const left = remaining.get(next)! - 1;
          remaining.set(next, left);
          if (left === 0 && (needed === null || needed.has(next))) ready.push(next);
        });
      }
    } catch (e) {
      // An error while a node runs names the node, and the shapes of what the call differentiates.
      throw node === null ? e : withContext(e, `${api} through ${node.name()}`, [roots, capture ?? [], grads]);
    }
  });
  return captured;
}

/** Nodes reachable from the roots, each after every node that feeds it a gradient. */
function topologicalOrder(roots: readonly GradNode[], deps: Map<GradNode, number>): GradNode[] {
  const remaining = new Map(deps);
  const ready = roots.filter((n, i) => roots.indexOf(n) === i && (remaining.get(n) ?? 0) === 0);
  const out: GradNode[] = [];
  while (ready.length > 0) {
    const node = ready.pop()!;
    out.push(node);
    for (const next of node.next) {
      if (!next) continue;
      const left = remaining.get(next)! - 1;
      remaining.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return out;
}

/** `tensor.backward()` and `autograd.backward()`: accumulate into the leaves' `.grad`. */
export function backwardFrom(roots: readonly Tensor[], grads: readonly (Tensor | null)[], options?: BackwardOptions, api = 'backward'): void {
  run(tensorList(roots, api, 'tensors') as Tensor[], tensorList(grads, api, 'gradients', true), checkOptions(options, api, ['retainGraph', 'createGraph']), null, api);
}

export interface GradOptions extends BackwardOptions {
  gradOutputs?: readonly (Tensor | null)[];
  allowUnused?: boolean;
}

/** `autograd.grad`: returns d(outputs)/d(inputs) and leaves every `.grad` untouched. */
export function gradOf(outputs: readonly Tensor[], inputs: readonly Tensor[], options?: GradOptions, api = 'autograd.grad'): (Tensor | null)[] {
  const opts = checkOptions<GradOptions>(options, api, ['retainGraph', 'createGraph', 'allowUnused']);
  const outs = tensorList(outputs, api, 'outputs') as Tensor[];
  const ins = tensorList(inputs, api, 'inputs') as Tensor[];
  const grads = opts.gradOutputs === undefined || opts.gradOutputs === null ? outs.map(() => null) : tensorList(opts.gradOutputs, api, 'gradOutputs', true);
  const captured = run(outs, grads, opts, ins, api);
  return ins.map((t) => {
    const g = captured.get(t.gradFn ?? t.gradAccumulator()) ?? null;
    if (g === null && !opts.allowUnused) {
      fail('unused-input', 'One of the differentiated Tensors appears to not have been used in the graph. Set allow_unused=True if this is the desired behavior.');
    }
    // Without createGraph the results are plain values, as PyTorch returns them.
    return g === null ? null : opts.createGraph ? g : new Tensor(g.data.slice(), g.shape, g.dtype);
  });
}
