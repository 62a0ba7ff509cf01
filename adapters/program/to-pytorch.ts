/**
 * Renders a program as Python code for torch 1.13, so that a reader can paste it and reproduce
 * what PyTorch does. Ops print the way PyTorch users write them (`a * b`, `x.sum(dim=0)`),
 * because that choice also decides PyTorch's grad_fn names. Nothing is wrapped in try/except:
 * a step that raises should show its traceback. The program is assumed valid (see validate.ts).
 */
import { VIEW_OPS, type Arg, type Data, type DType, type IndexItem, type LOSS_OPS, type OpStep, type Program, type Ref, type Step } from '../../spec/program.ts';

const VIEWS = new Set<string>(VIEW_OPS);

const OPERATORS: Record<string, string> = {
  add: '+', sub: '-', mul: '*', div: '/', pow: '**', matmul: '@', gt: '>', ge: '>=', lt: '<', le: '<=', eq: '==', ne: '!=',
};

export function toPytorch(program: Program): string {
  const printer = new Printer(program.dtype ?? 'float32');
  printer.steps(program.steps, '');
  return ['import torch', '', `# program ${program.id.replace(/\s+/g, ' ')}`, ...printer.lines, ''].join('\n');
}

class Printer {
  readonly lines: string[] = [];
  /** dtype of each bound name, so an explicit backward gradient prints in its output's dtype. */
  private readonly dtypes = new Map<string, DType>();

  constructor(private readonly defaultDtype: DType) {}

  steps(steps: Step[], indent: string): void {
    if (steps.length === 0) this.lines.push(`${indent}pass`);
    for (const step of steps) this.step(step, indent);
  }

  private step(step: Step, indent: string): void {
    const line = (text: string) => this.lines.push(indent + text);
    if ('tensor' in step) {
      const dtype = step.dtype ?? this.defaultDtype;
      this.dtypes.set(step.let, dtype);
      line(`${step.let} = ${tensor(step.tensor, step.requiresGrad === true, dtype)}`);
    } else if ('op' in step) {
      const refs = step.args.filter((a): a is Ref => typeof a === 'string');
      const names = Array.isArray(step.let) ? step.let : [step.let];
      // A view has its input's dtype (an int64 index stays int64).
      const dtype = VIEWS.has(step.op) ? this.dtype(refs[0]!) : refs.some((r) => this.dtype(r) === 'float64') ? 'float64' : 'float32';
      for (const n of names) this.dtypes.set(n, dtype);
      // A list of one name unpacks a one-element tuple: `a, = y.unbind(0)`.
      line(`${Array.isArray(step.let) && names.length === 1 ? `${names[0]},` : names.join(', ')} = ${op(step)}`);
    } else if ('grad' in step) {
      const g = step.grad;
      step.let.forEach((name, i) => this.dtypes.set(name, this.dtype(g.inputs[i]!)));
      const kwargs = [
        g.gradOutputs && `grad_outputs=${list(g.gradOutputs)}`,
        ...graphFlags(g.retainGraph, g.createGraph),
        g.allowUnused && 'allow_unused=True',
      ];
      const names = step.let.length === 1 ? `${step.let[0]},` : step.let.join(', ');
      line(`${names} = torch.autograd.grad(${[list(g.outputs), list(g.inputs), ...kwargs].filter(Boolean).join(', ')})`);
    } else if ('backward' in step) {
      const g = step.gradient;
      const gradient = g === undefined ? undefined
        : typeof g === 'object' && !Array.isArray(g) ? g.ref
          : tensor(g, false, this.dtype(step.backward));
      const kwargs = [gradient && `gradient=${gradient}`, ...graphFlags(step.retainGraph, step.createGraph)];
      line(`${step.backward}.backward(${kwargs.filter(Boolean).join(', ')})`);
    } else if ('autogradBackward' in step) {
      const kwargs = [
        step.gradTensors && `grad_tensors=${list(step.gradTensors)}`,
        ...graphFlags(step.retainGraph, step.createGraph),
      ];
      line(`torch.autograd.backward(${[list(step.autogradBackward), ...kwargs].filter(Boolean).join(', ')})`);
    } else if ('noGrad' in step) {
      line('with torch.no_grad():');
      this.steps(step.noGrad, `${indent}    `);
    } else if ('enableGrad' in step) {
      line('with torch.enable_grad():');
      this.steps(step.enableGrad, `${indent}    `);
    } else if ('repeat' in step) {
      line(`for _ in range(${step.repeat}):`);
      this.steps(step.steps, `${indent}    `);
    } else if ('setGradEnabled' in step) {
      line(`torch.set_grad_enabled(${step.setGradEnabled ? 'True' : 'False'})`);
    } else if ('inplace' in step) {
      const args = (step.args ?? []).map((a) => (step.inplace === 'fill_' && typeof a === 'number' ? float(a) : arg(a)));
      if (step.inplace === 'indexPut_') {
        const items = step.attrs?.items ?? [];
        // Assignment is how users write it; only accumulate needs index_put_, which takes a tuple of index tensors.
        if (step.attrs?.accumulate) line(`${step.target}.index_put_(${tuple(items.map(indexItem))}, ${args[0]}, accumulate=True)`);
        else line(`${step.target}${subscript(items)} = ${args[0]}`);
      } else line(`${step.target}.${step.inplace}(${args.join(', ')})`);
    } else if ('requiresGrad_' in step) {
      line(`${step.requiresGrad_}.requires_grad_(${step.flag === false ? 'False' : ''})`);
    } else if ('retainGrad' in step) {
      line(`${step.retainGrad}.retain_grad()`);
    } else if ('detach_' in step) {
      line(`${step.detach_}.detach_()`);
    } else if ('clearGrad' in step) {
      line(`${step.clearGrad}.grad = None`);
    } else if ('observe' in step) {
      const r = step.observe;
      const label = pyString(step.label ?? r);
      if (step.item) line(`print(${label}, ${r}.item())`);
      else line(`print(${label}, ${r})`);
      if (!step.item && !r.endsWith('.grad')) {
        line(`print(${label}, ${r}.requires_grad, ${r}.is_leaf, type(${r}.grad_fn).__name__ if ${r}.grad_fn else None)`);
      }
      if (step.layout) line(`print(${label}, ${r}.stride(), ${r}.storage_offset(), ${r}.is_contiguous(), ${r}._is_view())`);
      if (step.sameStorage !== undefined) line(`print(${label}, ${r}.storage().data_ptr() == ${step.sameStorage}.storage().data_ptr())`);
    }
  }

  private dtype(ref: Ref): DType {
    return this.dtypes.get(ref.replace(/\.grad$/, '')) ?? this.defaultDtype;
  }
}

/** The losses' names in torch.nn.functional. */
const LOSS_NAMES: Record<(typeof LOSS_OPS)[number], string> = {
  mseLoss: 'mse_loss', l1Loss: 'l1_loss', smoothL1Loss: 'smooth_l1_loss', binaryCrossEntropy: 'binary_cross_entropy',
  binaryCrossEntropyWithLogits: 'binary_cross_entropy_with_logits', nllLoss: 'nll_loss',
  crossEntropy: 'cross_entropy',
};

function op(step: OpStep): string {
  const [a, b] = step.args;
  const x = arg(a!);
  const attrs = step.attrs ?? {};
  const operator = OPERATORS[step.op];
  if (operator) {
    // A negative number on the left of ** needs parentheses: -2 ** x is -(2 ** x) in Python.
    const left = operator === '**' && typeof a === 'number' && a < 0 ? `(${x})` : x;
    return `${left} ${operator} ${arg(b!)}`;
  }
  switch (step.op) {
    case 'neg': return `-${x}`;
    case 'where': return `torch.where(${step.args.map(arg).join(', ')})`;
    case 'maximum': case 'minimum': return `torch.${step.op}(${x}, ${arg(b!)})`;
    case 'clamp': {
      // Bounds print as keywords, a null bound as None: x.clamp(min=0.0, max=None).
      // A bound prints as a Python number like any number argument (an integer as an int).
      const bounds = (['min', 'max'] as const).filter((k) => attrs[k] !== undefined).map((k) => `${k}=${attrs[k] === null ? 'None' : arg(attrs[k]!)}`);
      return `${x}.clamp(${bounds.join(', ')})`;
    }
    case 'clampMin': return `${x}.clamp_min(${arg(attrs.min!)})`;
    case 'clampMax': return `${x}.clamp_max(${arg(attrs.max!)})`;
    case 'sum': case 'mean': case 'prod': case 'cumsum': case 'cumprod': case 'var': case 'std': case 'norm':
    case 'amax': case 'amin': case 'argmax': case 'argmin': case 'max': case 'min': {
      const { dim, keepdim, unbiased, p } = attrs;
      const kwargs = [
        p !== undefined && `p=${p === 'inf' ? "float('inf')" : p}`,
        dim !== undefined && `dim=${Array.isArray(dim) ? tuple(dim) : dim}`,
        unbiased !== undefined && `unbiased=${unbiased ? 'True' : 'False'}`,
        keepdim && 'keepdim=True',
      ];
      return `${x}.${step.op}(${kwargs.filter(Boolean).join(', ')})`;
    }
    case 'reshape': case 'view': case 'expand': return `${x}.${step.op}(${sizes(attrs.shape ?? [])})`;
    case 'permute': return `${x}.permute(${sizes(attrs.dims ?? [])})`;
    case 'transpose': return `${x}.transpose(${attrs.dim0}, ${attrs.dim1})`;
    case 'unsqueeze': return `${x}.unsqueeze(${String(attrs.dim)})`;
    case 'squeeze': return `${x}.squeeze(${attrs.dim === undefined ? '' : String(attrs.dim)})`;
    case 'softmax': return `${x}.softmax(${String(attrs.dim)})`;
    case 'logSoftmax': return `${x}.log_softmax(${String(attrs.dim)})`;
    case 'logsumexp': {
      const dim = Array.isArray(attrs.dim) ? tuple(attrs.dim) : String(attrs.dim);
      return `${x}.logsumexp(${[dim, attrs.keepdim && 'keepdim=True'].filter(Boolean).join(', ')})`;
    }
    case 'softplus': return functional('softplus', x, [['beta', attrs.beta], ['threshold', attrs.threshold]]);
    case 'leakyRelu': return functional('leaky_relu', x, [['negative_slope', attrs.negativeSlope]]);
    case 'elu': return functional('elu', x, [['alpha', attrs.alpha]]);
    case 'gelu': return `torch.nn.functional.gelu(${[x, attrs.approximate !== undefined && `approximate=${pyString(attrs.approximate)}`].filter(Boolean).join(', ')})`;
    case 'silu': return functional('silu', x, []);
    case 'mseLoss': case 'l1Loss': case 'smoothL1Loss': case 'binaryCrossEntropy': case 'binaryCrossEntropyWithLogits': case 'nllLoss': case 'crossEntropy': {
      const kwargs = [attrs.reduction !== undefined && `reduction='${attrs.reduction}'`, attrs.beta !== undefined && `beta=${String(attrs.beta)}`];
      return `torch.nn.functional.${LOSS_NAMES[step.op]}(${[x, arg(b!), ...kwargs.filter(Boolean)].join(', ')})`;
    }
    // The gather family: dim first, as PyTorch's methods take it; a number src or value prints as itself.
    case 'indexSelect': return `${x}.index_select(${String(attrs.dim)}, ${arg(b!)})`;
    case 'gather': return `${x}.gather(${String(attrs.dim)}, ${arg(b!)})`;
    case 'scatter': return `${x}.scatter(${String(attrs.dim)}, ${arg(b!)}, ${arg(step.args[2]!)})`;
    case 'scatterAdd': return `${x}.scatter_add(${String(attrs.dim)}, ${arg(b!)}, ${arg(step.args[2]!)})`;
    case 'indexAdd': return `${x}.index_add(${[String(attrs.dim), arg(b!), arg(step.args[2]!), attrs.alpha !== undefined && `alpha=${arg(attrs.alpha)}`].filter(Boolean).join(', ')})`;
    case 'maskedFill': return `${x}.masked_fill(${arg(b!)}, ${arg(step.args[2]!)})`;
    case 'select': return `${x}.select(${attrs.dim}, ${attrs.index})`;
    case 'narrow': return `${x}.narrow(${attrs.dim}, ${attrs.start}, ${attrs.length})`;
    case 'diagonal': {
      const kwargs = (['offset', 'dim1', 'dim2'] as const).filter((k) => attrs[k] !== undefined).map((k) => `${k}=${attrs[k]}`);
      return `${x}.diagonal(${kwargs.join(', ')})`;
    }
    case 'unbind': return `${x}.unbind(${attrs.dim === undefined ? '' : String(attrs.dim)})`;
    case 'split': {
      const size = Array.isArray(attrs.splitSize) ? `[${attrs.splitSize.join(', ')}]` : String(attrs.splitSize);
      return `${x}.split(${[size, attrs.dim !== undefined && `dim=${attrs.dim}`].filter(Boolean).join(', ')})`;
    }
    case 'chunk': return `${x}.chunk(${[String(attrs.chunks), attrs.dim !== undefined && `dim=${attrs.dim}`].filter(Boolean).join(', ')})`;
    case 'index': return `${x}${subscript(attrs.items ?? [])}`;
    case 'cat': case 'stack': return `torch.${step.op}([${step.args.map(arg).join(', ')}]${attrs.dim === undefined ? '' : `, dim=${String(attrs.dim)}`})`;
    case 'flip': return `${x}.flip(${ints(attrs.dims ?? [])})`;
    case 'roll': {
      const shifts = typeof attrs.shifts === 'number' ? String(attrs.shifts) : ints(attrs.shifts ?? []);
      return `${x}.roll(${[shifts, attrs.dims !== undefined && ints(attrs.dims)].filter(Boolean).join(', ')})`;
    }
    case 'repeat': return `${x}.repeat(${ints(attrs.sizes ?? [])})`;
    default: return `${x}.${step.op}()`; // unary ops, t, clone, detach, contiguous
  }
}

/** `torch.nn.functional.<name>(x, keyword=...)`, each given option as a Python float keyword. */
function functional(name: string, x: string, options: [string, number | undefined][]): string {
  const kwargs = options.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${float(v!)}`);
  return `torch.nn.functional.${name}(${[x, ...kwargs].join(', ')})`;
}

function graphFlags(retainGraph: boolean | undefined, createGraph: boolean | undefined): (string | false)[] {
  // PyTorch's retain_graph defaults to create_graph, so it prints only when it differs.
  const create = createGraph === true;
  return [
    retainGraph !== undefined && retainGraph !== create && `retain_graph=${retainGraph ? 'True' : 'False'}`,
    create && 'create_graph=True',
  ];
}

function tensor(data: Data, requiresGrad: boolean, dtype: DType): string {
  const kwargs = [requiresGrad && 'requires_grad=True', dtype !== 'float32' && `dtype=torch.${dtype}`];
  return `torch.tensor(${[pyData(data, dtype), ...kwargs].filter(Boolean).join(', ')})`;
}

/**
 * Tensor data; every number prints as a Python float so float leaves stay float, booleans as
 * True and False, and the integer values of an int64 leaf as Python ints.
 */
function pyData(data: Data, dtype: DType): string {
  if (Array.isArray(data)) return `[${data.map((d) => pyData(d, dtype)).join(', ')}]`;
  if (typeof data === 'boolean') return data ? 'True' : 'False';
  if (data === 'nan' || data === 'inf' || data === '-inf') return `float('${data}')`;
  if (data === '-0') return '-0.0';
  return dtype === 'int64' && Number.isSafeInteger(data) ? String(data) : float(data);
}

function float(n: number): string {
  if (Number.isNaN(n)) return "float('nan')";
  if (!Number.isFinite(n)) return n > 0 ? "float('inf')" : "float('-inf')";
  if (Object.is(n, -0)) return '-0.0';
  const s = String(n);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const arg = (a: Arg): string => (typeof a === 'string' ? a : String(a));

/** `[1:3, None, ..., i]`; no items is `[()]`, the whole tensor as a view. */
const subscript = (items: IndexItem[]): string => `[${items.length === 0 ? '()' : items.map(indexItem).join(', ')}]`;

function indexItem(item: IndexItem): string {
  if (item === null) return 'None';
  if (item === '...') return '...';
  if (typeof item === 'number') return String(item);
  // A Python list would also index, but its meaning shifts with its contents (a list of slices);
  // an int64 tensor is what the program means. An empty one needs its dtype spelled.
  if (Array.isArray(item)) return item.length === 0 ? 'torch.tensor([], dtype=torch.int64)' : `torch.tensor([${item.join(', ')}])`;
  if ('ref' in item) return item.ref;
  const { start, stop, step } = item;
  return `${start ?? ''}:${stop ?? ''}${step === undefined ? '' : `:${step}`}`;
}
const list = (refs: (Ref | null)[]): string => `[${refs.map((r) => r ?? 'None').join(', ')}]`;
const tuple = (ns: (number | string)[]): string => (ns.length === 1 ? `(${ns[0]},)` : `(${ns.join(', ')})`);
const ints = (ns: number[]): string => `[${ns.join(', ')}]`;
/** Sizes as positional arguments; an empty size is the empty tuple. */
const sizes = (ns: number[]): string => (ns.length === 0 ? '()' : ns.join(', '));

function pyString(s: string): string {
  const body = s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
  return `'${body}'`;
}
