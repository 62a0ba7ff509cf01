import { grad, numpy as np, vjp } from '@jax-js/jax';
import type { OpFunction } from './ops.ts';

/*
 * jax-js has no tape: gradients come from transforming a function (grad, vjp). So the adapter
 * keeps, for every tensor of a program, how to recompute it from the leaves, and differentiates
 * that function when the program asks for a gradient. The leaves that require grad are the
 * function's arguments; every other tensor is a constant. Recomputation and differentiation are
 * the engine's: the adapter only decides which leaves are arguments.
 */

/** One input of an op: the tensor, and whether the op reads it as a function of the arguments. */
interface Edge { node: Node; edge: boolean }

let nextId = 0;

/** A tensor of the program. */
export class Node {
  /** Creation order; an op's inputs always have smaller ids. */
  readonly id = nextId++;
  /** The forward value, owned by the node. */
  value: np.Array;
  /** PyTorch's flag: a leaf that is an argument, or a result computed from one by recorded ops. */
  requiresGrad: boolean;
  /** How to recompute the value from its inputs; undefined for leaves and plain gradients. */
  apply: OpFunction | undefined;
  inputs: (Edge | number)[];
  /** The gradient stored by a backward pass (leaves only). */
  grad: Node | null = null;

  constructor(value: np.Array, requiresGrad: boolean, apply?: OpFunction, inputs: (Edge | number)[] = []) {
    this.value = value;
    this.requiresGrad = requiresGrad;
    this.apply = apply;
    this.inputs = inputs;
  }

  /** Whether a transform must recompute this tensor rather than read its value as a constant. */
  get tracked(): boolean {
    return this.apply === undefined ? this.requiresGrad : this.inputs.some((i) => typeof i !== 'number' && i.edge);
  }

  /** PyTorch's is_leaf: no grad_fn, i.e. not a recorded op result. */
  get isLeaf(): boolean {
    return this.apply === undefined || !this.requiresGrad;
  }

  /** Turns a leaf-like tensor into a plain leaf: it is read as its value from now on. */
  makeLeaf(requiresGrad: boolean): void {
    this.apply = undefined;
    this.inputs = [];
    this.requiresGrad = requiresGrad;
  }
}

/**
 * An op result. An input is read as a function of the arguments when it was tracked when the op
 * ran (PyTorch records the edge then), so a leaf that starts requiring grad later does not reach
 * results computed before. detach results are tracked (stopGradient is applied by jax-js inside
 * the transform) but do not require grad.
 */
export function opNode(apply: OpFunction, args: (Node | number)[], requiresGrad = true): Node {
  const inputs = args.map((a) => (typeof a === 'number' ? a : { node: a, edge: a.tracked }));
  const value = apply(args.map((a) => (typeof a === 'number' ? a : a.value.ref)));
  const anyRequires = args.some((a) => typeof a !== 'number' && a.requiresGrad);
  return new Node(value, requiresGrad && anyRequires, apply, inputs);
}

/**
 * Recomputes `targets` with some leaves replaced (`overrides`, e.g. tracers of a transform) and
 * some results shifted by an addend (`taps`: the zero perturbations that make a non-leaf an
 * argument). Nodes are visited in creation order without recursion, each once, so fan-in is
 * computed once as in the program. The caller keeps ownership of overrides and taps.
 */
export function evaluate(targets: readonly Node[], overrides: ReadonlyMap<Node, np.Array>, taps: ReadonlyMap<Node, np.Array> = new Map()): np.Array[] {
  const needed = new Set<Node>();
  const stack = [...targets];
  while (stack.length) {
    const n = stack.pop()!;
    if (needed.has(n)) continue;
    needed.add(n);
    if (overrides.has(n) || !n.apply || !n.tracked) continue;
    for (const i of n.inputs) if (typeof i !== 'number' && i.edge) stack.push(i.node);
  }
  const memo = new Map<Node, np.Array>();
  try {
    for (const n of [...needed].sort((a, b) => a.id - b.id)) {
      let v: np.Array;
      if (overrides.has(n)) v = overrides.get(n)!.ref;
      else if (n.apply && n.tracked) {
        v = n.apply(n.inputs.map((i) => (typeof i === 'number' ? i : i.edge ? memo.get(i.node)!.ref : i.node.value.ref)));
      } else v = n.value.ref;
      const tap = taps.get(n);
      if (tap) v = v.add(tap.ref);
      memo.set(n, v);
    }
    return targets.map((t) => memo.get(t)!.ref);
  } finally {
    for (const v of memo.values()) v.dispose();
  }
}

/**
 * Leaves reached from `roots` through recorded edges. With `requiring`, only through tensors that
 * require grad and only leaves that require grad now (what a backward pass fills); otherwise every
 * leaf a transform could see as an argument (what a differentiable gradient depends on).
 */
export function leavesOf(roots: readonly Node[], requiring: boolean): Node[] {
  const seen = new Set<Node>();
  const leaves: Node[] = [];
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (seen.has(n)) continue;
    seen.add(n);
    if (!n.apply) {
      if (!requiring || n.requiresGrad) leaves.push(n);
      continue;
    }
    if (requiring ? !n.requiresGrad : !n.tracked) continue;
    for (const i of n.inputs) if (typeof i !== 'number' && i.edge && (!requiring || i.node.requiresGrad)) stack.push(i.node);
  }
  return leaves.sort((a, b) => a.id - b.id);
}

/**
 * The vector-Jacobian product of `outputs` with respect to `inputs`, by jax-js. A null cotangent
 * is the implicit one: when every cotangent is implicit the summed outputs go through jax-js's
 * `grad`, whose own check refuses an output that is not 0-d. A leaf input is an argument of the
 * function; a non-leaf input gets a zero addend as its argument, so that its gradient is taken
 * without cutting the paths to the leaves below it. `base` gives the values of leaves the
 * caller has (tracers of an enclosing transform, for higher order).
 */
export function vjpOf(outputs: readonly Node[], cotangents: readonly (Node | null)[], inputs: readonly Node[], base: ReadonlyMap<Node, np.Array>): np.Array[] {
  const primals = inputs.map((n) => (n.apply ? np.zerosLike(n.value.ref) : (base.get(n) ?? n.value).ref));
  const f = (...ps: np.Array[]): np.Array[] => {
    const overrides = new Map(base);
    const taps = new Map<Node, np.Array>();
    inputs.forEach((n, i) => (n.apply ? taps : overrides).set(n, ps[i]!));
    try {
      return evaluate(outputs, overrides, taps);
    } finally {
      for (const p of ps) p.dispose();
    }
  };
  const argnums = inputs.map((_, i) => i);
  if (cotangents.every((c) => c === null)) {
    const total = (...ps: np.Array[]) => f(...ps).reduce((sum, o) => np.add(sum, o));
    return grad(total, { argnums })(...primals) as np.Array[];
  }
  const explicit = cotangents.map((c) => (c === null ? null : evaluate([c], base)[0]!));
  const [outs, pullback] = vjp(f, primals);
  try {
    const cts = outs.map((o, j) => {
      if (explicit[j]) return explicit[j];
      // The rule of jax-js's grad (an implicit cotangent only for a 0-d output), with its text.
      if (o.ndim !== 0) throw new TypeError('grad requires a scalar output');
      return np.onesLike(o.ref);
    });
    explicit.fill(null);
    return pullback(cts) as np.Array[];
  } finally {
    for (const e of explicit) e?.dispose();
    for (const o of outs) o.dispose();
    pullback.dispose();
  }
}

/**
 * The gradients of `outputs` with respect to `inputs` as tensors of the program. Without
 * `createGraph` they are constants. With it, each is a tensor computed from the leaves the
 * outputs and cotangents depend on, by running the whole vjp again inside whatever transform
 * differentiates it: jax-js's nested transforms give the higher derivatives.
 */
export function gradientNodes(outputs: readonly Node[], cotangents: readonly (Node | null)[], inputs: readonly Node[], createGraph: boolean): Node[] {
  const values = vjpOf(outputs, cotangents, inputs, new Map());
  if (!createGraph) return values.map((v) => new Node(v, false));
  const depends = leavesOf([...outputs, ...cotangents.filter((c): c is Node => c !== null)], false);
  return values.map((value, k) => {
    const apply: OpFunction = (args) => {
      const base = new Map(depends.map((leaf, i) => [leaf, args[i] as np.Array]));
      try {
        const all = vjpOf(outputs, cotangents, inputs, base);
        all.forEach((g, j) => j !== k && g.dispose());
        return all[k]!;
      } finally {
        for (const a of base.values()) a.dispose();
      }
    };
    return new Node(value, depends.length > 0, apply, depends.map((node) => ({ node, edge: true })));
  });
}
