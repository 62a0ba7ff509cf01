"""gradspec's adapter kit for Python engines (spec/adapters.md). Standard library only.

Copy this file next to your adapter (`npx gradspec adapter init --lang python` does) and write a
subclass of `Engine` with one method per op and feature; this module does everything else:

- the protocol: `hello`, `run`, `shutdown`, one JSON message per line, non-finite numbers and -0
  spelled "nan", "inf", "-inf", "-0", and stdout kept clean (anything your engine prints while
  running goes to stderr, where gradspec shows it only if the process dies);
- the walk over a program's steps: names, `x.grad` references, error paths ("4", "4.1",
  "4.17.0" inside a repeat), blocks, repeat bodies, and stopping at the first error;
- grad mode: reset to enabled before every program, `noGrad`/`enableGrad` blocks restore the
  previous mode also when a step inside fails;
- error categories: raise `EngineError(category, message)` from your code, or let your engine's
  own exceptions through and list message patterns in `Engine.error_categories`;
- "not supported": every method of `Engine` raises `NotSupported` until you write it, and gradspec
  counts a program refused that way as not applicable (never as a pass or a failure);
- float32 for a float64-only engine: `round_float32` / `round_data_float32` (see below).

    import gradspec_adapter as kit

    class MyEngine(kit.Engine):
        name, version, profile = 'my-engine', '0.1.0', 'my-engine'
        dtypes, fields, features = ['float64'], ['value'], []
        def tensor(self, data, dtype, requires_grad): return my.Tensor(data, requires_grad)
        def value(self, t): return t.data
        def op_add(self, a, b): return a + b

    if __name__ == '__main__':
        kit.serve(MyEngine())
"""
import json
import math
import os
import re
import traceback
import struct
import sys

PROTOCOL = 1

ERROR_CATEGORIES = (
    'freed-graph', 'implicit-non-scalar', 'no-grad-fn', 'leaf-inplace', 'saved-modified',
    'non-leaf-requires-grad', 'input-no-grad', 'unused-input', 'shape-mismatch', 'invalid-argument',
)

OPS = (
    'neg', 'exp', 'log', 'sin', 'cos', 'tan', 'tanh', 'sigmoid', 'relu', 'sqrt', 'abs', 'reciprocal',
    'log1p', 'expm1', 'erf', 'atan', 'asin', 'acos', 'sinh', 'cosh', 'asinh', 'acosh', 'atanh', 'rsqrt', 'square',
    'sign', 'floor', 'ceil', 'round', 'trunc',
    'add', 'sub', 'mul', 'div', 'pow', 'matmul', 'sum', 'mean',
    'reshape', 'view', 'transpose', 't', 'permute', 'unsqueeze', 'squeeze', 'expand', 'clone', 'detach',
    'softplus', 'leakyRelu', 'elu', 'gelu', 'silu', 'softmax', 'logSoftmax', 'logsumexp',
    'mseLoss', 'l1Loss', 'smoothL1Loss', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits', 'nllLoss', 'crossEntropy',
    'gt', 'ge', 'lt', 'le', 'eq', 'ne', 'where',
    'prod', 'cumsum', 'cumprod', 'var', 'std', 'norm',
    'max', 'min', 'amax', 'amin', 'maximum', 'minimum', 'clamp', 'clampMin', 'clampMax',
    'argmax', 'argmin',
    'select', 'narrow', 'diagonal', 'unbind', 'split', 'chunk', 'index', 'contiguous',
    'cat', 'stack', 'flip', 'roll', 'repeat',
    'indexSelect', 'gather', 'scatter', 'scatterAdd', 'indexAdd', 'maskedFill',
)
INPLACE_OPS = ('add_', 'sub_', 'mul_', 'div_', 'zero_', 'fill_', 'copy_', 'indexPut_')

# Observation fields, and the Engine method that reads each (spec/program.md, "Observations").
FIELD_GETTERS = (
    ('value', 'value'), ('shape', 'shape'), ('dtype', 'dtype'), ('requiresGrad', 'requires_grad'),
    ('isLeaf', 'is_leaf'), ('gradFn', 'grad_fn'), ('nextFunctions', 'next_functions'),
    ('repr', 'tensor_repr'), ('version', 'version_counter'),
)
# Read only for an observe step with `layout`; sharesStorage for one with `sameStorage`.
LAYOUT_GETTERS = (
    ('stride', 'stride'), ('storageOffset', 'storage_offset'), ('isContiguous', 'is_contiguous'), ('isView', 'is_view'),
)


class NotSupported(Exception):
    """Raise it for what the engine cannot express at all (an op, a dtype, a feature). The step is
    reported as `invalid-argument` "not supported by <engine>: <what>", and gradspec counts the
    program as not applicable. A wrong answer must stay a wrong answer: never use it for that."""


class EngineError(Exception):
    """An error the engine reports for a step, with its category (one of ERROR_CATEGORIES)."""

    def __init__(self, category, message):
        if category not in ERROR_CATEGORIES:
            raise ValueError(f'unknown error category {category!r}; known: {", ".join(ERROR_CATEGORIES)}')
        super().__init__(message)
        self.category = category
        self.message = message


class MalformedProgram(Exception):
    """A program the format does not allow; the batch is answered with a protocol error."""


# ---------------------------------------------------------------------------------------------
# Data spelling and float32

SPELLED = {'nan': math.nan, 'inf': math.inf, '-inf': -math.inf, '-0': -0.0}


def decode(data):
    """Program data (nested lists, "nan"/"inf"/"-inf"/"-0" strings) as nested Python floats."""
    if isinstance(data, list):
        return [decode(d) for d in data]
    if isinstance(data, str):
        return SPELLED[data]
    return float(data)


def encode(value):
    """Nested numbers as observation data: non-finite values and negative zero as strings, the
    elements of a bool tensor as JSON booleans (spec/program.md: bool values are true and false)."""
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, bool):
        return value
    if not isinstance(value, (int, float)):
        try:
            value = float(value)  # numpy scalars, Decimals, your engine's scalar type
        except (TypeError, ValueError):
            raise TypeError(f'a value must be a number or nested lists of numbers, got {type(value).__name__}')
    if isinstance(value, float):
        if math.isnan(value):
            return 'nan'
        if math.isinf(value):
            return 'inf' if value > 0 else '-inf'
        if value == 0 and math.copysign(1.0, value) < 0:
            return '-0'
    return value


def round_float32(x):
    """The float32 nearest to a Python float (round half to even), as a Python float.

    For a float64-only engine that wants to declare `float32`: round every leaf, every op result
    and every gradient element with it, so each operation is rounded once, as a float32 engine
    does. Overflow gives an infinity of the same sign (struct refuses to pack it)."""
    try:
        return struct.unpack('f', struct.pack('f', x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


def round_data_float32(data):
    """round_float32 over nested lists."""
    if isinstance(data, list):
        return [round_data_float32(d) for d in data]
    return round_float32(data)


def shape_of(value):
    """The shape of nested lists: [] for a number, [2, 3] for two lists of three numbers."""
    shape = []
    while isinstance(value, (list, tuple)):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def flatten(value):
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in flatten(v)]
    return [value]


# ---------------------------------------------------------------------------------------------
# The engine: subclass it


def _not_supported(what):
    def method(self, *args, **kwargs):
        raise NotSupported(what)
    method.__name__ = what
    method.__doc__ = f'Not supported until you write it ({what}).'
    return method


class Engine:
    """Your engine's adapter. Tensors are whatever objects your engine uses; the kit never looks
    inside them. Every method raises NotSupported until you override it.

    Capabilities (class attributes) are sent in `hello`; claim only what works:
    `npx gradspec adapter probe --engine CMD` prints what the engine actually supports."""

    name = 'my-engine'
    version = '0.0.0'
    profile = 'my-engine'
    dtypes = ['float64']
    fields = ['value']
    features = []
    language = None  # 'pytorch' or 'json'; None leaves gradspec's default

    # Extra (regex, category) pairs for your engine's own exception messages, tried in order
    # against str(exception); the first match wins. Anything unmatched is 'invalid-argument'.
    error_categories = []

    # Read-only for engines: the grad mode the program is in (True = enabled). An engine without
    # its own grad mode can consult it in its ops; one with its own overrides set_grad_enabled.
    grad_enabled = True

    # --- tensors and reading them
    tensor = _not_supported('tensors')            # (data: nested floats, dtype: str, requires_grad: bool) -> tensor
    value = _not_supported('reading values')      # (t) -> float or nested lists of floats
    grad = _not_supported('.grad')                # (t) -> tensor or None

    def shape(self, t):
        """(t) -> list of ints; by default read from value(t)."""
        return shape_of(self.value(t))

    dtype = _not_supported('field dtype')         # (t) -> 'float32', 'float64', 'int64' or 'bool'
    requires_grad = _not_supported('field requiresGrad')
    is_leaf = _not_supported('field isLeaf')
    grad_fn = _not_supported('field gradFn')      # (t) -> class name such as 'AddBackward0', or None
    next_functions = _not_supported('field nextFunctions')
    tensor_repr = _not_supported('field repr')         # (t) -> what print(t) shows
    version_counter = _not_supported('field version')  # (t) -> the storage's version counter
    # Read only where an observe step asks (layout, sameStorage): PyTorch's t.stride(),
    # t.storage_offset(), t.is_contiguous(), t._is_view(), and whether two tensors share a storage.
    stride = _not_supported('field stride')       # (t) -> list of ints
    storage_offset = _not_supported('field storageOffset')  # (t) -> int
    is_contiguous = _not_supported('field isContiguous')    # (t) -> bool
    is_view = _not_supported('field isView')      # (t) -> bool
    shares_storage = _not_supported('field sharesStorage')  # (t, other) -> bool

    # --- steps other than ops
    backward = _not_supported('backward')         # (t, gradient: tensor or None, retain_graph, create_graph)
    autograd_backward = _not_supported('autograd.backward')  # (tensors, grad_tensors or None, retain_graph, create_graph)
    autograd_grad = _not_supported('autograd.grad')  # (outputs, inputs, grad_outputs or None, retain_graph, create_graph, allow_unused) -> list
    set_grad_enabled = _not_supported('grad modes')  # (enabled: bool)
    requires_grad_ = _not_supported('requires_grad_')  # (t, flag)
    retain_grad = _not_supported('retain_grad')   # (t)
    detach_ = _not_supported('detach_')           # (t)
    clear_grad = _not_supported('clearing .grad')  # (t): x.grad = None

    def gradient_like(self, data, like, default_dtype):
        """A backward step's gradient given as data: a tensor of `like`'s dtype (the program's
        default dtype if the engine cannot say), not requiring grad."""
        try:
            dtype = self.dtype(like)
        except NotSupported:
            dtype = default_dtype
        return self.tensor(data, dtype, False)


for _op in OPS:
    setattr(Engine, f'op_{_op}', _not_supported(_op))
for _op in INPLACE_OPS:
    setattr(Engine, f'inplace_{_op}', _not_supported(_op))
del _op


# Exceptions that are an engine's bugs, never its refusals (PyTorch raises IndexError, TypeError
# and ValueError on purpose, so those are taken as refusals).
_PROGRAMMING_ERRORS = (AttributeError, KeyError, NameError, AssertionError, RecursionError, ZeroDivisionError)


def categorize(engine, message):
    for pattern, category in engine.error_categories:
        if re.search(pattern, message):
            return category
    return 'invalid-argument'


# ---------------------------------------------------------------------------------------------
# Running programs


class _StepFailed(Exception):
    def __init__(self, path, error):
        super().__init__(path)
        self.path = path
        self.error = error


class _Execution:
    def __init__(self, engine, program):
        self.engine = engine
        self.dtype = program.get('dtype', 'float32')
        self.env = {}
        self.observations = []

    def resolve(self, ref):
        name, dot_grad = (ref[:-5], True) if ref.endswith('.grad') else (ref, False)
        if name not in self.env:
            raise MalformedProgram(f'reference to unbound name {name!r}')
        t = self.env[name]
        if not dot_grad:
            return t
        if t is None:
            raise EngineError('invalid-argument', f"'{name}' is None")
        return self.engine.grad(t)

    def tensor(self, ref):
        """A reference used as a tensor argument: None (a .grad never set) is refused."""
        t = self.resolve(ref)
        if t is None:
            raise EngineError('invalid-argument', f"'{ref}' is None")
        return t

    def arg(self, a):
        return self.tensor(a) if isinstance(a, str) else float(a)

    def refs(self, refs):
        return None if refs is None else [None if r is None else self.tensor(r) for r in refs]

    def index(self, items):
        """Index items as Python's brackets hold them: ints, None, Ellipsis, slice objects, lists
        of ints (an int64 index written in place) and engine tensors (for {"ref": name})."""
        def item(i):
            if i == '...':
                return Ellipsis
            if isinstance(i, dict):
                return self.tensor(i['ref']) if 'ref' in i else slice(i.get('start'), i.get('stop'), i.get('step'))
            return i
        return [item(i) for i in items]

    def bind(self, names, result):
        """`a, b = result`, with Python's own message when the counts differ."""
        values = list(result)
        if len(values) > len(names):
            raise EngineError('invalid-argument', f'too many values to unpack (expected {len(names)})')
        if len(values) < len(names):
            raise EngineError('invalid-argument', f'not enough values to unpack (expected {len(names)}, got {len(values)})')
        for name, value in zip(names, values):
            self.env[name] = value

    def set_mode(self, enabled):
        self.engine.set_grad_enabled(enabled)
        self.engine.grad_enabled = enabled

    def block(self, enabled, steps, path):
        previous = self.engine.grad_enabled
        self.set_mode(enabled)
        try:
            self.run_steps(steps, f'{path}.')
        finally:
            if self.engine.grad_enabled != previous:
                self.set_mode(previous)

    def run_steps(self, steps, prefix):
        for i, step in enumerate(steps):
            path = f'{prefix}{i}'
            if 'repeat' in step:  # a repeat step never fails itself; its body steps carry the iteration
                for k in range(step['repeat']):
                    self.run_steps(step['steps'], f'{path}.{k}.')
                continue
            try:
                self.run_step(step, path)
            except (_StepFailed, MalformedProgram):
                raise
            except Exception as e:  # what the engine refused, on its own or through NotSupported
                raise _StepFailed(path, e) from e

    def run_step(self, step, path):
        engine = self.engine
        if 'tensor' in step:
            self.env[step['let']] = engine.tensor(decode(step['tensor']), step.get('dtype', self.dtype),
                                                  step.get('requiresGrad', False))
        elif 'op' in step:
            op = step['op']
            if op not in OPS:
                # An op newer than this copy of the kit: the checks that use it are n/a, not faults.
                raise NotSupported(f'{op} (unknown to this copy of gradspec_adapter.py)')
            attrs = dict(step.get('attrs', {}))
            if 'items' in attrs:
                attrs['items'] = self.index(attrs['items'])
            result = getattr(engine, f'op_{op}')(*[self.arg(a) for a in step['args']], **attrs)
            if isinstance(step['let'], list):
                # A tuple result (max and min with a dim: values, indices; unbind, split, chunk) binds one name per element.
                self.bind(step['let'], result)
            else:
                self.env[step['let']] = result
        elif 'backward' in step:
            t = self.tensor(step['backward'])
            create = step.get('createGraph', False)
            gradient = step.get('gradient')
            if isinstance(gradient, dict):
                gradient = self.tensor(gradient['ref'])
            elif gradient is not None:
                gradient = engine.gradient_like(decode(gradient), t, self.dtype)
            engine.backward(t, gradient, step.get('retainGraph', create), create)
        elif 'autogradBackward' in step:
            create = step.get('createGraph', False)
            engine.autograd_backward(self.refs(step['autogradBackward']), self.refs(step.get('gradTensors')),
                                     step.get('retainGraph', create), create)
        elif 'grad' in step:
            g = step['grad']
            create = g.get('createGraph', False)
            results = engine.autograd_grad(self.refs(g['outputs']), self.refs(g['inputs']),
                                           self.refs(g.get('gradOutputs')), g.get('retainGraph', create),
                                           create, g.get('allowUnused', False))
            results = list(results)
            if len(results) != len(step['let']):
                raise RuntimeError(f'autograd_grad returned {len(results)} results for {len(step["let"])} inputs')
            for name, result in zip(step['let'], results):
                self.env[name] = result  # None for an unused input, with allow_unused
        elif 'noGrad' in step:
            self.block(False, step['noGrad'], path)
        elif 'enableGrad' in step:
            self.block(True, step['enableGrad'], path)
        elif 'setGradEnabled' in step:
            self.set_mode(bool(step['setGradEnabled']))
        elif 'inplace' in step:
            name = step['inplace']
            if name not in INPLACE_OPS:
                raise NotSupported(f'{name} (unknown to this copy of gradspec_adapter.py)')
            target = self.tensor(step['target'])
            args = [self.arg(a) for a in step.get('args', [])]
            if name == 'indexPut_':
                attrs = step['attrs']
                engine.inplace_indexPut_(target, args[0], self.index(attrs['items']), attrs.get('accumulate', False))
            else:
                getattr(engine, f'inplace_{name}')(target, *args)
        elif 'requiresGrad_' in step:
            engine.requires_grad_(self.tensor(step['requiresGrad_']), step.get('flag', True))
        elif 'retainGrad' in step:
            engine.retain_grad(self.tensor(step['retainGrad']))
        elif 'detach_' in step:
            engine.detach_(self.tensor(step['detach_']))
        elif 'clearGrad' in step:
            engine.clear_grad(self.tensor(step['clearGrad']))
        elif 'observe' in step:
            label = step.get('label', step['observe'])
            t = self.resolve(step['observe'])
            if step.get('item', False):
                if t is None:
                    raise EngineError('invalid-argument', f"'{step['observe']}' is None")
                elements = flatten(engine.value(t))
                if len(elements) != 1:
                    raise EngineError('invalid-argument', 'only one element tensors can be converted to Python scalars')
                self.observations.append({'label': label, 'value': encode(elements[0])})
            else:
                other = self.tensor(step['sameStorage']) if 'sameStorage' in step else None
                self.observations.append(observe(engine, t, label, step.get('layout', False), other))
        else:
            raise MalformedProgram(f'step {path} has no known step kind: {sorted(step)}')


def observe(engine, t, label, layout=False, other=None):
    """One observation. Declared fields must be readable (a NotSupported there fails the step);
    the others are reported when the engine can read them (never compared, but `gradspec adapter
    probe` sees them). The layout fields are read when `layout` is asked for, sharesStorage when
    there is an `other` tensor."""
    if t is None:
        return {'label': label, 'none': True}
    obs = {'label': label}
    getters = FIELD_GETTERS + (LAYOUT_GETTERS if layout else ()) + ((('sharesStorage', 'shares_storage'),) if other is not None else ())
    for field, getter in getters:
        if field == 'nextFunctions' and obs.get('gradFn', 0) is None:
            continue  # no grad_fn, no next functions
        try:
            value = getattr(engine, getter)(t, other) if field == 'sharesStorage' else getattr(engine, getter)(t)
        except Exception:
            if field in engine.fields or field == 'value':
                raise
            continue
        if field == 'value':
            value = encode(value)
        elif field == 'shape':
            value = [int(n) for n in value]
        elif field in ('requiresGrad', 'isLeaf'):
            value = bool(value)
        elif field == 'nextFunctions':
            value = [None if n is None else str(n) for n in value]
        elif field in ('version', 'storageOffset'):
            value = int(value)
        elif field == 'stride':
            value = [int(n) for n in value]
        elif field in ('isContiguous', 'isView', 'sharesStorage'):
            value = bool(value)
        obs[field] = value
    return obs


def run_program(engine, program):
    """Runs one program dict; returns its Observations dict."""
    if not engine.grad_enabled:  # a previous program may have left grad mode off
        try:
            engine.set_grad_enabled(True)
        finally:
            engine.grad_enabled = True
    execution = _Execution(engine, program)
    error = None
    try:
        execution.run_steps(program['steps'], '')
    except _StepFailed as failed:
        e = failed.error
        if isinstance(e, EngineError):
            error = {'category': e.category, 'message': e.message}
        elif isinstance(e, NotSupported):
            error = {'category': 'invalid-argument', 'message': f'not supported by {engine.name}: {e}'}
        elif isinstance(e, _PROGRAMMING_ERRORS):
            # Not a refusal an engine means to make: a bug. Say what and where, so that the
            # report shows a crash as a crash (the category alone may match what was expected).
            where = traceback.extract_tb(e.__traceback__)[-1]
            message = f'{type(e).__name__}: {e} (a crash in {where.name}, {os.path.basename(where.filename)}:{where.lineno})'
            error = {'category': categorize(engine, message), 'message': message}
        else:
            message = str(e) or type(e).__name__
            error = {'category': categorize(engine, message), 'message': message}
        error = {'step': failed.path, **error}
    finally:
        if not engine.grad_enabled:
            try:
                engine.set_grad_enabled(True)
            finally:
                engine.grad_enabled = True
    return {'observations': execution.observations, 'error': error}


# ---------------------------------------------------------------------------------------------
# The protocol


def hello(engine):
    capabilities = {'dtypes': list(engine.dtypes), 'fields': list(engine.fields),
                    'features': list(engine.features), 'profile': engine.profile}
    if engine.language:
        capabilities['language'] = engine.language
    return {'type': 'hello', 'protocol': PROTOCOL, 'name': engine.name, 'version': str(engine.version),
            'capabilities': capabilities}


def serve(engine, stdin=None, stdout=None):
    """Answers gradspec's messages until `shutdown` or the end of stdin; returns the exit code.
    While it runs, sys.stdout is stderr: a print() in your engine cannot corrupt the protocol."""
    stdin = stdin or sys.stdin
    out = stdout or sys.stdout
    sys.stdout = sys.stderr

    def send(message):
        try:
            line = json.dumps(message, allow_nan=False)  # non-finite values are already spelled
        except (TypeError, ValueError) as e:
            line = json.dumps({'type': 'error', 'id': message.get('id'),
                               'message': f'the adapter could not write its answer as JSON: {e}'})
        out.write(line + '\n')
        out.flush()

    for line in stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError as e:
            send({'type': 'error', 'id': None, 'message': f'not JSON: {e}'})
            continue
        kind = message.get('type')
        if kind == 'hello':
            send(hello(engine))
        elif kind == 'run':
            try:
                results = [run_program(engine, p) for p in message['programs']]
                send({'type': 'observations', 'id': message['id'], 'results': results})
            except Exception as e:  # a malformed program, or a bug in the adapter
                send({'type': 'error', 'id': message.get('id'), 'message': f'{type(e).__name__}: {e}'})
        elif kind == 'shutdown':
            return 0
        else:
            send({'type': 'error', 'id': message.get('id'), 'message': f'unknown message type {kind!r}'})
    return 0
