import { describe, expect, test } from 'vitest';
import { formatTensor, type ReprInfo } from './repr.ts';

// Every expected string below was printed by PyTorch 1.13 (`repr(t)` with default print options).

const plain: ReprInfo = { dtype: 'float32', requiresGrad: false, gradFn: null };
const double: ReprInfo = { dtype: 'float64', requiresGrad: false, gradFn: null };
/** float32 tensors store float32-rounded values. */
const f32 = (xs: number[]): number[] => xs.map(Math.fround);
const arange = (n: number, f: (i: number) => number = (i) => i): number[] => Array.from({ length: n }, (_, i) => f(i));

describe('seed', () => {
  test('tensor.repr prints a 0-d result with its grad_fn', () => {
    expect(formatTensor([63], [], { dtype: 'float32', requiresGrad: true, gradFn: 'AddBackward0' })).toBe('tensor(63., grad_fn=<AddBackward0>)');
  });
  test('tensor.repr prints a 0-d integral float with a trailing point', () => {
    expect(formatTensor([93], [], plain)).toBe('tensor(93.)');
  });
  test('tensor.repr marks a leaf that requires grad with requires_grad=True', () => {
    expect(formatTensor([1, 2, 3, 3, 2, 1], [2, 3], { dtype: 'float32', requiresGrad: true, gradFn: null })).toBe(
      'tensor([[1., 2., 3.],\n' +
      '        [3., 2., 1.]], requires_grad=True)');
  });
  test('tensor.repr pads integral values to the widest one', () => {
    expect(formatTensor([5, 8, 11, 11, 8, 5], [2, 3], { dtype: 'float32', requiresGrad: true, gradFn: 'AddBackward0' })).toBe(
      'tensor([[ 5.,  8., 11.],\n' +
      '        [11.,  8.,  5.]], grad_fn=<AddBackward0>)');
  });
  test('tensor.repr pads three-digit integral values', () => {
    expect(formatTensor([50, 128, 242, 242, 128, 50], [2, 3], { dtype: 'float32', requiresGrad: true, gradFn: 'MulBackward0' })).toBe(
      'tensor([[ 50., 128., 242.],\n' +
      '        [242., 128.,  50.]], grad_fn=<MulBackward0>)');
  });
});

describe('modes', () => {
  test('tensor.repr prints non-integers in fixed mode with 4 decimals', () => {
    expect(formatTensor(f32([0.1, 0.25]), [2], plain)).toBe('tensor([0.1000, 0.2500])');
  });
  test('tensor.repr adds dtype=torch.float64 for double tensors', () => {
    expect(formatTensor([0.1, 0.25], [2], double)).toBe('tensor([0.1000, 0.2500], dtype=torch.float64)');
  });
  test('tensor.repr switches to sci mode when the smallest non-integer is below 1e-4', () => {
    expect(formatTensor(f32([1e-5, 123456]), [2], plain)).toBe('tensor([1.0000e-05, 1.2346e+05])');
  });
  test('tensor.repr switches to sci mode when max/min exceeds 1000', () => {
    expect(formatTensor(f32([1e10, 1]), [2], plain)).toBe('tensor([1.0000e+10, 1.0000e+00])');
  });
  test('tensor.repr switches integral values to sci mode above 1e8', () => {
    expect(formatTensor(f32([1e9, 1]), [2], plain)).toBe('tensor([1.0000e+09, 1.0000e+00])');
  });
  test('tensor.repr switches integral values to sci mode when max/min exceeds 1000', () => {
    expect(formatTensor([5000, 1, -2], [3], plain)).toBe('tensor([ 5.0000e+03,  1.0000e+00, -2.0000e+00])');
  });
  test('tensor.repr keeps integral values in int mode at exactly 1e8', () => {
    expect(formatTensor([1e8, 1e6], [2], plain)).toBe('tensor([100000000.,   1000000.])');
  });
  test('tensor.repr ignores zeros when choosing the mode', () => {
    expect(formatTensor([3, 0], [2], plain)).toBe('tensor([3., 0.])');
  });
  test('tensor.repr prints an all-zero tensor in int mode', () => {
    expect(formatTensor([0, 0, 0, 0], [2, 2], plain)).toBe(
      'tensor([[0., 0.],\n' +
      '        [0., 0.]])');
  });
  test('tensor.repr keeps the sign of negative zero', () => {
    expect(formatTensor([-0, 0], [2], plain)).toBe('tensor([-0., 0.])');
  });
  test('tensor.repr prints a 0-d negative zero', () => {
    expect(formatTensor([-0], [], plain)).toBe('tensor(-0.)');
  });
  test('tensor.repr pads negative values in sci mode', () => {
    expect(formatTensor([-1.5e-7, 2.25, -3e4], [3], double)).toBe('tensor([-1.5000e-07,  2.2500e+00, -3.0000e+04], dtype=torch.float64)');
  });
  test('tensor.repr prints a subnormal double with a three-digit exponent', () => {
    expect(formatTensor([5e-324, 1], [2], double)).toBe('tensor([4.9407e-324,  1.0000e+00], dtype=torch.float64)');
  });
});

describe('nonfinite', () => {
  test('tensor.repr prints nan and inf without a trailing point in int mode', () => {
    expect(formatTensor([1, NaN, Infinity, -Infinity], [4], plain)).toBe('tensor([1., nan, inf, -inf])');
  });
  test('tensor.repr pads nan and inf to the width of the finite values', () => {
    expect(formatTensor([100, NaN, -Infinity], [3], plain)).toBe('tensor([100.,  nan, -inf])');
  });
  test('tensor.repr pads nan and inf in fixed mode', () => {
    expect(formatTensor([1.5, NaN, -Infinity], [3], plain)).toBe('tensor([1.5000,    nan,   -inf])');
  });
  test('tensor.repr pads nan and inf in sci mode', () => {
    expect(formatTensor(f32([1e-5, NaN, Infinity]), [3], plain)).toBe('tensor([1.0000e-05,        nan,        inf])');
  });
  test('tensor.repr falls back to int mode when no value is finite and nonzero', () => {
    expect(formatTensor([NaN, -Infinity, 0], [3], plain)).toBe('tensor([nan, -inf, 0.])');
  });
  test('tensor.repr prints a 0-d nan', () => {
    expect(formatTensor([NaN], [], plain)).toBe('tensor(nan)');
  });
  test('tensor.repr prints a 0-d double leaf with both suffixes', () => {
    expect(formatTensor([2.5], [], { dtype: 'float64', requiresGrad: true, gradFn: null })).toBe('tensor(2.5000, dtype=torch.float64, requires_grad=True)');
  });
});

describe('rounding', () => {
  test('tensor.repr rounds an exact tie in fixed mode half to even', () => {
    expect(formatTensor([1.03125, 2], [2], plain)).toBe('tensor([1.0312, 2.0000])');
  });
  test('tensor.repr rounds several exact ties in fixed mode half to even', () => {
    expect(formatTensor([0.03125, 0.09375, 1.03125], [3], plain)).toBe('tensor([0.0312, 0.0938, 1.0312])');
  });
  test('tensor.repr prints five significant digits exactly in sci mode', () => {
    expect(formatTensor([0.125, 1000.5], [2], plain)).toBe('tensor([1.2500e-01, 1.0005e+03])');
  });
  test('tensor.repr rounds an exact tie in sci mode half to even', () => {
    expect(formatTensor([0.125, 1000.25], [2], plain)).toBe('tensor([1.2500e-01, 1.0002e+03])');
  });
  test('tensor.repr rounds the float32 value, not the decimal literal', () => {
    expect(formatTensor(f32([0.0000103125, 2]), [2], plain)).toBe('tensor([1.0313e-05, 2.0000e+00])');
  });
  test('tensor.repr rounds an exact double tie in sci mode half to even', () => {
    expect(formatTensor([1.03125, 2 ** -20], [2], double)).toBe('tensor([1.0312e+00, 9.5367e-07], dtype=torch.float64)');
  });
  test('tensor.repr carries a rounding into a new integer digit in fixed mode', () => {
    expect(formatTensor([9.99996, 0.99999], [2], double)).toBe('tensor([10.0000,  1.0000], dtype=torch.float64)');
  });
  test('tensor.repr carries a rounding into the exponent in sci mode', () => {
    expect(formatTensor([9.99996e-7, 1], [2], double)).toBe('tensor([1.0000e-06, 1.0000e+00], dtype=torch.float64)');
  });
});

describe('layout', () => {
  test('tensor.repr prints a 1-D empty tensor without a size', () => {
    expect(formatTensor([], [0], plain)).toBe('tensor([])');
  });
  test('tensor.repr prints the size of a 2-D empty tensor', () => {
    expect(formatTensor([], [2, 0], plain)).toBe('tensor([], size=(2, 0))');
  });
  test('tensor.repr orders size, dtype and requires_grad suffixes of an empty tensor', () => {
    expect(formatTensor([], [0, 3], { dtype: 'float64', requiresGrad: true, gradFn: null })).toBe('tensor([], size=(0, 3), dtype=torch.float64, requires_grad=True)');
  });
  test('tensor.repr separates 3-D slices with a blank line', () => {
    expect(formatTensor(arange(12, (i) => i / 4), [2, 2, 3], plain)).toBe(
      'tensor([[[0.0000, 0.2500, 0.5000],\n' +
      '         [0.7500, 1.0000, 1.2500]],\n' +
      '\n' +
      '        [[1.5000, 1.7500, 2.0000],\n' +
      '         [2.2500, 2.5000, 2.7500]]])');
  });
  test('tensor.repr separates 4-D slices with two blank lines', () => {
    expect(formatTensor(arange(8, (i) => i - 3), [2, 1, 2, 2], plain)).toBe(
      'tensor([[[[-3., -2.],\n' +
      '          [-1.,  0.]]],\n' +
      '\n' +
      '\n' +
      '        [[[ 1.,  2.],\n' +
      '          [ 3.,  4.]]]])');
  });
  test('tensor.repr wraps a long row at 80 columns', () => {
    expect(formatTensor(arange(30, (i) => i * 1.5 - 7), [30], plain)).toBe(
      'tensor([-7.0000, -5.5000, -4.0000, -2.5000, -1.0000,  0.5000,  2.0000,  3.5000,\n' +
      '         5.0000,  6.5000,  8.0000,  9.5000, 11.0000, 12.5000, 14.0000, 15.5000,\n' +
      '        17.0000, 18.5000, 20.0000, 21.5000, 23.0000, 24.5000, 26.0000, 27.5000,\n' +
      '        29.0000, 30.5000, 32.0000, 33.5000, 35.0000, 36.5000])');
  });
  test('tensor.repr wraps nested rows with deeper indentation', () => {
    expect(formatTensor(arange(40, (i) => i * 0.25), [2, 20], plain)).toBe(
      'tensor([[0.0000, 0.2500, 0.5000, 0.7500, 1.0000, 1.2500, 1.5000, 1.7500, 2.0000,\n' +
      '         2.2500, 2.5000, 2.7500, 3.0000, 3.2500, 3.5000, 3.7500, 4.0000, 4.2500,\n' +
      '         4.5000, 4.7500],\n' +
      '        [5.0000, 5.2500, 5.5000, 5.7500, 6.0000, 6.2500, 6.5000, 6.7500, 7.0000,\n' +
      '         7.2500, 7.5000, 7.7500, 8.0000, 8.2500, 8.5000, 8.7500, 9.0000, 9.2500,\n' +
      '         9.5000, 9.7500]])');
  });
  test('tensor.repr wraps rows of a 3-D tensor with wide values', () => {
    expect(formatTensor(arange(24, (i) => i * 1000.5), [1, 2, 12], plain)).toBe(
      'tensor([[[    0.0000,  1000.5000,  2001.0000,  3001.5000,  4002.0000,\n' +
      '           5002.5000,  6003.0000,  7003.5000,  8004.0000,  9004.5000,\n' +
      '          10005.0000, 11005.5000],\n' +
      '         [12006.0000, 13006.5000, 14007.0000, 15007.5000, 16008.0000,\n' +
      '          17008.5000, 18009.0000, 19009.5000, 20010.0000, 21010.5000,\n' +
      '          22011.0000, 23011.5000]]])');
  });
});

describe('summarization', () => {
  test('tensor.repr summarizes more than 1000 elements with edge items', () => {
    expect(formatTensor(arange(2000), [2000], plain)).toBe(
      'tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n' +
      '        1.9990e+03])');
  });
  test('tensor.repr summarizes each row of a large 2-D tensor', () => {
    expect(formatTensor(arange(2000), [2, 1000], plain)).toBe(
      'tensor([[0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 9.9700e+02, 9.9800e+02,\n' +
      '         9.9900e+02],\n' +
      '        [1.0000e+03, 1.0010e+03, 1.0020e+03,  ..., 1.9970e+03, 1.9980e+03,\n' +
      '         1.9990e+03]])');
  });
  test('tensor.repr summarizes every long dimension of a 3-D tensor', () => {
    expect(formatTensor(arange(2400, (i) => i / 8), [20, 10, 12], plain)).toBe(
      'tensor([[[0.0000e+00, 1.2500e-01, 2.5000e-01,  ..., 1.1250e+00,\n' +
      '          1.2500e+00, 1.3750e+00],\n' +
      '         [1.5000e+00, 1.6250e+00, 1.7500e+00,  ..., 2.6250e+00,\n' +
      '          2.7500e+00, 2.8750e+00],\n' +
      '         [3.0000e+00, 3.1250e+00, 3.2500e+00,  ..., 4.1250e+00,\n' +
      '          4.2500e+00, 4.3750e+00],\n' +
      '         ...,\n' +
      '         [1.0500e+01, 1.0625e+01, 1.0750e+01,  ..., 1.1625e+01,\n' +
      '          1.1750e+01, 1.1875e+01],\n' +
      '         [1.2000e+01, 1.2125e+01, 1.2250e+01,  ..., 1.3125e+01,\n' +
      '          1.3250e+01, 1.3375e+01],\n' +
      '         [1.3500e+01, 1.3625e+01, 1.3750e+01,  ..., 1.4625e+01,\n' +
      '          1.4750e+01, 1.4875e+01]],\n' +
      '\n' +
      '        [[1.5000e+01, 1.5125e+01, 1.5250e+01,  ..., 1.6125e+01,\n' +
      '          1.6250e+01, 1.6375e+01],\n' +
      '         [1.6500e+01, 1.6625e+01, 1.6750e+01,  ..., 1.7625e+01,\n' +
      '          1.7750e+01, 1.7875e+01],\n' +
      '         [1.8000e+01, 1.8125e+01, 1.8250e+01,  ..., 1.9125e+01,\n' +
      '          1.9250e+01, 1.9375e+01],\n' +
      '         ...,\n' +
      '         [2.5500e+01, 2.5625e+01, 2.5750e+01,  ..., 2.6625e+01,\n' +
      '          2.6750e+01, 2.6875e+01],\n' +
      '         [2.7000e+01, 2.7125e+01, 2.7250e+01,  ..., 2.8125e+01,\n' +
      '          2.8250e+01, 2.8375e+01],\n' +
      '         [2.8500e+01, 2.8625e+01, 2.8750e+01,  ..., 2.9625e+01,\n' +
      '          2.9750e+01, 2.9875e+01]],\n' +
      '\n' +
      '        [[3.0000e+01, 3.0125e+01, 3.0250e+01,  ..., 3.1125e+01,\n' +
      '          3.1250e+01, 3.1375e+01],\n' +
      '         [3.1500e+01, 3.1625e+01, 3.1750e+01,  ..., 3.2625e+01,\n' +
      '          3.2750e+01, 3.2875e+01],\n' +
      '         [3.3000e+01, 3.3125e+01, 3.3250e+01,  ..., 3.4125e+01,\n' +
      '          3.4250e+01, 3.4375e+01],\n' +
      '         ...,\n' +
      '         [4.0500e+01, 4.0625e+01, 4.0750e+01,  ..., 4.1625e+01,\n' +
      '          4.1750e+01, 4.1875e+01],\n' +
      '         [4.2000e+01, 4.2125e+01, 4.2250e+01,  ..., 4.3125e+01,\n' +
      '          4.3250e+01, 4.3375e+01],\n' +
      '         [4.3500e+01, 4.3625e+01, 4.3750e+01,  ..., 4.4625e+01,\n' +
      '          4.4750e+01, 4.4875e+01]],\n' +
      '\n' +
      '        ...,\n' +
      '\n' +
      '        [[2.5500e+02, 2.5512e+02, 2.5525e+02,  ..., 2.5612e+02,\n' +
      '          2.5625e+02, 2.5638e+02],\n' +
      '         [2.5650e+02, 2.5662e+02, 2.5675e+02,  ..., 2.5762e+02,\n' +
      '          2.5775e+02, 2.5788e+02],\n' +
      '         [2.5800e+02, 2.5812e+02, 2.5825e+02,  ..., 2.5912e+02,\n' +
      '          2.5925e+02, 2.5938e+02],\n' +
      '         ...,\n' +
      '         [2.6550e+02, 2.6562e+02, 2.6575e+02,  ..., 2.6662e+02,\n' +
      '          2.6675e+02, 2.6688e+02],\n' +
      '         [2.6700e+02, 2.6712e+02, 2.6725e+02,  ..., 2.6812e+02,\n' +
      '          2.6825e+02, 2.6838e+02],\n' +
      '         [2.6850e+02, 2.6862e+02, 2.6875e+02,  ..., 2.6962e+02,\n' +
      '          2.6975e+02, 2.6988e+02]],\n' +
      '\n' +
      '        [[2.7000e+02, 2.7012e+02, 2.7025e+02,  ..., 2.7112e+02,\n' +
      '          2.7125e+02, 2.7138e+02],\n' +
      '         [2.7150e+02, 2.7162e+02, 2.7175e+02,  ..., 2.7262e+02,\n' +
      '          2.7275e+02, 2.7288e+02],\n' +
      '         [2.7300e+02, 2.7312e+02, 2.7325e+02,  ..., 2.7412e+02,\n' +
      '          2.7425e+02, 2.7438e+02],\n' +
      '         ...,\n' +
      '         [2.8050e+02, 2.8062e+02, 2.8075e+02,  ..., 2.8162e+02,\n' +
      '          2.8175e+02, 2.8188e+02],\n' +
      '         [2.8200e+02, 2.8212e+02, 2.8225e+02,  ..., 2.8312e+02,\n' +
      '          2.8325e+02, 2.8338e+02],\n' +
      '         [2.8350e+02, 2.8362e+02, 2.8375e+02,  ..., 2.8462e+02,\n' +
      '          2.8475e+02, 2.8488e+02]],\n' +
      '\n' +
      '        [[2.8500e+02, 2.8512e+02, 2.8525e+02,  ..., 2.8612e+02,\n' +
      '          2.8625e+02, 2.8638e+02],\n' +
      '         [2.8650e+02, 2.8662e+02, 2.8675e+02,  ..., 2.8762e+02,\n' +
      '          2.8775e+02, 2.8788e+02],\n' +
      '         [2.8800e+02, 2.8812e+02, 2.8825e+02,  ..., 2.8912e+02,\n' +
      '          2.8925e+02, 2.8938e+02],\n' +
      '         ...,\n' +
      '         [2.9550e+02, 2.9562e+02, 2.9575e+02,  ..., 2.9662e+02,\n' +
      '          2.9675e+02, 2.9688e+02],\n' +
      '         [2.9700e+02, 2.9712e+02, 2.9725e+02,  ..., 2.9812e+02,\n' +
      '          2.9825e+02, 2.9838e+02],\n' +
      '         [2.9850e+02, 2.9862e+02, 2.9875e+02,  ..., 2.9962e+02,\n' +
      '          2.9975e+02, 2.9988e+02]]])');
  });
  test('tensor.repr chooses the mode from the shown values only', () => {
    expect(formatTensor(arange(2000, (i) => (i === 1000 ? 0.5 : 7)), [2000], plain)).toBe('tensor([7., 7., 7.,  ..., 7., 7., 7.])');
  });
});

describe('suffixes', () => {
  test('tensor.repr keeps suffixes on the short last line of a wrapped tensor', () => {
    expect(formatTensor(new Array<number>(16).fill(12345.678), [2, 8], { dtype: 'float64', requiresGrad: true, gradFn: 'MulBackward0' })).toBe(
      'tensor([[12345.6780, 12345.6780, 12345.6780, 12345.6780, 12345.6780, 12345.6780,\n' +
      '         12345.6780, 12345.6780],\n' +
      '        [12345.6780, 12345.6780, 12345.6780, 12345.6780, 12345.6780, 12345.6780,\n' +
      '         12345.6780, 12345.6780]], dtype=torch.float64, grad_fn=<MulBackward0>)');
  });
  test('tensor.repr moves suffixes that overflow 80 columns onto their own line', () => {
    expect(formatTensor(new Array<number>(8).fill(1.5), [8], { dtype: 'float64', requiresGrad: true, gradFn: 'MulBackward0' })).toBe(
      'tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000],\n' +
      '       dtype=torch.float64, grad_fn=<MulBackward0>)');
  });
  test('tensor.repr moves only the suffix that overflows', () => {
    expect(formatTensor(new Array<number>(4).fill(1.5), [4], { dtype: 'float64', requiresGrad: true, gradFn: 'MulBackward0' })).toBe(
      'tensor([1.5000, 1.5000, 1.5000, 1.5000], dtype=torch.float64,\n' +
      '       grad_fn=<MulBackward0>)');
  });
  test('tensor.repr wraps a suffix that would end exactly at column 80', () => {
    expect(formatTensor(new Array<number>(8).fill(100), [8], { dtype: 'float32', requiresGrad: true, gradFn: 'AddBackward0' })).toBe(
      'tensor([100., 100., 100., 100., 100., 100., 100., 100.],\n' +
      '       grad_fn=<AddBackward0>)');
  });
  test('tensor.repr keeps a suffix on the line when it fits', () => {
    expect(formatTensor(new Array<number>(7).fill(100), [7], { dtype: 'float32', requiresGrad: true, gradFn: 'AddBackward0' })).toBe('tensor([100., 100., 100., 100., 100., 100., 100.], grad_fn=<AddBackward0>)');
  });
});
