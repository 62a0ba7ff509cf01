"""gradspec's adapter for real PyTorch: the line-delimited JSON protocol of spec/adapters.md.

Run as `/usr/bin/python3 adapters/pytorch/adapter.py`. It reads one JSON message per line on
stdin and answers one per line on stdout; one process serves a whole run. Programs are executed
by run_program.py, the same executor the fixture tests use.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_program  # noqa: E402  (the path must be set first)

PROTOCOL = 1
FIELDS = ['value', 'shape', 'dtype', 'requiresGrad', 'isLeaf', 'gradFn', 'nextFunctions', 'repr', 'version',
          'stride', 'storageOffset', 'isContiguous', 'isView', 'sharesStorage']
FEATURES = ['accumulate', 'retain-graph', 'create-graph', 'no-grad', 'detach', 'inplace', 'errors']


def send(message):
    # allow_nan=False: every non-finite value is already spelled as a string.
    sys.stdout.write(json.dumps(message, allow_nan=False) + '\n')
    sys.stdout.flush()


def hello():
    torch = run_program.torch
    return {
        'type': 'hello', 'protocol': PROTOCOL, 'name': 'pytorch', 'version': torch.__version__,
        'capabilities': {
            'dtypes': ['float32', 'float64', 'int64', 'bool'], 'fields': FIELDS, 'features': FEATURES,
            'profile': 'pytorch-' + '.'.join(torch.__version__.split('.')[:2]),
            'language': 'pytorch',
        },
    }


def main():
    if run_program.torch is None:
        print('gradspec: PyTorch is not installed for this Python. On Debian: '
              'apt-get install -y python3-torch (then run with /usr/bin/python3)', file=sys.stderr)
        return 3
    for line in sys.stdin:
        if not line.strip():
            continue
        message = json.loads(line)
        kind = message.get('type')
        if kind == 'hello':
            send(hello())
        elif kind == 'run':
            try:
                results = [run_program.run_program(p) for p in message['programs']]
                send({'type': 'observations', 'id': message['id'], 'results': results})
            except Exception as e:  # a malformed program or a bug here: the harness reports it
                send({'type': 'error', 'id': message.get('id'), 'message': f'{type(e).__name__}: {e}'})
        elif kind == 'shutdown':
            return 0
        else:
            send({'type': 'error', 'id': message.get('id'), 'message': f'unknown message type {kind!r}'})
    return 0


if __name__ == '__main__':
    sys.exit(main())
