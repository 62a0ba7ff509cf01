import type { Adapter } from '../adapters/types.ts';
import type { Fixture } from '../adapters/program/validate.ts';
import { toPytorch } from '../adapters/program/to-pytorch.ts';
import { compareObservations, type Mismatch } from '../oracles/observations.ts';
import { CLAUSES } from '../spec/clauses.ts';
import { expectationsFor } from './fixtures.ts';

export interface CheckResult {
  fixture: string;
  file: string;
  clauses: string[];
  status: 'pass' | 'fail';
  mismatches: Mismatch[];
  /** Recorded differences between the seed document and the engine's profile that were applied. */
  notes: string[];
  /** The program as code a user can paste to reproduce it. */
  repro: string;
}

export interface ClauseResult {
  id: string;
  status: 'pass' | 'fail' | 'unchecked';
  checks: number;
  failures: { fixture: string; file: string; mismatches: Mismatch[]; repro: string }[];
}

export interface Report {
  engine: { name: string; version: string; profile: string };
  seed: number;
  clauses: ClauseResult[];
  checks: CheckResult[];
  summary: { clauses: number; passed: number; failed: number; unchecked: number; checks: number; checksFailed: number };
}

export const DEFAULT_SEED = 20261126;

/** Runs every fixture through the adapter in one batch and judges the observations per clause. */
export async function runSuite(adapter: Adapter, fixtures: { file: string; fixture: Fixture }[], seed = DEFAULT_SEED): Promise<Report> {
  const observed = await adapter.run(fixtures.map((f) => f.fixture.program));
  const checks: CheckResult[] = fixtures.map(({ file, fixture }, i) => {
    const { expected, notes } = expectationsFor(fixture, adapter.capabilities.profile);
    const mismatches = compareObservations(expected, observed[i]!, adapter.capabilities.fields);
    return {
      fixture: fixture.id, file, clauses: fixture.clauses, status: mismatches.length ? 'fail' : 'pass',
      mismatches, notes, repro: toPytorch(fixture.program),
    };
  });
  const clauses: ClauseResult[] = CLAUSES.map((id) => {
    const citing = checks.filter((c) => c.clauses.includes(id));
    const failing = citing.filter((c) => c.status === 'fail');
    return {
      id,
      status: citing.length === 0 ? 'unchecked' : failing.length ? 'fail' : 'pass',
      checks: citing.length,
      failures: failing.map((c) => ({ fixture: c.fixture, file: c.file, mismatches: c.mismatches, repro: c.repro })),
    };
  });
  const count = (s: ClauseResult['status']) => clauses.filter((c) => c.status === s).length;
  return {
    engine: { name: adapter.name, version: adapter.version, profile: adapter.capabilities.profile },
    seed,
    clauses,
    checks,
    summary: {
      clauses: clauses.length, passed: count('pass'), failed: count('fail'), unchecked: count('unchecked'),
      checks: checks.length, checksFailed: checks.filter((c) => c.status === 'fail').length,
    },
  };
}
