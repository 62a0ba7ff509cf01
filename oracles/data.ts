import { scalarValue, type Data } from '../spec/program.ts';

export { scalarValue };

/** A leaf's nested data as a shape and row-major float64 values (the oracles compute in float64). */
export function flattenData(data: Data): { shape: number[]; values: Float64Array } {
  const shape: number[] = [];
  for (let d: Data = data; Array.isArray(d); d = d[0] ?? 0) {
    shape.push(d.length);
    if (d.length === 0) break;
  }
  const out: number[] = [];
  const walk = (d: Data, depth: number): void => {
    if (!Array.isArray(d)) {
      if (depth !== shape.length) throw new Error('ragged tensor data');
      out.push(scalarValue(d));
      return;
    }
    if (d.length !== shape[depth]) throw new Error('ragged tensor data');
    for (const x of d) walk(x, depth + 1);
  };
  walk(data, 0);
  return { shape, values: Float64Array.from(out) };
}
