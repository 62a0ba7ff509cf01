"""Runs gradspec programs (spec/program.ts) with real PyTorch and prints what it observes.

Usage:
    /usr/bin/python3 adapters/pytorch/run_program.py < programs.json > observations.json
    /usr/bin/python3 adapters/pytorch/run_program.py --version

stdin holds a JSON array of Program objects; stdout gets a JSON array of Observations, in the
same order. Every step is executed the way a PyTorch user would write it (`a * b`, `3 - t`,
`x.sum(dim=0)`), because the spelling decides PyTorch's grad_fn names. The executor is the
function `run_program`, so a line-delimited protocol can call it program by program.

Only the standard library and torch are used.
"""
import json
import math
import operator
import re
import sys
import warnings

try:
    import torch
except ImportError:  # reported by main(); importing this module stays possible without torch
    torch = None

# Reading .grad of a non-leaf is something programs observe on purpose, and create_graph=True
# backward warns about a reference cycle; both warnings would only clutter stderr.
warnings.filterwarnings('ignore', message='The .grad attribute of a Tensor that is not a leaf')
warnings.filterwarnings('ignore', message=r'Using backward\(\) with create_graph=True')

# Error categories (spec/program.ts ERROR_CATEGORIES), matched against str(e) in this order; the
# first pattern found anywhere in the message wins. Order matters where one message contains
# another's pattern (expand's "isn't allowed" message also says "expanded size").
ERROR_CATEGORIES = [
    (r'Trying to backward through the graph a second time', 'freed-graph'),
    (r'grad can be implicitly created only for scalar outputs', 'implicit-non-scalar'),
    (r'does not require grad and does not have a grad_fn', 'no-grad-fn'),
    # Also covers "a view of a leaf Variable that requires grad is being used ...".
    (r'leaf Variable that requires grad is being used in an in-place operation', 'leaf-inplace'),
    (r'has been modified by an inplace operation', 'saved-modified'),
    (r'you can only change requires_grad flags of leaf variables', 'non-leaf-requires-grad'),
    (r'One of the differentiated Tensors does not require grad', 'input-no-grad'),
    (r'appears to not have been used in the graph', 'unused-input'),
    # expand(-1) in a new leading dim is a bad argument, not a size clash.
    (r"expanded size of the tensor \(-1\) isn't allowed", 'invalid-argument'),
    (r'must match the size', 'shape-mismatch'),            # broadcasting
    (r'Mismatch in shape', 'shape-mismatch'),              # backward(gradient) of the wrong shape
    (r'shapes cannot be multiplied', 'shape-mismatch'),    # matmul (mm)
    (r'is invalid for input of size', 'shape-mismatch'),   # reshape / view
    (r'expanded size', 'shape-mismatch'),                  # expand
    (r'inconsistent tensor size', 'shape-mismatch'),       # matmul (dot)
    (r'size mismatch', 'shape-mismatch'),                  # matmul (mv)
    (r'Expected size for first two dimensions of batch2 tensor', 'shape-mismatch'),  # matmul (bmm)
    (r"doesn't match the broadcast shape", 'shape-mismatch'),  # in-place op whose result grows
    (r"view size is not compatible with input tensor's size and stride", 'shape-mismatch'),  # view of a non-contiguous tensor
    (r'shape mismatch', 'shape-mismatch'),                 # index tensors or indexPut_ values that do not broadcast
    # In place on a view autograd cannot rebase (an output of unbind, split or chunk, or a view
    # made in no_grad mode): refused like in place on a leaf, by autograd's rules.
    (r'is a view and (is being|its base or another view of its base has been) modified inplace', 'leaf-inplace'),
    (r'A view was created in (no_grad|inference) mode and', 'leaf-inplace'),      # in place on a view made in no_grad mode
    (r'Sizes of tensors must match except in dimension', 'shape-mismatch'),  # cat
    (r'Tensors must have same number of dimensions', 'shape-mismatch'),      # cat
    (r'stack expects each tensor to be equal size', 'shape-mismatch'),       # stack
    (r'Size does not match at dimension', 'shape-mismatch'),  # gather: index larger than self
    (r'to be smaller than self', 'shape-mismatch'),            # scatter, scatter_add: index larger than self or src
    (r'Index tensor must have the same number of dimensions', 'shape-mismatch'),  # gather, scatter
    (r'should be equal to source.size', 'shape-mismatch'),     # index_add: index and source disagree
    (r'returned an invalid gradient at index', 'shape-mismatch'),  # a gradient the engine cannot fit to its input
]


def categorize(message):
    for pattern, category in ERROR_CATEGORIES:
        if re.search(pattern, message):
            return category
    return 'invalid-argument'


class MalformedProgram(Exception):
    """A program the format does not allow (unknown step kind or op). This is a harness bug, not
    something PyTorch refused, so it is not recorded as an observed error: it stops the run."""


class StepFailed(Exception):
    """Carries the path of the innermost failing step out of nested blocks."""

    def __init__(self, path, error):
        super().__init__(path)
        self.path = path
        self.error = error


BINARY = {
    'add': operator.add, 'sub': operator.sub, 'mul': operator.mul,
    'div': operator.truediv, 'pow': operator.pow, 'matmul': operator.matmul,
    'gt': operator.gt, 'ge': operator.ge, 'lt': operator.lt, 'le': operator.le, 'eq': operator.eq, 'ne': operator.ne,
}
UNARY = {'exp', 'log', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu', 'sqrt', 'abs', 'reciprocal',
         'log1p', 'expm1', 'erf', 'atan', 'asin', 'acos', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'rsqrt', 'square',
         'sign', 'floor', 'ceil', 'round', 'trunc'}
# torch.nn.functional's activations: the program's camelCase name and option names, PyTorch's keywords.
FUNCTIONAL = {
    'softplus': ('softplus', (('beta', 'beta'), ('threshold', 'threshold'))),
    'leakyRelu': ('leaky_relu', (('negativeSlope', 'negative_slope'),)),
    'elu': ('elu', (('alpha', 'alpha'),)),
    'gelu': ('gelu', (('approximate', 'approximate'),)),
    'silu': ('silu', ()),
}
# The losses of torch.nn.functional, by the program format's names.
LOSSES = {'mseLoss': 'mse_loss', 'l1Loss': 'l1_loss', 'smoothL1Loss': 'smooth_l1_loss',
          'binaryCrossEntropy': 'binary_cross_entropy', 'binaryCrossEntropyWithLogits': 'binary_cross_entropy_with_logits',
          'nllLoss': 'nll_loss', 'crossEntropy': 'cross_entropy'}
# The gather family, by the program format's names.
INDEXING = {'indexSelect': 'index_select', 'gather': 'gather', 'scatter': 'scatter', 'scatterAdd': 'scatter_add',
            'indexAdd': 'index_add', 'maskedFill': 'masked_fill'}
INPLACE = {'add_', 'sub_', 'mul_', 'div_', 'zero_', 'fill_', 'copy_', 'indexPut_'}
# View ops called as methods with the program's attributes as positional arguments.
POSITIONAL_VIEWS = {'select': ('dim', 'index'), 'narrow': ('dim', 'start', 'length')}


def scalar(value):
    """JSON has no NaN or Infinity, so the format spells them as strings."""
    return float(value) if value in ('nan', 'inf', '-inf', '-0') else value


def to_torch_data(data):
    return [to_torch_data(d) for d in data] if isinstance(data, list) else scalar(data)


def to_json_data(value):
    """tolist() output, with non-finite floats spelled as strings. -0.0 stays a number."""
    if isinstance(value, list):
        return [to_json_data(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return 'nan' if math.isnan(value) else ('inf' if value > 0 else '-inf')
    if value == 0 and math.copysign(1.0, value) < 0:
        return '-0'  # JSON readers in JavaScript would lose the sign of a bare -0.0
    return value


class Execution:
    """One program's execution: its bound names, what it observed, and its default dtype."""

    def __init__(self, program):
        self.dtype = program.get('dtype', 'float32')
        self.env = {}
        self.observations = []

    def resolve(self, ref):
        """A name, or `name.grad`: the current .grad of that tensor (possibly None)."""
        name, dot_grad = (ref[:-5], True) if ref.endswith('.grad') else (ref, False)
        if name not in self.env:
            raise MalformedProgram(f'reference to unbound name {name!r}')
        tensor = self.env[name]
        return tensor.grad if dot_grad else tensor

    def arg(self, a):
        """An op argument: a reference, or a number passed on as a Python scalar. An integer-valued
        number is a Python int (JavaScript writes 2.0 as 2), which decides int64 promotion."""
        if isinstance(a, str):
            return self.resolve(a)
        return int(a) if isinstance(a, float) and a.is_integer() else a

    def refs(self, refs):
        return [None if r is None else self.resolve(r) for r in refs]

    def index(self, items):
        """The program's index items as what goes between Python's brackets: a tuple."""
        def item(i):
            if i == '...':
                return Ellipsis
            if isinstance(i, list):  # an int64 index written in place
                return torch.tensor(i, dtype=torch.int64)
            if isinstance(i, dict):
                if 'ref' in i:
                    return self.resolve(i['ref'])
                return slice(i.get('start'), i.get('stop'), i.get('step'))
            return i  # an int, or None (a new dim)
        return tuple(item(i) for i in items)

    def bind(self, names, result):
        """`a, b = result`, with Python's own message when the counts differ."""
        values = tuple(result)
        if len(values) > len(names):
            raise ValueError(f'too many values to unpack (expected {len(names)})')
        if len(values) < len(names):
            raise ValueError(f'not enough values to unpack (expected {len(names)}, got {len(values)})')
        for name, value in zip(names, values):
            self.env[name] = value

    def run_steps(self, steps, prefix):
        for i, step in enumerate(steps):
            path = f'{prefix}{i}'
            try:
                self.run_step(step, path)
            except (StepFailed, MalformedProgram):
                raise
            except Exception as e:  # anything PyTorch (or Python, on its behalf) refused
                raise StepFailed(path, e) from e

    def run_step(self, step, path):
        if 'tensor' in step:
            dtype = getattr(torch, step.get('dtype', self.dtype))
            self.env[step['let']] = torch.tensor(
                to_torch_data(step['tensor']), dtype=dtype, requires_grad=step.get('requiresGrad', False))
        elif 'op' in step:
            attrs = step.get('attrs', {})
            if step['op'] == 'index':
                result = self.arg(step['args'][0])[self.index(attrs['items'])]
            else:
                result = self.op(step['op'], [self.arg(a) for a in step['args']], attrs)
            if isinstance(step['let'], list):
                # `v, i = x.max(dim=0)`, `a, b = y.unbind(0)`: one name per element.
                self.bind(step['let'], result)
            else:
                self.env[step['let']] = result
        elif 'grad' in step:
            g = step['grad']
            kwargs = graph_flags(g)
            if 'gradOutputs' in g:
                kwargs['grad_outputs'] = self.refs(g['gradOutputs'])
            if 'allowUnused' in g:
                kwargs['allow_unused'] = g['allowUnused']
            results = torch.autograd.grad(self.refs(g['outputs']), self.refs(g['inputs']), **kwargs)
            for name, result in zip(step['let'], results):
                self.env[name] = result  # None when an unused input was allowed
        elif 'backward' in step:
            t = self.resolve(step['backward'])
            kwargs = graph_flags(step)
            if 'gradient' in step:
                g = step['gradient']
                is_ref = isinstance(g, dict)
                kwargs['gradient'] = (self.resolve(g['ref']) if is_ref
                                      else torch.tensor(to_torch_data(g), dtype=t.dtype))
            t.backward(**kwargs)
        elif 'autogradBackward' in step:
            kwargs = graph_flags(step)
            if 'gradTensors' in step:
                kwargs['grad_tensors'] = self.refs(step['gradTensors'])
            torch.autograd.backward(self.refs(step['autogradBackward']), **kwargs)
        elif 'noGrad' in step:
            with torch.no_grad():
                self.run_steps(step['noGrad'], f'{path}.')
        elif 'enableGrad' in step:
            with torch.enable_grad():
                self.run_steps(step['enableGrad'], f'{path}.')
        elif 'repeat' in step:
            # `for _ in range(n):`; body step paths carry the iteration: "4.17.0".
            for k in range(step['repeat']):
                self.run_steps(step['steps'], f'{path}.{k}.')
        elif 'setGradEnabled' in step:
            torch.set_grad_enabled(step['setGradEnabled'])
        elif 'inplace' in step:
            if step['inplace'] not in INPLACE:
                raise MalformedProgram(f"unknown in-place op {step['inplace']!r}")
            target = self.resolve(step['target'])
            args = [self.arg(a) for a in step.get('args', [])]
            if step['inplace'] == 'indexPut_':
                attrs = step['attrs']
                if attrs.get('accumulate', False):
                    target.index_put_(self.index(attrs['items']), args[0], accumulate=True)
                else:
                    target[self.index(attrs['items'])] = args[0]  # x[items] = v, as users write it
            else:
                getattr(target, step['inplace'])(*args)
        elif 'requiresGrad_' in step:
            self.resolve(step['requiresGrad_']).requires_grad_(step.get('flag', True))
        elif 'retainGrad' in step:
            self.resolve(step['retainGrad']).retain_grad()
        elif 'detach_' in step:
            self.resolve(step['detach_']).detach_()
        elif 'clearGrad' in step:
            self.resolve(step['clearGrad']).grad = None
        elif 'observe' in step:
            label = step.get('label', step['observe'])
            t = self.resolve(step['observe'])
            if step.get('item', False):
                self.observations.append({'label': label, 'value': to_json_data(t.item())})
            else:
                obs = observe(t, label)
                if t is not None and step.get('layout', False):
                    obs.update(layout(t))
                if t is not None and 'sameStorage' in step:
                    other = self.resolve(step['sameStorage'])
                    if other is None:
                        raise ValueError(f"'{step['sameStorage']}' is None")
                    obs['sharesStorage'] = t.storage().data_ptr() == other.storage().data_ptr()
                self.observations.append(obs)
        else:
            raise MalformedProgram(f'step {path} has no known step kind: {sorted(step)}')

    @staticmethod
    def op(name, args, attrs):
        if name in BINARY:
            return BINARY[name](args[0], args[1])  # same dispatch as writing `a * b` or `3 - t`
        if name == 'where':
            return torch.where(args[0], args[1], args[2])
        if name in ('cat', 'stack'):
            return getattr(torch, name)(list(args), **({'dim': attrs['dim']} if 'dim' in attrs else {}))
        a = args[0]
        if name == 'flip':
            return a.flip(attrs['dims'])
        if name == 'roll':
            return a.roll(attrs['shifts'], attrs['dims']) if 'dims' in attrs else a.roll(attrs['shifts'])
        if name == 'repeat':
            return a.repeat(attrs['sizes'])
        if name == 'neg':
            return -a
        if name in ('maximum', 'minimum'):
            return getattr(torch, name)(a, args[1])
        if name == 'clamp':
            # Only the bounds given are passed, as keywords; null is None (ClampBackward1 either way).
            return a.clamp(**{k: attrs[k] for k in ('min', 'max') if k in attrs})
        if name == 'clampMin':
            return a.clamp_min(attrs['min'])
        if name == 'clampMax':
            return a.clamp_max(attrs['max'])
        if name in UNARY or name in ('t', 'clone', 'detach') or (name in ('max', 'min') and 'dim' not in attrs):
            return getattr(a, name)()
        if name in ('sum', 'mean', 'prod', 'cumsum', 'cumprod', 'var', 'std', 'norm', 'amax', 'amin', 'argmax', 'argmin', 'max', 'min'):
            # Without dim this is `a.sum()` (SumBackward0); any dim, even (), gives SumBackward1.
            kwargs = {}
            if 'dim' in attrs:
                dim = attrs['dim']
                kwargs['dim'] = tuple(dim) if isinstance(dim, list) else dim
            if 'p' in attrs:
                kwargs['p'] = float('inf') if attrs['p'] == 'inf' else attrs['p']
            if 'unbiased' in attrs:
                kwargs['unbiased'] = attrs['unbiased']
            if 'keepdim' in attrs:
                kwargs['keepdim'] = attrs['keepdim']
            return getattr(a, name)(**kwargs)
        if name in POSITIONAL_VIEWS:
            return getattr(a, name)(*[attrs[k] for k in POSITIONAL_VIEWS[name]])
        if name == 'diagonal':
            return a.diagonal(**{k: attrs[k] for k in ('offset', 'dim1', 'dim2') if k in attrs})
        if name == 'unbind':
            return a.unbind(attrs.get('dim', 0))
        if name in ('split', 'chunk'):
            size = attrs['splitSize'] if name == 'split' else attrs['chunks']
            return getattr(a, name)(size, **({'dim': attrs['dim']} if 'dim' in attrs else {}))
        if name == 'contiguous':
            return a.contiguous()
        if name in ('reshape', 'view', 'expand'):
            return getattr(a, name)(tuple(attrs.get('shape', [])))  # a.reshape((2, 3)) == a.reshape(2, 3)
        if name == 'permute':
            return a.permute(tuple(attrs.get('dims', [])))
        if name == 'transpose':
            return a.transpose(attrs.get('dim0'), attrs.get('dim1'))
        if name == 'unsqueeze':
            return a.unsqueeze(attrs.get('dim'))
        if name == 'squeeze':
            return a.squeeze(attrs['dim']) if 'dim' in attrs else a.squeeze()  # SqueezeBackward1 / 0
        if name in ('softmax', 'logSoftmax'):
            return getattr(a, 'softmax' if name == 'softmax' else 'log_softmax')(attrs['dim'])
        if name == 'logsumexp':
            dim = attrs['dim']
            return a.logsumexp(tuple(dim) if isinstance(dim, list) else dim, keepdim=attrs.get('keepdim', False))
        if name in FUNCTIONAL:
            fn, keywords = FUNCTIONAL[name]
            return getattr(torch.nn.functional, fn)(a, **{py: attrs[js] for js, py in keywords if js in attrs})
        if name in INDEXING:
            # x.index_select(dim, i), x.gather(dim, i), x.scatter(dim, i, src or number), ...
            extra = {'alpha': attrs['alpha']} if 'alpha' in attrs else {}
            if name == 'maskedFill':
                return a.masked_fill(args[1], args[2])
            return getattr(a, INDEXING[name])(attrs['dim'], *args[1:], **extra)
        if name in LOSSES:
            kwargs = {k: attrs[k] for k in ('reduction', 'beta') if k in attrs}
            with warnings.catch_warnings():  # different sizes broadcast, with a warning on stderr
                warnings.simplefilter('ignore')
                return getattr(torch.nn.functional, LOSSES[name])(a, args[1], **kwargs)
        raise MalformedProgram(f'unknown op {name!r}')


def graph_flags(step):
    """retain_graph and create_graph, passed only when given so PyTorch's defaults apply
    (retain_graph defaults to create_graph)."""
    flags = {}
    if 'retainGraph' in step:
        flags['retain_graph'] = step['retainGraph']
    if 'createGraph' in step:
        flags['create_graph'] = step['createGraph']
    return flags


def observe(t, label):
    if t is None:  # a `.grad` that was never set, or a grad-step result for an unused input
        return {'label': label, 'none': True}
    # Some backward formulas (sgn's) return an efficient zero tensor, which has no storage to list:
    # its value is zeros of its shape and dtype.
    values = torch.zeros(t.shape, dtype=t.dtype).tolist() if t._is_zerotensor() else t.tolist()
    obs = {
        'label': label,
        'value': to_json_data(values),
        'shape': list(t.shape),
        'dtype': str(t.dtype).replace('torch.', ''),  # torch.float32 -> 'float32'
        'requiresGrad': t.requires_grad,
        'isLeaf': t.is_leaf,
        'gradFn': type(t.grad_fn).__name__ if t.grad_fn is not None else None,
    }
    if t.grad_fn is not None:
        obs['nextFunctions'] = [None if fn is None else type(fn).__name__ for fn, _ in t.grad_fn.next_functions]
    obs['repr'] = str(t)
    obs['version'] = t._version
    return obs


def layout(t):
    """How a tensor lies in its storage (an observe step with layout)."""
    return {'stride': list(t.stride()), 'storageOffset': t.storage_offset(),
            'isContiguous': t.is_contiguous(), 'isView': t._is_view()}


def run_program(program):
    """Executes one Program dict in a fresh environment and returns its Observations dict."""
    # A previous program (or a caller) may have left grad mode off with setGradEnabled(false).
    torch.set_grad_enabled(True)
    state = Execution(program)
    error = None
    try:
        state.run_steps(program['steps'], '')
    except StepFailed as failed:
        message = str(failed.error)
        error = {'step': failed.path, 'category': categorize(message), 'message': message}
    finally:
        torch.set_grad_enabled(True)  # and this one must not leak its grad mode either
    return {'observations': state.observations, 'error': error}


def main(argv):
    if torch is None:
        print('gradspec: PyTorch is not installed for this Python. On Debian: '
              'apt-get install -y python3-torch (then run with /usr/bin/python3)', file=sys.stderr)
        return 3
    if '--version' in argv:
        print(json.dumps({'name': 'pytorch', 'version': torch.__version__}))
        return 0
    programs = json.load(sys.stdin)
    results = []
    for program in programs:
        try:
            results.append(run_program(program))
        except MalformedProgram as e:
            print(f"gradspec: malformed program {program.get('id')!r}: {e}", file=sys.stderr)
            return 2
    # allow_nan=False: every non-finite value must already be spelled as a string.
    json.dump(results, sys.stdout, allow_nan=False)
    sys.stdout.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
