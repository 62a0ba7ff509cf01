// Reproduces PyTorch 1.13's `repr(tensor)` (torch/_tensor_str.py) for dense CPU float, int64 and
// bool tensors with the default print options. Function names mirror the Python ones they follow.

import type { DType } from '../spec/program.ts';

export interface ReprInfo {
  dtype: DType;                   // float32, int64 and bool print no dtype suffix (except when empty); float64 does
  requiresGrad: boolean;          // a leaf that requires grad gets `requires_grad=True` (only when gradFn is null)
  gradFn: string | null;          // e.g. 'AddBackward0' gives `grad_fn=<AddBackward0>`
}

const PRECISION = 4;
const THRESHOLD = 1000;
const EDGEITEMS = 3;
const LINEWIDTH = 80;

// ---- Python float formatting ('{:.Nf}' and '{:.Ne}'), correctly rounded half-to-even ----

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** Exact decimal expansion of |x| (finite): |x| = BigInt(digits) / 10^scale. */
function exactDecimal(x: number): { digits: string; scale: number } {
  f64[0] = x;
  const bits = u64[0] ?? 0n;
  const biased = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  // |x| = mant * 2^exp; subnormals have no implicit leading bit.
  const mant = biased === 0 ? frac : frac | (1n << 52n);
  const exp = biased === 0 ? -1074 : biased - 1075;
  if (exp >= 0) return { digits: (mant << BigInt(exp)).toString(), scale: 0 };
  // m / 2^k = m * 5^k / 10^k, an exact finite decimal.
  return { digits: (mant * 5n ** BigInt(-exp)).toString(), scale: -exp };
}

/** The integer formed by the first `keep` digits of `digits` (keep may be <= 0),
 *  rounded half-to-even on everything that is dropped. */
function roundDigits(digits: string, keep: number): string {
  if (keep >= digits.length) return digits + '0'.repeat(keep - digits.length);
  const kept = keep > 0 ? digits.slice(0, keep) : '';
  const rest = keep < 0 ? '0'.repeat(-keep) + digits : digits.slice(keep);
  const first = rest[0] ?? '0';
  const tie = first === '5' && !/[1-9]/.test(rest.slice(1));
  const lastOdd = kept !== '' && Number(kept[kept.length - 1]) % 2 === 1;
  const up = first > '5' || (first === '5' && (!tie || lastOdd));
  return (BigInt(kept || '0') + (up ? 1n : 0n)).toString();
}

function signOf(x: number): string {
  return x < 0 || Object.is(x, -0) ? '-' : ''; // Python keeps the sign of -0.0 and of values rounding to 0
}

function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return 'nan'; // Python drops the sign of a NaN
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

/** Python's '{:.{p}f}'.format(x). */
function formatFixed(x: number, p: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  const { digits, scale } = exactDecimal(x);
  const n = roundDigits(digits, digits.length - scale + p).padStart(p + 1, '0');
  const body = p === 0 ? n : `${n.slice(0, n.length - p)}.${n.slice(n.length - p)}`;
  return signOf(x) + body;
}

/** Python's '{:.{p}e}'.format(x); the exponent has at least two digits. */
function formatSci(x: number, p: number): string {
  const special = nonFinite(x);
  if (special !== null) return special;
  let n: string;
  let e10: number;
  if (x === 0) {
    n = '0'.repeat(p + 1);
    e10 = 0;
  } else {
    const { digits, scale } = exactDecimal(x);
    n = roundDigits(digits, p + 1);
    e10 = digits.length - 1 - scale;
    if (n.length > p + 1) { // rounding carried into a new digit, e.g. 9.99996 -> 10.0000
      n = n.slice(0, p + 1);
      e10 += 1;
    }
  }
  const mantissa = p === 0 ? n : `${n[0]}.${n.slice(1)}`;
  const expStr = String(Math.abs(e10)).padStart(2, '0');
  return `${signOf(x)}${mantissa}e${e10 < 0 ? '-' : '+'}${expStr}`;
}

// ---- _Formatter: one layout decision for all displayed values ----

interface Formatter { width: number; format: (x: number) => string }

/** Non-floating dtypes print each value as Python's str() does (`-3`, `True`), right-aligned. */
function makeIntegerFormatter(shown: readonly number[], dtype: DType): Formatter {
  const str = dtype === 'bool' ? (x: number) => (x !== 0 ? 'True' : 'False') : (x: number) => BigInt(x).toString();
  const width = shown.reduce((w, v) => Math.max(w, str(v).length), 1);
  return { width, format: (x) => str(x).padStart(width) };
}

function makeFormatter(shown: readonly number[]): Formatter {
  const vals = shown.filter((v) => Number.isFinite(v) && v !== 0);
  let intMode = true;
  let sciMode = false;
  let width = 1;
  if (vals.length > 0) {
    let min = Infinity;
    let max = 0;
    for (const v of vals) { min = Math.min(min, Math.abs(v)); max = Math.max(max, Math.abs(v)); }
    intMode = vals.every((v) => v === Math.ceil(v));
    // Integers never trigger sci mode by being small; non-integers below 1e-4 do.
    sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    for (const v of vals) {
      const len = sciMode ? formatSci(v, PRECISION).length
        : intMode ? formatFixed(v, 0).length + 1 // +1 for the trailing '.'
        : formatFixed(v, PRECISION).length;
      width = Math.max(width, len);
    }
  }
  // nan/inf and zeros do not count towards the width, so they may come out wider than it.
  const format = (x: number): string => {
    let s: string;
    if (sciMode) s = formatSci(x, PRECISION);
    else if (intMode) s = formatFixed(x, 0) + (Number.isFinite(x) ? '.' : '');
    else s = formatFixed(x, PRECISION);
    return s.padStart(width);
  };
  return { width, format };
}

// ---- layout ----

/** Indices shown along a dimension of size n; -1 marks the ellipsis. */
function shownIndices(n: number, summarize: boolean): number[] {
  const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
  if (!summarize || n <= 2 * EDGEITEMS) return range(0, n);
  return [...range(0, EDGEITEMS), -1, ...range(n - EDGEITEMS, n)];
}

function strides(shape: readonly number[]): number[] {
  const s: number[] = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = (s[d + 1] ?? 1) * (shape[d + 1] ?? 1);
  return s;
}

/** Same selection as get_summarized_data: the values the formatter gets to see. */
function collectShown(values: ArrayLike<number>, shape: readonly number[], summarize: boolean): number[] {
  const st = strides(shape);
  const out: number[] = [];
  const walk = (dim: number, offset: number): void => {
    if (dim === shape.length) { out.push(values[offset] ?? NaN); return; }
    for (const i of shownIndices(shape[dim] ?? 0, summarize)) {
      if (i >= 0) walk(dim + 1, offset + i * (st[dim] ?? 0));
    }
  };
  walk(0, 0);
  return out;
}

function tensorStr(values: ArrayLike<number>, shape: readonly number[], indent: number, summarize: boolean, fmt: Formatter): string {
  const st = strides(shape);
  const rec = (dim: number, offset: number, indent: number): string => {
    const rank = shape.length - dim;
    if (rank === 0) return fmt.format(values[offset] ?? NaN);
    const idx = shownIndices(shape[dim] ?? 0, summarize);
    if (rank === 1) { // _vector_str: pack as many elements per line as fit in linewidth
      const data = idx.map((i) => (i < 0 ? ' ...' : fmt.format(values[offset + i] ?? NaN)));
      const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / (fmt.width + 2)));
      const lines: string[] = [];
      for (let i = 0; i < data.length; i += perLine) lines.push(data.slice(i, i + perLine).join(', '));
      return '[' + lines.join(',\n' + ' '.repeat(indent + 1)) + ']';
    }
    // Slices of a rank-r tensor are separated by r-1 newlines (blank lines from 3-D up).
    const slices = idx.map((i) => (i < 0 ? '...' : rec(dim + 1, offset + i * (st[dim] ?? 0), indent + 1)));
    return '[' + slices.join(',' + '\n'.repeat(rank - 1) + ' '.repeat(indent + 1)) + ']';
  };
  return rec(0, 0, indent);
}

/** _add_suffixes: a suffix that would overflow the line goes on its own line, aligned with the contents. */
function addSuffixes(str: string, suffixes: readonly string[], indent: number): string {
  let out = str;
  // Python's own arithmetic: 2 more than the real length of the last line.
  let lastLineLen = str.length - str.lastIndexOf('\n') + 1;
  for (const suffix of suffixes) {
    if (lastLineLen + suffix.length + 2 > LINEWIDTH) {
      out += ',\n' + ' '.repeat(indent) + suffix;
      lastLineLen = indent + suffix.length;
    } else {
      out += ', ' + suffix;
      lastLineLen += suffix.length + 2;
    }
  }
  return out + ')';
}

function pythonTuple(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

/** values: the elements in row-major order (already rounded to float32 for float32 tensors). */
export function formatTensor(values: ArrayLike<number>, shape: readonly number[], info: ReprInfo): string {
  const prefix = 'tensor(';
  const indent = prefix.length;
  const numel = shape.reduce((a, b) => a * b, 1);
  if (values.length !== numel) throw new Error(`formatTensor: ${values.length} values for shape [${shape.join(', ')}]`);
  const suffixes: string[] = [];
  let body: string;
  if (numel === 0) {
    // An empty tensor shows its shape unless it is 1-D, to match NumPy.
    if (shape.length !== 1) suffixes.push('size=' + pythonTuple(shape));
    body = '[]';
  } else {
    const summarize = numel > THRESHOLD;
    const shown = collectShown(values, shape, summarize);
    const fmt = info.dtype === 'int64' || info.dtype === 'bool' ? makeIntegerFormatter(shown, info.dtype) : makeFormatter(shown);
    body = tensorStr(values, shape, indent, summarize, fmt);
  }
  // int64 and bool count as default dtypes, except in an empty tensor, where nothing shows the dtype.
  if (info.dtype === 'float64' || (numel === 0 && info.dtype !== 'float32')) suffixes.push('dtype=torch.' + info.dtype);
  if (info.gradFn !== null) suffixes.push(`grad_fn=<${info.gradFn}>`);
  else if (info.requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(prefix + body, suffixes, indent);
}
