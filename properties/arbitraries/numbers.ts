import fc from 'fast-check';

/**
 * Ordinary-magnitude numbers on a 1/64 grid in [-3, 3]: exactly representable in float32 and
 * float64, so every engine sees the same inputs. (fc.double alone spends most samples near 0.)
 */
export const ordinary = (): fc.Arbitrary<number> => fc.integer({ min: -192, max: 192 }).map((i) => i / 64);

/** Like ordinary() but at least 1/4 away from zero: for inputs near kinks and poles. */
export const awayFromZero = (): fc.Arbitrary<number> =>
  fc.tuple(fc.boolean(), fc.integer({ min: 16, max: 192 })).map(([neg, i]) => (neg ? -i : i) / 64);

/** Small coefficients for polynomials: the range keeps degree-8 values within float64 comfort. */
export const coefficient = (): fc.Arbitrary<number> => fc.integer({ min: -40, max: 40 }).map((i) => i / 8);

export const valuesFor = (count: number): fc.Arbitrary<number[]> =>
  fc.array(ordinary(), { minLength: count, maxLength: count });
