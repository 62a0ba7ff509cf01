import { describe, expect, test } from 'vitest';
import { referenceAdapter } from '../adapters/reference/index.ts';
import { loadFixtures } from '../cli/fixtures.ts';
import { runSuite } from '../cli/suite.ts';
import { PROPERTIES } from '../properties/index.ts';

/*
 * The conformance suite as mutation testing runs it: every fixture and every property through
 * the reference adapter, judged by the suite runner itself, one small test each. Small tests let
 * per-test coverage run only the checks that reach a mutated line. An engine mutant survives
 * only if the suite, not some unit test of engine internals, fails to notice it.
 *
 * Properties take the suite's default seed but 50 samples instead of 200 (MUTATION_RUNS changes
 * it): a static mutant (the op table is built when the module loads) runs every test, so the
 * whole set must stay cheap. The score is a lower bound on what `gradspec check` kills.
 */
const runs = Number(process.env.MUTATION_RUNS ?? 50);

const failures = (report: Awaited<ReturnType<typeof runSuite>>) =>
  report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.status} ${c.message ?? JSON.stringify(c.mismatches)}`);

describe('fixtures on the reference engine', () => {
  test.each(loadFixtures().map((f) => [f.fixture.id, f] as const))('%s', async (_id, f) => {
    expect(failures(await runSuite(referenceAdapter, [f]))).toEqual([]);
  });
});

describe('properties on the reference engine', () => {
  test.each(PROPERTIES.map((p) => [p.id, p] as const))('%s', async (_id, p) => {
    expect(failures(await runSuite(referenceAdapter, [], { runs, properties: [p] }))).toEqual([]);
  });
});
