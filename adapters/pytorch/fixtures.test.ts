import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { expectationsFor, loadFixtures } from '../../cli/fixtures.ts';
import { compareObservations } from '../../oracles/observations.ts';
import { FIELDS } from '../types.ts';
import type { Observations } from '../../spec/program.ts';
import { hasTorch, PYTHON } from '../testing/has-torch.ts';

const SCRIPT = fileURLToPath(new URL('./run_program.py', import.meta.url));

// Without torch the reference engine is held to the recorded expectations alone; CI installs it,
// so there every fixture is re-checked on real PyTorch.
describe.skipIf(!hasTorch)('every fixture holds on real PyTorch 1.13', () => {
  const fixtures = loadFixtures();
  let observed: Observations[] = [];
  const ALL_FIELDS = [...FIELDS];

  test('program.observations one PyTorch process runs the whole corpus', () => {
    // The corpus's observations are more than spawnSync's default 1 MB of stdout.
    const r = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify(fixtures.map((f) => f.fixture.program)), encoding: 'utf8', timeout: 120_000, maxBuffer: 256 * 1024 * 1024 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    observed = JSON.parse(r.stdout) as Observations[];
    expect(observed).toHaveLength(fixtures.length);
  }, 120_000); // as long as the spawn may take: the corpus takes over 30 s on a busy machine

  test.each(fixtures.map((f, i) => [f.fixture.clauses[0]!, f.fixture.id, i] as const))('%s %s matches PyTorch', (_c, _id, i) => {
    const { fixture } = fixtures[i]!;
    expect(compareObservations(expectationsFor(fixture, 'pytorch-1.13').expected, observed[i]!, ALL_FIELDS)).toEqual([]);
  });
});
