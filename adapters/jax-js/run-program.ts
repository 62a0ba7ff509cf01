import { numpy as np } from '@jax-js/jax';
import { MULTI_OUTPUT_OPS, type Data, type DType, type Observation, type Observations, type Program, type Step } from '../../spec/program.ts';
import { AdapterRefusal, categorize, notSupported } from './errors.ts';
import { gradientNodes, leavesOf, Node, opNode } from './graph.ts';
import { opFunction } from './ops.ts';
import { pieceFunction, pieceSizes } from './views.ts';
import { decode, encode } from '../program/data.ts';
import { isRef, runSteps } from '../program/run-steps.ts';

/** Executes one program on jax-js, step by step, as PyTorch code would run (see graph.ts). */
export function runProgram(program: Program): Observations {
  const env = new Map<string, Node | null>();
  const created: Node[] = [];
  const observations: Observation[] = [];
  const dtype = program.dtype ?? 'float32';

  const keep = (n: Node): Node => (created.push(n), n);
  const ref = (r: string): Node => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    const t = env.get(name) ?? null;
    const value = grad ? (t?.grad ?? null) : t;
    if (value === null) throw new AdapterRefusal(`'${r}' is None`);
    return value;
  };
  const leaf = (d: Data, dt: DType, requiresGrad: boolean): Node =>
    keep(new Node(np.array(decode(d) as number[], { dtype: dt === 'float64' ? np.float64 : np.float32 }), requiresGrad));
  const gradient = (g: Data | { ref: string } | undefined, root: Node): Node | null =>
    g === undefined ? null : isRef(g) ? ref(g.ref) : leaf(g, root.value.dtype as DType, false);

  /** One backward pass: the leaves reached from the roots that require grad get their gradient. */
  const backward = (roots: Node[], cotangents: (Node | null)[], createGraph: boolean) => {
    const leaves = leavesOf(roots, true);
    // No leaf to differentiate: jax-js has nothing to compute (and no no-grad-fn error).
    if (leaves.length === 0) return;
    if (leaves.some((l) => l.grad)) throw notSupported('accumulating a second gradient into .grad (jax-js has no stateful .grad)');
    gradientNodes(roots, cotangents, leaves, createGraph).forEach((g, i) => (leaves[i]!.grad = keep(g)));
  };

  const exec = (step: Step): void => {
    if ('tensor' in step) {
      env.set(step.let, leaf(step.tensor, step.dtype ?? dtype, step.requiresGrad ?? false));
    } else if ('op' in step && (MULTI_OUTPUT_OPS as readonly string[]).includes(step.op)) {
      // One node per piece, each a function of the input that keeps its piece.
      const x = ref(step.args[0] as string);
      const attrs = step.attrs ?? {};
      const dim = (attrs.dim as number | undefined) ?? 0;
      const size = x.value.shape[dim < 0 ? dim + x.value.ndim : dim];
      if (size === undefined) {
        // A dim out of range: jax-js's own refusal, from the op itself.
        pieceFunction(step.op, attrs, x.value.shape, 0)([x.value.ref]).dispose();
        throw notSupported(`${step.op} at dim ${dim} of an array of ${x.value.ndim} dims`);
      }
      const count = step.op === 'unbind' ? size : pieceSizes(step.op, attrs, size).length;
      const names = [step.let].flat();
      if (count > names.length) throw new AdapterRefusal(`too many values to unpack (expected ${names.length})`);
      if (count < names.length) throw new AdapterRefusal(`not enough values to unpack (expected ${names.length}, got ${count})`);
      names.forEach((name, k) => env.set(name, keep(opNode(pieceFunction(step.op, attrs, x.value.shape, k), [x]))));
    } else if ('op' in step) {
      if (Array.isArray(step.let)) throw notSupported(`${step.op} with a dim (a tuple of values and int64 indices)`);
      const args = step.args.map((a) => (typeof a === 'number' ? a : ref(a)));
      const first = args.find((a): a is Node => typeof a !== 'number');
      const apply = opFunction(step.op, step.attrs ?? {}, first?.value.shape ?? []);
      env.set(step.let, keep(opNode(apply, args, step.op !== 'detach')));
    } else if ('backward' in step) {
      const root = ref(step.backward);
      backward([root], [gradient(step.gradient, root)], step.createGraph ?? false);
    } else if ('autogradBackward' in step) {
      const roots = step.autogradBackward.map(ref);
      backward(roots, roots.map((_, k) => (step.gradTensors?.[k] ? ref(step.gradTensors[k]) : null)), step.createGraph ?? false);
    } else if ('grad' in step) {
      const g = step.grad;
      const outputs = g.outputs.map(ref);
      const cotangents = outputs.map((_, k) => (g.gradOutputs?.[k] ? ref(g.gradOutputs[k]) : null));
      // jax-js returns a gradient for every argument, zeros for one the outputs do not use, so
      // allowUnused changes nothing: there is no unused-input error and no None result.
      const inputs = [...new Set(g.inputs.map(ref))];
      const grads = gradientNodes(outputs, cotangents, inputs, g.createGraph ?? false).map(keep);
      step.let.forEach((name, k) => env.set(name, grads[inputs.indexOf(ref(g.inputs[k]!))]!));
    } else if ('requiresGrad_' in step) {
      const t = ref(step.requiresGrad_);
      const flag = step.flag ?? true;
      if (t.isLeaf) t.makeLeaf(flag);
      // A recorded result already requires grad; turning it off has no counterpart in a function.
      else if (!flag) throw notSupported('requires_grad_(False) on a computed tensor');
    } else if ('detach_' in step) {
      // detach_ rebinds the name to its detached value, as `y = lax.stopGradient(y)` would in JAX;
      // a leaf simply stops being an argument.
      const name = step.detach_.split('.')[0]!;
      const t = ref(step.detach_);
      if (t.apply) env.set(name, keep(opNode(opFunction('detach', {}, t.value.shape), [t], false)));
      else t.makeLeaf(false);
    } else if ('observe' in step) {
      const label = step.label ?? step.observe;
      // jax-js's own item(), which refuses arrays of more than one element.
      observations.push(step.item ? { label, value: encode(ref(step.observe).value.ref.item()) } : observe(step.observe, label));
    } else if ('noGrad' in step || 'enableGrad' in step || 'setGradEnabled' in step) {
      throw notSupported('grad mode (jax-js records nothing, so there is no mode to switch)');
    } else if ('inplace' in step) {
      throw notSupported(`in-place ${step.inplace} (jax-js arrays are immutable)`);
    } else if ('retainGrad' in step || 'clearGrad' in step) {
      throw notSupported('stateful .grad (jax-js returns gradients, it does not store them)');
    }
  };

  const observe = (r: string, label: string): Observation => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    const t = grad ? (env.get(name)?.grad ?? null) : (env.get(name) ?? null);
    if (t === null) return { label, none: true };
    return { label, value: encode(t.value.ref.js()), shape: [...t.value.shape], dtype: t.value.dtype as DType };
  };

  try {
    return { observations, error: runSteps(program.steps, exec, categorize) };
  } finally {
    // Thousands of programs run in one process: free every array this one made.
    for (const n of created) if (n.value.refCount > 0) n.value.dispose();
  }
}


