import type { Arg, Attrs, Data, Observation, Observations, OpName, Program, Scalar, Step } from '../../spec/program.ts';
import type { JsTensor, JsTorch } from './engine.ts';
import { categorize, NotSupported, StepError } from './errors.ts';
import { decode, encode } from '../program/data.ts';
import { isRef, runSteps } from '../program/run-steps.ts';

/**
 * A program value: the engine's tensor, and whether PyTorch would make it 0-dimensional.
 * js-pytorch has no 0-d tensors: a bare number becomes a tensor `[x]` of shape [1], and so does
 * every full reduction. The flag only decides how such a `[1]` tensor is reported (shape [] and a
 * bare number); the engine computes with its `[1]` tensor unchanged.
 */
interface Value {
  t: JsTensor;
  scalar: boolean;
}

const isScalarShape = (t: JsTensor) => t.shape.length === 1 && t.shape[0] === 1;
const scalarIf = (t: JsTensor, scalar: boolean): Value => ({ t, scalar: scalar && isScalarShape(t) });

/** Executes one program on js-pytorch, step by step, as the PyTorch code would run. */
export function runProgram(torch: JsTorch, program: Program): Observations {
  const env = new Map<string, Value>();
  const observations: Observation[] = [];
  const dtype = program.dtype ?? 'float32';

  const value = (name: string): Value => {
    const v = env.get(name);
    if (!v) throw new StepError('invalid-argument', `'${name}' is None`);
    return v;
  };
  /** `x` or `x.grad`; a `.grad` js-pytorch does not have (requires_grad false) is None. */
  const ref = (r: string): Value => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    const v = value(name);
    if (!grad) return v;
    if (!v.t._grad) throw new StepError('invalid-argument', `'${r}' is None`);
    return { t: v.t._grad, scalar: v.scalar };
  };
  const arg = (a: Arg): Value | number => (typeof a === 'number' ? a : ref(a));

  const exec = (step: Step): void => {
    if ('tensor' in step) {
      // The engine's numbers are float64; a float32 tensor would be float64 in disguise.
      if ((step.dtype ?? dtype) !== 'float64') throw new NotSupported(`${step.dtype ?? dtype} (js-pytorch computes in float64 JS numbers only)`);
      const data = decode(step.tensor);
      env.set(step.let, { t: torch.tensor(data, step.requiresGrad ?? false), scalar: !Array.isArray(data) });
    } else if ('op' in step) {
      if (Array.isArray(step.let)) throw new NotSupported(`${step.op} with a dim (a tuple of values and indices)`);
      env.set(step.let, applyOp(torch, step.op, step.args.map(arg), step.attrs ?? {}));
    } else if ('backward' in step) {
      if (step.createGraph) throw new NotSupported('createGraph (no higher-order gradients)');
      const root = ref(step.backward);
      const g = step.gradient === undefined ? null : isRef(step.gradient) ? ref(step.gradient.ref).t : torch.tensor(decode(step.gradient));
      // retainGraph has nothing to translate: js-pytorch never frees a graph.
      root.t.backward(g);
    } else if ('autogradBackward' in step) {
      if (step.createGraph) throw new NotSupported('createGraph (no higher-order gradients)');
      if (step.autogradBackward.length !== 1) throw new NotSupported('torch.autograd.backward of several tensors');
      const g = step.gradTensors?.[0];
      ref(step.autogradBackward[0]!).t.backward(g ? ref(g).t : null);
    } else if ('grad' in step) {
      throw new NotSupported('torch.autograd.grad (gradients only accumulate into .grad)');
    } else if ('noGrad' in step || 'enableGrad' in step || 'setGradEnabled' in step) {
      throw new NotSupported('grad modes (no_grad, enable_grad, set_grad_enabled)');
    } else if ('inplace' in step) {
      // zero_() on a .grad is the engine's zero_grad() (which on a non-leaf also drops its
      // link to the graph); the engine has no other in-place op.
      if (step.inplace !== 'zero_' || !step.target.endsWith('.grad')) throw new NotSupported(`in-place ${step.inplace}`);
      ref(step.target); // x.grad.zero_() on a None .grad fails, as in PyTorch
      value(step.target.slice(0, -'.grad'.length)).t.zero_grad();
    } else if ('requiresGrad_' in step) {
      throw new NotSupported('requires_grad_()');
    } else if ('retainGrad' in step) {
      // Nothing to do: js-pytorch keeps .grad on every tensor that requires grad.
      ref(step.retainGrad);
    } else if ('detach_' in step) {
      throw new NotSupported('detach_()');
    } else if ('clearGrad' in step) {
      throw new NotSupported('x.grad = None (a .grad is zeros from creation on)');
    } else if ('observe' in step) {
      if (step.item) throw new NotSupported('item() (a tensor has no item(); values are read as arrays)');
      observations.push(observe(step.observe, step.label ?? step.observe));
    }
  };

  const observe = (r: string, label: string): Observation => {
    const [name, grad] = r.split('.') as [string, string | undefined];
    const base = env.get(name);
    const t = grad ? base?.t._grad : base?.t;
    if (!base || !t) return { label, none: true };
    const scalar = base.scalar && isScalarShape(t);
    return {
      label,
      value: encode(scalar ? t.data[0] : t.data),
      shape: scalar ? [] : [...t.shape],
      dtype: 'float64',
      requiresGrad: t.requires_grad,
    };
  };

  return { observations, error: runSteps(program.steps, exec, categorize) };
}

/** Python's operators decide what a number operand means: `3 - t`, `2 / t`, `2 ** t`. */
function applyOp(torch: JsTorch, op: OpName, args: (Value | number)[], attrs: Attrs): Value {
  const [a, b] = args;
  if (typeof a === 'number') {
    const t = b as Value;
    switch (op) {
      case 'add': return scalarIf(t.t.add(a), t.scalar);
      case 'mul': return scalarIf(t.t.mul(a), t.scalar);
      case 'sub': return scalarIf(t.t.neg().add(a), t.scalar); // as the engine's own sub: add of a negation
      case 'div': return scalarIf(torch.div(a, t.t), t.scalar);
      default: throw new NotSupported(`${op} with a number as first operand`);
    }
  }
  const x = a!;
  const other = b === undefined ? undefined : typeof b === 'number' ? b : b.t;
  const both = x.scalar && (typeof b === 'number' || b === undefined || b.scalar);
  switch (op) {
    case 'add': case 'sub': case 'mul': case 'div': return scalarIf(x.t[op](other!), both);
    case 'pow':
      if (typeof other !== 'number') throw new NotSupported('pow with a tensor exponent');
      return scalarIf(x.t.pow(other), x.scalar);
    case 'matmul': {
      // The engine multiplies matrices (and batches of them); a vector operand is read as a
      // [1, n] matrix forward and crashes its backward, so it is refused here.
      const y = b as Value;
      if (rank(x) < 2 || rank(y) < 2) throw new NotSupported(`matmul of a ${Math.min(rank(x), rank(y))}-d tensor (only matrices and batches of them)`);
      return scalarIf(x.t.matmul(y.t), false);
    }
    case 'neg': case 'exp': case 'log': case 'sqrt': return scalarIf(x.t[op](), x.scalar);
    // nn.ReLU is the engine's relu ("Returns z if z>0 else 0"); it is not a Tensor method.
    case 'relu': return scalarIf(new torch.nn.ReLU().forward(x.t), x.scalar);
    case 'sum': case 'mean': return reduce(x, op, attrs);
    case 'reshape': return reshape(x, attrs.shape ?? []);
    case 'transpose': return transpose(x, attrs.dim0 ?? 0, attrs.dim1 ?? 1);
    case 't':
      if (rank(x) !== 2) throw new NotSupported(`t() of a ${rank(x)}-d tensor (only 2-d, as transpose(0, 1))`);
      return transpose(x, 0, 1);
    default:
      // sin, cos, tan, tanh, sigmoid, abs, reciprocal, view, expand, permute, unsqueeze,
      // squeeze, clone, detach: the engine has no such op.
      throw new NotSupported(op);
  }
}

const rank = (v: Value) => (v.scalar ? 0 : v.t.shape.length);

/**
 * sum/mean: the engine reduces one dim per call (and `sum()` means the last dim), so a reduction
 * over several dims, or over all of them, is one engine call per dim, highest dim first so the
 * others keep their index. The engine's own `keepdims` means something else (it repeats the
 * reduced value along the dim), so PyTorch's keepdim is the reduction followed by the engine's
 * reshape to the size-1 dims.
 */
function reduce(x: Value, op: 'sum' | 'mean', attrs: Attrs): Value {
  const n = rank(x);
  const dims = attrs.dim === undefined ? Array.from({ length: Math.max(n, 1) }, (_, i) => i) : Array.isArray(attrs.dim) ? attrs.dim : [attrs.dim];
  // Dims out of range go to the engine as given, for its own error.
  const normal = dims.map((d) => (d < 0 && d >= -Math.max(n, 1) ? d + Math.max(n, 1) : d));
  if (new Set(normal).size !== normal.length) throw new NotSupported(`${op} over a repeated dim`);
  let t = x.t;
  for (const d of [...normal].sort((p, q) => q - p)) t = t[op](d);
  if (attrs.keepdim && n > 0) return scalarIf(t.reshape(x.t.shape.map((size, i) => (normal.includes(i) ? 1 : size))), false);
  return scalarIf(t, n - dims.length <= 0);
}

/** PyTorch infers one -1 size from the others; the engine's reshape takes sizes only. */
function reshape(x: Value, shape: number[]): Value {
  const numel = x.t.shape.reduce((p, d) => p * d, 1);
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const inferred = shape.filter((d) => d === -1).length === 1 && known > 0 && numel % known === 0
    ? shape.map((d) => (d === -1 ? numel / known : d)) : shape; // else the engine refuses it
  return scalarIf(x.t.reshape(inferred), inferred.length === 0);
}

/** The engine's transpose swaps two consecutive dims; other pairs it silently gets wrong. */
function transpose(x: Value, dim0: number, dim1: number): Value {
  const n = rank(x);
  const [d0, d1] = [dim0, dim1].map((d) => (d < 0 ? d + n : d)) as [number, number];
  const inRange = [d0, d1].every((d) => d >= 0 && d < n);
  if (inRange && Math.abs(d0 - d1) !== 1) throw new NotSupported(`transpose(${dim0}, ${dim1}) (only two consecutive dims)`);
  return scalarIf(x.t.transpose(dim0, dim1), false);
}

