import fc from 'fast-check';
import { expect, test } from 'vitest';
import { distinctAlong, INDEX_PROPERTIES } from './indexing.ts';
import { describeProperties } from './vitest.ts';

describeProperties('gather family properties', INDEX_PROPERTIES);

test('op.scatter the scatter generator writes each place at most once per line', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 3 }), fc.nat({ max: 2 }), fc.array(fc.nat({ max: 99 }), { minLength: 27, maxLength: 27 }), (shape, k, keys) => {
    const dim = k % shape.length;
    const ishape = shape.map((s, d) => (d === dim ? Math.min(s, 1 + (k % s)) : s));
    const idx = distinctAlong(ishape, dim, shape[dim]!, keys);
    const [m, inner] = [ishape[dim]!, ishape.slice(dim + 1).reduce((a, b) => a * b, 1)];
    const outer = ishape.slice(0, dim).reduce((a, b) => a * b, 1);
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const line = Array.from({ length: m }, (_, i) => idx[(o * m + i) * inner + j]!);
        expect(new Set(line).size).toBe(m);
        expect(line.every((v) => v >= 0 && v < shape[dim]!)).toBe(true);
      }
    }
  }), { seed: 1 });
});
