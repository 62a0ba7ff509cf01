import fc from 'fast-check';

/** Shapes of rank 0 to 3 with dims 1 to 3: small enough for symbolic expansion and full Jacobians. */
export const shapes = (maxRank = 3): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 0, maxLength: maxRank });

/**
 * Two shapes that broadcast together: a common shape, then per dim which side keeps it and which
 * gets 1, then how many leading dims each side drops. Built with map, not chain, so it shrinks well.
 */
export const broadcastPair = (): fc.Arbitrary<[number[], number[]]> =>
  fc.tuple(
    fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.constantFrom('both', 'left', 'right')), { minLength: 0, maxLength: 3 }),
    fc.nat({ max: 2 }),
    fc.nat({ max: 2 }),
  ).map(([dims, dropA, dropB]) => {
    const a = dims.map(([d, who]) => (who === 'right' ? 1 : d));
    const b = dims.map(([d, who]) => (who === 'left' ? 1 : d));
    const cut = (s: number[], k: number) => s.slice(Math.min(k, s.length));
    return [cut(a, dropA), cut(b, dropB)];
  });
