import { autograd, cat, EngineError, enableGrad, F, noGrad, setGradEnabled, stack, Tensor, tensor, where } from '../../engine/index.ts';
import type { IndexItem as EngineIndexItem } from '../../engine/indexing.ts';
import type { Arg, Attrs, Data, IndexItem, Observation, Observations, OpName, Program, Step } from '../../spec/program.ts';
import { decode, encode } from '../program/data.ts';
import { isRef, runSteps, type Exec } from '../program/run-steps.ts';

/** Executes one program on the reference engine, step by step, as PyTorch code would run. */
export function runProgram(program: Program): Observations {
  const env = new Map<string, Tensor | null>();
  const observations: Observation[] = [];
  const dtype = program.dtype ?? 'float32';
  setGradEnabled(true);

  const ref = (r: string): Tensor => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    const t = env.get(name) ?? null;
    const value = grad ? (t?.grad ?? null) : t;
    if (value === null) throw new EngineError('invalid-argument', `'${r}' is None`);
    return value;
  };
  const arg = (a: Arg): Tensor | number => (typeof a === 'number' ? a : ref(a));
  const data = (d: Data, like: Tensor) => tensor(decode(d) as number[], { dtype: like.dtype });
  /** The program's index items for the engine: a `{ ref }` is the tensor it names. */
  const items = (list: readonly IndexItem[]): EngineIndexItem[] =>
    list.map((item) => (item !== null && typeof item === 'object' && !Array.isArray(item) && 'ref' in item ? ref(item.ref) : item as EngineIndexItem));
  /** `a, b = pieces`: a list of names of the wrong length fails as Python's unpacking does. */
  const bind = (names: string | string[], pieces: Tensor[]) => {
    const list = [names].flat();
    if (pieces.length > list.length) throw new EngineError('invalid-argument', `too many values to unpack (expected ${list.length})`);
    if (pieces.length < list.length) throw new EngineError('invalid-argument', `not enough values to unpack (expected ${list.length}, got ${pieces.length})`);
    list.forEach((name, k) => env.set(name, pieces[k]!));
  };

  const exec: Exec = (step, at, run) => {
    if ('tensor' in step) {
      env.set(step.let, tensor(decode(step.tensor) as number[], { dtype: step.dtype ?? dtype, requiresGrad: step.requiresGrad ?? false }));
    } else if ('op' in step) {
      const attrs = step.attrs ?? {};
      const x = () => ref(step.args[0] as string);
      if (step.op === 'unbind' || step.op === 'split' || step.op === 'chunk') {
        const dim = (attrs.dim as number | undefined) ?? 0;
        const pieces = step.op === 'unbind' ? x().unbind(dim) : step.op === 'split' ? x().split(attrs.splitSize!, dim) : x().chunk(attrs.chunks!, dim);
        bind(step.let, pieces);
      } else if (step.op === 'index') {
        env.set(step.let as string, x().index(...items(attrs.items!)));
      } else if (Array.isArray(step.let)) {
        // max and min with a dim: values, then indices.
        const dim = attrs.dim as number;
        const { values, indices } = step.op === 'min' ? x().min(dim, attrs.keepdim ?? false) : x().max(dim, attrs.keepdim ?? false);
        bind(step.let, [values, indices]);
      } else env.set(step.let, applyOp(step.op, step.args.map(arg), attrs));
    } else if ('backward' in step) {
      const root = ref(step.backward);
      const g = step.gradient === undefined ? null : isRef(step.gradient) ? ref(step.gradient.ref) : data(step.gradient, root);
      root.backward(g, { retainGraph: step.retainGraph, createGraph: step.createGraph });
    } else if ('autogradBackward' in step) {
      const roots = step.autogradBackward.map(ref);
      const grads = step.gradTensors?.map((g) => (g === null ? null : ref(g)));
      autograd.backward(roots, grads, { retainGraph: step.retainGraph, createGraph: step.createGraph });
    } else if ('grad' in step) {
      const g = step.grad;
      const results = autograd.grad(g.outputs.map(ref), g.inputs.map(ref), {
        gradOutputs: g.gradOutputs?.map((r) => (r === null ? null : ref(r))),
        retainGraph: g.retainGraph, createGraph: g.createGraph, allowUnused: g.allowUnused,
      });
      step.let.forEach((name, k) => env.set(name, results[k] ?? null));
    } else if ('noGrad' in step) {
      noGrad(() => run(step.noGrad, at));
    } else if ('enableGrad' in step) {
      enableGrad(() => run(step.enableGrad, at));
    } else if ('setGradEnabled' in step) {
      setGradEnabled(step.setGradEnabled);
    } else if ('inplace' in step) {
      const t = ref(step.target);
      const [a] = (step.args ?? []).map(arg);
      if (step.inplace === 'zero_') t.zero_();
      else if (step.inplace === 'fill_') t.fill_(a as number);
      else if (step.inplace === 'indexPut_') t.indexPut_(items(step.attrs?.items ?? []), a!, { accumulate: step.attrs?.accumulate ?? false });
      else t[step.inplace](a!);
    } else if ('requiresGrad_' in step) {
      ref(step.requiresGrad_).requiresGrad_(step.flag ?? true);
    } else if ('retainGrad' in step) {
      ref(step.retainGrad).retainGrad();
    } else if ('detach_' in step) {
      ref(step.detach_).detach_();
    } else if ('clearGrad' in step) {
      ref(step.clearGrad).grad = null;
    } else if ('observe' in step) {
      const label = step.label ?? step.observe;
      // item() of a bool tensor is a Python bool.
      const item = (t: Tensor) => (t.dtype === 'bool' ? t.item() !== 0 : t.item());
      if (step.item) observations.push({ label, value: encode(item(ref(step.observe))) });
      else {
        const o = observe(step.observe, label);
        const t = o.none ? null : ref(step.observe);
        if (t && step.layout) Object.assign(o, { stride: t.stride(), storageOffset: t.storageOffset(), isContiguous: t.isContiguous(), isView: t.isView() });
        if (t && step.sameStorage !== undefined) o.sharesStorage = t.sharesStorage(ref(step.sameStorage));
        observations.push(o);
      }
    }
  };

  const observe = (r: string, label: string): Observation => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    // A `.grad` that is None, or a name bound to None by autograd.grad(allowUnused), reads as none.
    const t = grad ? (env.get(name)?.grad ?? null) : (env.get(name) ?? null);
    if (t === null) return { label, none: true };
    return {
      label,
      value: encode(t.tolist()),
      shape: [...t.shape],
      dtype: t.dtype,
      requiresGrad: t.requiresGrad,
      isLeaf: t.isLeaf,
      gradFn: t.gradFn ? className(t.gradFn) : null,
      ...(t.gradFn ? { nextFunctions: t.gradFn.nextFunctions.map(([n]) => (n ? className(n) : null)) } : {}),
      repr: t.toString(),
      version: t.version,
    };
  };

  try {
    // Anything but an EngineError is an engine bug, not an observation: it is rethrown.
    const error = runSteps(program.steps, exec, (e) => (e instanceof EngineError ? { category: e.category, message: e.message } : null));
    return { observations, error };
  } finally {
    setGradEnabled(true);
  }
}

/**
 * The observed name is the grad_fn's Python class name (`type(t.grad_fn).__name__`); name() is
 * PyTorch's `grad_fn.name()`, which spells a few C++ nodes with their namespace
 * (`torch::autograd::CopySlices`).
 */
const className = (node: { name(): string }): string => node.name().replace(/^.*::/, '');

/** Python's operators decide PyTorch's graph, so a number on the left maps to the reflected form. */
/** `3 > t` is `t < 3` in Python. */
const REFLECTED = { gt: 'lt', ge: 'le', lt: 'gt', le: 'ge', eq: 'eq', ne: 'ne' } as const;

function applyOp(op: OpName, args: (Tensor | number)[], attrs: Attrs): Tensor {
  const [a, b] = args;
  if (op === 'where') {
    if (!(a instanceof Tensor)) throw new EngineError('invalid-argument', 'where: the condition must be a tensor');
    return where(a, b!, args[2]!);
  }
  if (op === 'cat' || op === 'stack') return (op === 'cat' ? cat : stack)(args as Tensor[], (attrs.dim as number | undefined) ?? 0);
  if (typeof a === 'number') {
    if (!(b instanceof Tensor)) throw new EngineError('invalid-argument', `${op}: at least one operand must be a tensor`);
    switch (op) {
      case 'add': return b.add(a);
      case 'mul': return b.mul(a);
      case 'sub': return b.rsub(a);
      case 'div': return b.reciprocal().mul(a);
      // A float exponent's dtype for the base; next to int64 or bool, the number's own (int or float).
      case 'pow': return tensor(a, { dtype: b.floating ? b.dtype : Number.isInteger(a) ? 'int64' : 'float32' }).pow(b);
      case 'gt': case 'ge': case 'lt': case 'le': case 'eq': case 'ne': return b[REFLECTED[op]](a);
      default: throw new EngineError('invalid-argument', `${op}: expected a tensor as first operand`);
    }
  }
  const t = a!;
  switch (op) {
    case 'add': case 'sub': case 'mul': case 'div': case 'pow': return t[op](b!);
    case 'gt': case 'ge': case 'lt': case 'le': case 'eq': case 'ne': return t[op](b!);
    case 'matmul': case 'maximum': case 'minimum':
      if (!(b instanceof Tensor)) throw new EngineError('invalid-argument', `${op}: both operands must be tensors`);
      return t[op](b);
    case 'sum': case 'mean': case 'amax': case 'amin': return t[op](attrs.dim, attrs.keepdim ?? false);
    case 'prod': return t.prod(attrs.dim as number | undefined, attrs.keepdim ?? false);
    case 'cumsum': case 'cumprod': return t[op](attrs.dim as number);
    case 'norm': return t.norm(attrs.p === 'inf' ? Infinity : attrs.p, attrs.dim, attrs.keepdim ?? false);
    case 'var': case 'std': return t[op](attrs.dim, { unbiased: attrs.unbiased ?? true, keepdim: attrs.keepdim ?? false });
    case 'reshape': case 'view': case 'expand': return t[op](attrs.shape ?? []);
    case 'transpose': return t.transpose(attrs.dim0 ?? 0, attrs.dim1 ?? 1);
    case 'clamp': return t.clamp(attrs.min ?? null, attrs.max ?? null);
    case 'argmax': case 'argmin': return t[op](attrs.dim as number | undefined, attrs.keepdim ?? false);
    case 'clampMin': return t.clampMin(attrs.min as number);
    case 'clampMax': return t.clampMax(attrs.max as number);
    case 'permute': return t.permute(attrs.dims ?? []);
    case 'flip': return t.flip(attrs.dims ?? []);
    case 'roll': return t.roll(attrs.shifts ?? [], attrs.dims);
    case 'repeat': return t.repeat(attrs.sizes ?? []);
    case 'unsqueeze': return t.unsqueeze(attrs.dim as number);
    case 'squeeze': return t.squeeze(attrs.dim as number | undefined);
    case 't': case 'clone': case 'detach': return t[op]();
    case 'softmax': return t.softmax(attrs.dim as number);
    case 'logSoftmax': return t.logSoftmax(attrs.dim as number);
    case 'logsumexp': return t.logsumexp(attrs.dim!, attrs.keepdim ?? false);
    case 'softplus': return F.softplus(t, { beta: attrs.beta, threshold: attrs.threshold });
    case 'leakyRelu': return F.leakyRelu(t, attrs.negativeSlope);
    case 'elu': return F.elu(t, attrs.alpha);
    case 'gelu': return F.gelu(t, { approximate: attrs.approximate });
    case 'silu': return F.silu(t);
    case 'mseLoss': case 'l1Loss': case 'binaryCrossEntropy': case 'binaryCrossEntropyWithLogits': case 'nllLoss': case 'crossEntropy': return F[op](t, b as Tensor, { reduction: attrs.reduction });
    case 'smoothL1Loss': return F.smoothL1Loss(t, b as Tensor, { reduction: attrs.reduction, beta: attrs.beta });
    case 'select': return t.select(attrs.dim as number, attrs.index!);
    case 'narrow': return t.narrow(attrs.dim as number, attrs.start!, attrs.length!);
    case 'diagonal': return t.diagonal(attrs.offset ?? 0, attrs.dim1 ?? 0, attrs.dim2 ?? 1);
    case 'unbind': case 'split': case 'chunk': case 'index': throw new Error(`${op} is run by the step, not applyOp`);
    case 'indexSelect': return t.indexSelect(attrs.dim as number, b as Tensor);
    case 'gather': return t.gather(attrs.dim as number, b as Tensor);
    case 'scatter': return t.scatter(attrs.dim as number, b as Tensor, args[2]!);
    case 'scatterAdd': return t.scatterAdd(attrs.dim as number, b as Tensor, args[2] as Tensor);
    case 'indexAdd': return t.indexAdd(attrs.dim as number, b as Tensor, args[2] as Tensor, { alpha: attrs.alpha });
    case 'maskedFill': return t.maskedFill(b as Tensor, args[2]!);
    default: return t[op]();
  }
}

