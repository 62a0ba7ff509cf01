"""A test engine: real PyTorch, except that sigmoid is the textbook formula in Python floats.

Run as `/usr/bin/python3 adapters/testing/naive-sigmoid/adapter.py`; it speaks the protocol of
spec/adapters.md through the PyTorch adapter. Each element is `1 / (1 + math.exp(-x))` computed in
Python's float64 and then stored in the tensor's dtype, the way a small hand-written engine does it.
That is wrong in two places only: `math.exp` raises OverflowError past 709.78, so sigmoid fails for
x < -709.78 (PyTorch gives 0), and in float32 the float64 tail survives the rounding (3.78e-44 at
-100 where PyTorch's float32 exp(100) overflows and the result is exactly 0). Everything else,
grad_fn names included, is PyTorch's, so only op.sigmoid can fail.
"""
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'pytorch'))
import adapter  # noqa: E402  (the path must be set first)
import run_program  # noqa: E402

torch = run_program.torch
pytorch_op = run_program.Execution.op


def naive_op(name, args, attrs):
    result = pytorch_op(name, args, attrs)
    if name != 'sigmoid':
        return result
    x = args[0].detach().to(torch.float64).flatten().tolist()
    naive = torch.tensor([1 / (1 + math.exp(-v)) for v in x], dtype=torch.float64)
    # Through .data: SigmoidBackward0 saved this result, so the gradient r(1 - r) uses the naive r.
    result.data.copy_(naive.reshape(result.shape).to(result.dtype))
    return result


def hello():
    message = pytorch_hello()
    message['name'] = 'naive-sigmoid'
    return message


if torch is not None:
    run_program.Execution.op = staticmethod(naive_op)
pytorch_hello = adapter.hello
adapter.hello = hello

if __name__ == '__main__':
    sys.exit(adapter.main())
