import type { Adapter } from '../adapters/types.ts';
import type { Fixture } from '../adapters/program/validate.ts';
import { toPytorch } from '../adapters/program/to-pytorch.ts';
import { compareObservations, type Mismatch } from '../oracles/observations.ts';
import { PROPERTIES } from '../properties/index.ts';
import { checkProperty, DEFAULT_RUNS, DEFAULT_SEED, formatFailure, type AnyProperty } from '../properties/property.ts';
import { CLAUSES } from '../spec/clauses.ts';
import { expectationsFor } from './fixtures.ts';

/** One check of the suite: a fixture, or a property run over many samples. */
export interface CheckResult {
  kind: 'fixture' | 'property';
  id: string;
  /** The fixture's file, or `properties` for a property. */
  file: string;
  clauses: readonly string[];
  status: 'pass' | 'fail';
  /** Fixtures: the fields that differ. */
  mismatches: Mismatch[];
  /** Properties: the judge's message with seed, path and the shrunk program. */
  message?: string;
  /** Properties: samples run, and samples skipped because no oracle can judge them. */
  runs?: { run: number; skipped: number; seed: number; path?: string };
  /** Recorded differences between the seed document and the engine's profile that were applied. */
  notes: string[];
  /** The failing program as PyTorch code a user can paste. */
  repro: string;
}

export interface ClauseResult {
  id: string;
  status: 'pass' | 'fail' | 'unchecked';
  checks: number;
  failures: { kind: CheckResult['kind']; id: string; file: string; mismatches: Mismatch[]; message?: string; repro: string }[];
}

export interface Report {
  engine: { name: string; version: string; profile: string };
  seed: number;
  runs: number;
  clauses: ClauseResult[];
  checks: CheckResult[];
  summary: { clauses: number; passed: number; failed: number; unchecked: number; checks: number; checksFailed: number };
}

export { DEFAULT_SEED };

export interface SuiteOptions {
  seed?: number;
  runs?: number;
  path?: string;
  properties?: AnyProperty[];
  onProgress?: (done: number, total: number, what: string) => void;
}

/** Runs every fixture (in one batch) and every property through the adapter; judges per clause. */
export async function runSuite(adapter: Adapter, fixtures: { file: string; fixture: Fixture }[], options: SuiteOptions = {}): Promise<Report> {
  const seed = options.seed ?? DEFAULT_SEED;
  const runs = options.runs ?? DEFAULT_RUNS;
  const properties = options.properties ?? PROPERTIES;
  const total = fixtures.length + properties.length;
  const observed = await adapter.run(fixtures.map((f) => f.fixture.program));
  const checks: CheckResult[] = fixtures.map(({ file, fixture }, i) => {
    const { expected, notes } = expectationsFor(fixture, adapter.capabilities.profile);
    const mismatches = compareObservations(expected, observed[i]!, adapter.capabilities.fields);
    return {
      kind: 'fixture', id: fixture.id, file, clauses: fixture.clauses, status: mismatches.length ? 'fail' : 'pass',
      mismatches, notes, repro: toPytorch(fixture.program),
    };
  });
  options.onProgress?.(fixtures.length, total, 'fixtures');
  for (const [i, p] of properties.entries()) {
    const r = await checkProperty(p, adapter, { seed, numRuns: runs, ...(options.path ? { path: options.path } : {}) });
    checks.push({
      kind: 'property', id: p.id, file: 'properties', clauses: p.clauses, status: r.status, mismatches: [], notes: [],
      runs: { run: r.numRuns, skipped: r.skipped, seed, ...(r.path ? { path: r.path } : {}) },
      ...(r.status === 'fail' ? { message: formatFailure(r, adapter.name) } : {}),
      repro: (r.programs ?? []).map(toPytorch).join('\n'),
    });
    options.onProgress?.(fixtures.length + i + 1, total, p.id);
  }
  const clauses: ClauseResult[] = CLAUSES.map((id) => {
    const citing = checks.filter((c) => c.clauses.includes(id));
    const failing = citing.filter((c) => c.status === 'fail');
    return {
      id,
      status: citing.length === 0 ? 'unchecked' : failing.length ? 'fail' : 'pass',
      checks: citing.length,
      failures: failing.map((c) => ({
        kind: c.kind, id: c.id, file: c.file, mismatches: c.mismatches, ...(c.message ? { message: c.message } : {}), repro: c.repro,
      })),
    };
  });
  const count = (s: ClauseResult['status']) => clauses.filter((c) => c.status === s).length;
  return {
    engine: { name: adapter.name, version: adapter.version, profile: adapter.capabilities.profile },
    seed,
    runs,
    clauses,
    checks,
    summary: {
      clauses: clauses.length, passed: count('pass'), failed: count('fail'), unchecked: count('unchecked'),
      checks: checks.length, checksFailed: checks.filter((c) => c.status === 'fail').length,
    },
  };
}
